"""The launched app driven through `gradio_client`, as an API user would: load a CSV, train (streaming progress),
stop, queue, evaluate, predict, label a CSV, list/download/delete runs, and two visitors kept apart."""

from __future__ import annotations

import csv
import json
import time
import zipfile
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from workbench import runs

EXAMPLE = Path(__file__).resolve().parents[2] / "workbench" / "ui" / "examples" / "reviews.csv"
STATUS = 4  # position of the job status (a JSON dict) in /train's outputs


def load(client: Client, path: Path) -> tuple:
    """Upload a CSV; the outputs are preview, text/label/feature dropdowns, summary, balance plot, warning."""
    return client.predict(handle_file(str(path)), api_name="/load_data")


def train_all(client: Client, **settings) -> list[tuple]:
    job = client.submit(api_name="/train", **settings)
    return [update for update in job] or [job.outputs()[-1]]


def start_long_bert(client: Client, tiny_bert_dir: Path):
    """A run that lasts minutes (6,000 steps of the tiny BERT), for tests that stop, queue behind or kill it."""
    return client.submit(model=str(tiny_bert_dir), epochs=2000, patience=0, api_name="/train")


def wait_for(job, predicate, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outputs = job.outputs()
        if outputs and predicate(outputs[-1][STATUS]):
            return outputs[-1][STATUS]
        time.sleep(0.2)
    raise AssertionError(f"condition not reached; last status: {job.outputs()[-1][STATUS] if job.outputs() else None}")


def test_train_mlp_then_predicts_and_evaluates(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    _, text, labels, _, _, task, _, summary, *_ = load(client, EXAMPLE)
    assert text["value"] == "review" and labels["value"] == ["sentiment"] and task["value"] == "auto"
    assert "54 rows" in summary
    statuses = [u[STATUS] for u in train_all(client, model="mlp")]
    assert statuses[-1]["status"] == "finished", statuses[-1]
    run_id = statuses[-1]["run_id"]
    probabilities = client.predict(run_id, "What a wonderful, moving film", api_name="/predict")
    assert set(probabilities) == {"negative", "neutral", "positive"}
    assert abs(sum(probabilities.values()) - 1) < 1e-4

    report = client.predict(run_id, None, api_name="/evaluate")[-1]
    assert report["labels"] == ["negative", "neutral", "positive"] and 0 <= report["accuracy"] <= 1
    assert sum(map(sum, report["confusion_matrix"])) == report["n"]

    rows = tmp_path / "to-label.csv"
    rows.write_text('review\n=HYPERLINK("http://x")\nA dull and boring mess\n', encoding="utf-8")
    labelled = client.predict(run_id, handle_file(str(rows)), api_name="/predict_csv")
    with open(labelled, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["predicted_label"] in {"negative", "neutral", "positive"} for r in table] == [True, True]
    assert table[0]["review"].startswith("'="), "a formula cell must be neutralised in the CSV we write back"

    listing = client.predict(api_name="/list_runs")[0]
    assert run_id in [row[0] for row in listing["data"]]
    archive = client.predict(run_id, api_name="/download_run")
    with pytest.raises(Exception, match="offline"):  # the app runs with HF_HUB_OFFLINE=1
        client.predict(run_id, "someone/reviews", "", api_name="/push_run")
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert f"{run_id}/model.safetensors" in names and f"{run_id}/run.json" in names


def test_streamed_progress_matches_events_file(app_url, app_runs_dir):
    client = Client(app_url, verbose=False)
    load(client, EXAMPLE)
    updates = train_all(client, model="mlp", epochs=3)
    final = updates[-1][STATUS]
    streamed = [u[STATUS]["last_event"] for u in updates if u[STATUS]["last_event"]]
    events_file = app_runs_dir / final["run_id"] / runs.EVENTS_FILE
    recorded = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert streamed[-1] == recorded[-1] and recorded[-1]["kind"] == "finished"
    for event in streamed:
        assert event in recorded  # every update the API showed is an event of the run's own record


def test_tiny_bert_trains_and_stop_keeps_the_run(app_url, tiny_bert_dir):
    client = Client(app_url, verbose=False)
    load(client, EXAMPLE)
    finished = train_all(client, model=str(tiny_bert_dir), epochs=2)[-1][STATUS]
    assert finished["status"] == "finished", finished

    job = start_long_bert(client, tiny_bert_dir)

    def streamed_steps() -> set[int]:
        # steps and epoch scores both say how far the run is (with 3 steps an epoch, most views end on a score)
        return {
            u[STATUS]["last_event"]["step"]
            for u in job.outputs()
            if u[STATUS]["last_event"] and u[STATUS]["last_event"]["kind"] in {"step", "evaluated"}
        }

    deadline = time.monotonic() + 60
    while len(streamed_steps()) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(streamed_steps()) >= 3, "progress updates must arrive while the run trains, not only at the end"
    began = time.monotonic()
    message = client.predict(api_name="/stop")
    stopped = wait_for(job, lambda s: s["status"] == "stopped", timeout=10)
    assert time.monotonic() - began < 5, message
    listing = client.predict(api_name="/list_runs")[0]["data"]
    assert [row[4] for row in listing if row[0] == stopped["run_id"]] == ["stopped"]
    assert client.predict(stopped["run_id"], "great fun", api_name="/predict")  # what was trained is usable


def test_second_training_waits_in_the_queue(app_url, tiny_bert_dir):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    load(first, EXAMPLE)
    load(second, EXAMPLE)
    long_job = start_long_bert(first, tiny_bert_dir)
    wait_for(long_job, lambda s: s["status"] == "running")
    queued = second.submit(model="mlp", epochs=2, api_name="/train")
    waiting = wait_for(queued, lambda s: True, timeout=30)
    assert waiting["status"] == "queued" and waiting["queue_position"] == 1
    assert "Waiting in the queue" in queued.outputs()[-1][0]
    first.predict(api_name="/stop")
    wait_for(queued, lambda s: s["status"] == "finished", timeout=120)


def test_visitors_of_a_shared_deployment_are_kept_apart(shared_app_url):
    alice, bob = Client(shared_app_url, verbose=False), Client(shared_app_url, verbose=False)
    load(alice, EXAMPLE)
    run_id = train_all(alice, model="mlp", epochs=2)[-1][STATUS]["run_id"]
    assert alice.predict(run_id, "fun", api_name="/predict")
    assert run_id in [row[0] for row in alice.predict(api_name="/list_runs")[0]["data"]]
    assert run_id not in [row[0] for row in bob.predict(api_name="/list_runs")[0]["data"]]
    for endpoint, args in (
        ("/predict", (run_id, "fun")),
        ("/evaluate", (run_id, None)),
        ("/download_run", (run_id,)),
        ("/push_run", (run_id, "bob/taken", "")),
        ("/delete_run", (run_id,)),
    ):
        with pytest.raises(Exception, match="no run"):
            bob.predict(*args, api_name=endpoint)
    assert alice.predict(run_id, "fun", api_name="/predict"), "Bob's attempts must not have touched Alice's run"
