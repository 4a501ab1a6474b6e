"""Every file of the hostile corpus (tests/corpus/make_corpus.py) through the launched app, as an API client sends
it: `/load_data`, then `/train` with the MLP for the files that load. Each either works, or fails with one readable
sentence (a gradio AppError, no traceback); the preview stays capped, and the server answers afterwards."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from test_api import STATUS, load, train_all, wait_for

from workbench.ui.data_tab import NOT_READY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus"))
from make_corpus import CORPUS, make_corpus, settings_of  # noqa: E402

SUMMARY = 7  # position of the data summary in /load_data's outputs
PREVIEW_ROWS, PREVIEW_CHARS = 20, 201  # the Data tab shows at most 20 rows of at most 200 characters and "…"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def client(app_url) -> Client:
    return Client(app_url, verbose=False)


def assert_one_readable_sentence(message: str) -> None:
    assert message and "Traceback" not in message and "\n" not in message.strip(), message
    assert len(message) < 400 and message.rstrip().endswith("."), message


@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus_file_works_or_gets_one_sentence_and_the_server_stays_up(name, corpus, client):
    expected_error, settings = CORPUS[name][1], settings_of(name)
    began = time.monotonic()
    if expected_error is not None:
        message = refusal(client, corpus[name], settings)
        assert expected_error in message
        assert_one_readable_sentence(message)
    else:
        outputs = load(client, corpus[name])
        if settings:
            set_columns(client, outputs, settings)
        preview = outputs[0]
        loaded = time.monotonic() - began
        assert 0 < len(preview["data"]) <= PREVIEW_ROWS
        assert all(len(str(cell)) <= PREVIEW_CHARS for row in preview["data"] for cell in row)
        if name == "rows_100k.csv":
            print(f"\n100k rows: /load_data answered in {loaded:.1f}s")
            train_then_stop(client)
        else:
            final = train_all(client, model="mlp", epochs=1)[-1][STATUS]
            assert final["status"] == "finished", final
            if name == "formulas.csv":
                assert_labelled_csv_is_neutralised(client, final["run_id"], corpus[name])
    assert isinstance(client.predict(api_name="/list_runs"), tuple), "the server must still answer"


def refusal(client: Client, path: Path, settings: dict) -> str:
    """Why a file cannot train: a file that cannot be read is refused (an AppError); data that cannot train with
    the chosen columns or task still loads, so that they can be changed, and says why in place of its summary."""
    try:
        outputs = load(client, path)
        summary = set_columns(client, outputs, settings)[0] if settings else outputs[SUMMARY]
    except AppError as refused:
        return str(refused)
    assert summary.startswith(NOT_READY), summary
    job = train_all(client, model="mlp", epochs=1)[-1][STATUS]  # and training says the same
    assert job["status"] == "failed" and job["error"] in summary, job
    return summary.removeprefix(NOT_READY).strip()


def set_columns(client: Client, loaded: tuple, settings: dict) -> tuple:
    """/set_columns with the detected choices of `loaded` (the /load_data outputs), changed as `settings` say."""
    text, labels, features = (loaded[i]["value"] for i in (1, 2, 3))
    return client.predict(
        settings.get("text_column", text),
        list(settings.get("label_columns", labels)),
        features,
        settings.get("text_pair_column", "(none)"),
        settings.get("task", "auto"),
        settings.get("label_separator", "auto"),
        api_name="/set_columns",
    )


def train_then_stop(client: Client) -> None:
    """Training on 100,000 rows starts, and stops when asked (training it through would take minutes)."""
    job = client.submit(model="mlp", epochs=1, api_name="/train")
    running = wait_for(
        job, lambda s: s["status"] == "running" and (s["last_event"] or {}).get("kind") == "step", timeout=180
    )
    assert running["last_event"]["total_steps"] == -(-98_000 // 64)  # all but 2,000 validation rows, batches of 64
    client.predict(api_name="/stop")
    assert wait_for(job, lambda s: s["status"] == "stopped", timeout=60)["run_id"] == running["run_id"]


def assert_labelled_csv_is_neutralised(client: Client, run_id: str, path: Path) -> None:
    labelled = client.predict(run_id, handle_file(str(path)), api_name="/predict_csv")
    with open(labelled, newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    formulas = [c for c in cells if c[:1] in "=+-@" and not is_number(c)]
    assert not formulas, formulas[:5]
    assert any(c.startswith("'=HYPERLINK") for c in cells) and any(c.startswith("'@SUM") for c in cells)


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
