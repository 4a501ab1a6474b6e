"""Labelling a large file in the launched app (`gradio_client`, as the Predict tab does it): the job reports its
progress in rows with the rate and the time left, and a cancelled labelling stops within a batch and writes no file
(the app's temporary folder is watched)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from conftest import start_app, stop_app
from gradio_client import Client, handle_file
from test_api_tasks import trained_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus"))
from make_corpus import many_rows, reviews  # noqa: E402

ROWS = 40_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labelling-app")
    (folder / "tmp").mkdir()
    process, url = start_app(folder, TMPDIR=str(folder / "tmp"))
    yield url, folder / "tmp"
    stop_app(process)


def labelled_files(tmp: Path) -> list[Path]:
    return list(tmp.glob("workbench-predictions-*/*"))


def test_a_cancelled_labelling_reports_progress_and_writes_nothing(app, tmp_path):
    url, tmp = app
    client = Client(url, verbose=False)
    (tmp_path / "small.csv").write_text(reviews(200))
    (tmp_path / "big.csv").write_text(many_rows(ROWS))
    client.predict(handle_file(str(tmp_path / "small.csv")), api_name="/load_data")
    run_id = trained_run(client, epochs=2)

    job = client.submit(run_id, handle_file(str(tmp_path / "big.csv")), api_name="/predict_csv")
    progress = wait_for_progress(job)
    assert progress.unit == "rows" and progress.length == ROWS and 0 < progress.index < ROWS
    assert "rows/s, about" in progress.desc and "s left" in progress.desc
    job.cancel()
    rate = float(re.search(r"([\d,.]+) rows/s", progress.desc)[1].replace(",", ""))
    time.sleep(min(30, 3 + 2 * (ROWS - progress.index) / rate))  # well past where the labelling would have ended

    assert labelled_files(tmp) == []
    labelled = client.predict(run_id, handle_file(str(tmp_path / "small.csv")), api_name="/predict_csv")
    assert [f.name for f in labelled_files(tmp)] == [Path(labelled).name]  # the watch sees one not cancelled


def wait_for_progress(job, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = job.status().progress_data
        if data and data[0].index:
            return data[0]
        time.sleep(0.1)
    raise AssertionError(f"no progress within {timeout} s: {job.status()}")
