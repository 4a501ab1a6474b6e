"""Faults against the launched app: a crash inside one training (an out-of-memory error) fails that run with a
readable reason while the app goes on serving; a server killed with SIGKILL mid-training and started again on the
same runs folder shows every finished run intact and the killed one as interrupted, and loads no damaged file.
(Stopping within ~2 s and the queue are tested in test_api.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import start_app, stop_app
from gradio_client import Client
from gradio_client.exceptions import AppError
from test_api import EXAMPLE, STATUS, load, start_long_bert, train_all, wait_for

from workbench import runs
from workbench.predict import Predictor

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def faulty_app_url(tmp_path_factory):
    process, url = start_app(tmp_path_factory.mktemp("faulty-app"), script=HERE / "faulty_app.py")
    yield url
    stop_app(process)


def statuses(client: Client) -> dict[str, str]:
    return {row[0]: row[4] for row in client.predict(api_name="/list_runs")[0]["data"]}


def test_out_of_memory_fails_that_run_only_and_the_app_keeps_serving(faulty_app_url):
    client, other = Client(faulty_app_url, verbose=False), Client(faulty_app_url, verbose=False)
    load(client, EXAMPLE)
    good = train_all(client, model="mlp", epochs=2)[-1][STATUS]
    assert good["status"] == "finished", good

    crashed = train_all(client, model="mlp", epochs=2, hidden_size=13)[-1][STATUS]

    assert crashed["status"] == "failed"
    assert (
        crashed["error"].startswith("Out of memory with batch size") and "try a smaller batch size" in crashed["error"]
    )
    assert "\n" not in crashed["error"] and "Traceback" not in crashed["error"]
    assert statuses(client)[crashed["run_id"]] == "failed"
    assert other.predict(good["run_id"], "a wonderful film", api_name="/predict"), "the app must keep serving"
    with pytest.raises(AppError, match="is failed; only finished or stopped runs"):
        other.predict(crashed["run_id"], "a wonderful film", api_name="/predict")
    again = train_all(client, model="mlp", epochs=2)[-1][STATUS]  # the training worker survived the crash
    assert again["status"] == "finished", again


def test_kill_9_mid_training_then_restart_keeps_finished_runs_and_shows_the_interrupted_one(tmp_path, tiny_bert_dir):
    process, url = start_app(tmp_path)
    client = Client(url, verbose=False)
    load(client, EXAMPLE)
    finished = train_all(client, model="mlp", epochs=2)[-1][STATUS]["run_id"]
    job = start_long_bert(client, tiny_bert_dir)
    # mid-training: a step or an epoch's scores streamed (with 3 steps an epoch most views end on the scores)
    killed = wait_for(job, lambda s: (s["last_event"] or {}).get("kind") in {"step", "evaluated"})
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    root = tmp_path / "runs"
    damaged_record, damaged_weights = plant_damaged_runs(root, finished)
    process, url = start_app(tmp_path)
    try:
        client = Client(url, verbose=False)
        listed = statuses(client)
        assert listed[finished] == "finished" and listed[killed["run_id"]] == "interrupted"
        assert damaged_record not in listed, "a run whose record is cut short must not be listed"
        assert client.predict(finished, "a wonderful film", api_name="/predict")
        with pytest.raises(AppError, match="is interrupted; only finished or stopped runs"):
            client.predict(killed["run_id"], "a wonderful film", api_name="/predict")
        with pytest.raises(AppError, match="damaged"):
            client.predict(damaged_weights, "a wonderful film", api_name="/predict")
        with pytest.raises(ValueError, match="is interrupted"):
            Predictor.load(root / killed["run_id"])
        assert client.predict(killed["run_id"], api_name="/delete_run").startswith("Deleted")  # it can be cleaned up
    finally:
        stop_app(process)


def plant_damaged_runs(root: Path, finished: str) -> tuple[str, str]:
    """Two copies of a finished run as a crash could leave them: the record cut short, the weights cut short."""
    stamp = finished.rsplit("-", 1)[0]
    damaged_record, damaged_weights = f"{stamp}-aaaaaaaaaaaa", f"{stamp}-bbbbbbbbbbbb"
    for name in (damaged_record, damaged_weights):
        shutil.copytree(root / finished, root / name)
        record = json.loads((root / name / runs.RUN_FILE).read_text())
        (root / name / runs.RUN_FILE).write_text(json.dumps({**record, "id": name}))
    (root / damaged_record / runs.RUN_FILE).write_text('{"id": "cut short", "status": "fini')
    weights = root / damaged_weights / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    return damaged_record, damaged_weights
