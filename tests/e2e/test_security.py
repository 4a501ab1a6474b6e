"""Security of a shared deployment, through the API as a stranger would try it: typed model names never reach
server paths, run ids never leave the runs folder, two visitors never see, load, download, stop or watch each other's
work, Gradio serves no server file it was not given, the upload limits hold before a file is read, and a Hub token
in the environment never lands in a run folder, the log or an answer."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import APP_DIRS, start_app, stop_app
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from test_api import EXAMPLE, STATUS, load, train_all, wait_for

TOKEN = "hf_SecretTokenForTheTestsOnly0123456789"
MAX_ROWS = 500
SERVER_PATHS = [
    "../../etc/passwd",
    "/etc",
    "/etc/passwd",
    "~",
    "~/.cache/huggingface",
    "runs/escape",
    "./runs",
    "runs/visitors",
    "C:\\Windows",
]
BAD_RUN_IDS = ["../x", "..", "/etc/passwd", "20250101-120000-mlp-0123456789ab/../../x", "escape", "visitors"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secure-app")
    (folder / "runs").mkdir()
    (folder / "runs" / "escape").symlink_to("/etc")  # a link inside the runs folder that points out of it
    process, url = start_app(
        folder, WORKBENCH_SHARED="1", WORKBENCH_MAX_UPLOAD_MB="1", WORKBENCH_MAX_ROWS=str(MAX_ROWS), HF_TOKEN=TOKEN
    )
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def alice(app) -> tuple[Client, str]:
    """A visitor with a finished run."""
    client = Client(app, verbose=False)
    load(client, EXAMPLE)
    return client, train_all(client, model="mlp", epochs=2)[-1][STATUS]["run_id"]


@pytest.mark.parametrize("name", SERVER_PATHS)
def test_a_typed_model_name_never_reaches_a_server_path(app, alice, name):
    client, _ = alice
    for endpoint, args in (("/describe_model", (name,)), ("/train", ())):
        kwargs = {"model": name} if endpoint == "/train" else {}
        with pytest.raises(AppError, match="folders on the server cannot be used"):
            client.predict(*args, api_name=endpoint, **kwargs)


@pytest.mark.parametrize("run_id", BAD_RUN_IDS)
def test_run_ids_never_leave_the_runs_folder(alice, run_id, tmp_path):
    client, _ = alice
    rows = tmp_path / "rows.csv"
    rows.write_text("review\nfun\n")
    for endpoint, args in (
        ("/predict", (run_id, "fun")),
        ("/evaluate", (run_id, None)),
        ("/download_run", (run_id,)),
        ("/delete_run", (run_id,)),
        ("/predict_csv", (run_id, handle_file(str(rows)))),
        ("/compare", ([run_id, run_id], "fun", "")),
        ("/compare_file", ([run_id, run_id], handle_file(str(rows)))),
    ):
        with pytest.raises(AppError, match="is not a run id|There is no run"):
            client.predict(*args, api_name=endpoint)


def test_two_visitors_never_reach_each_others_work(app, alice, tmp_path):
    client, run_id = alice
    bob = Client(app, verbose=False)
    rows = tmp_path / "rows.csv"
    rows.write_text("review\nfun\n")
    with pytest.raises(AppError, match="There is no run"):
        bob.predict(run_id, handle_file(str(rows)), api_name="/predict_csv")
    with pytest.raises(AppError, match="There is no run"):
        bob.predict([run_id, run_id], "fun", "", api_name="/compare")
    archive = client.predict(run_id, api_name="/download_run")
    with zipfile.ZipFile(archive) as bundle:
        assert {name.split("/")[0] for name in bundle.namelist()} == {run_id}  # only that run, nothing around it

    job = client.submit(model="mlp", epochs=30_000, patience=0, api_name="/train")  # stopped below
    wait_for(job, lambda s: s["status"] == "running")
    assert bob.predict(api_name="/stop") == "No training is running."
    bob_watch = bob.submit(api_name="/watch")
    bob_watch.result(timeout=30)
    assert "job_id" not in repr(bob_watch.outputs()), "Bob must not see Alice's training"  # only empty updates
    assert job.outputs()[-1][STATUS]["status"] == "running", "Bob's stop must not stop Alice's training"
    client.predict(api_name="/stop")
    assert wait_for(job, lambda s: s["status"] == "stopped", timeout=30)


def test_gradio_serves_no_server_file_it_was_not_given(app, alice):
    _, run_id = alice
    run_json = APP_DIRS[app] / "runs" / "visitors"
    targets = ["/etc/passwd", str(next(run_json.rglob("run.json"))), str(APP_DIRS[app] / "app.log")]
    for target in targets:
        for url in (f"{app}gradio_api/file={target}", f"{app}file={target}"):
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read()
                assert b"root:" not in body and b'"status"' not in body, f"{url} served a server file"
            except urllib.error.HTTPError as refused:
                assert refused.code in (403, 404), (url, refused.code)


def test_an_api_client_cannot_hand_in_a_server_path_as_an_upload(app):
    """Raw HTTP, as gradio_client on the same machine would upload a local path itself rather than send it."""
    secret = APP_DIRS[app] / "secret.csv"  # a CSV on the server that nobody uploaded, in the app's own folder
    secret.write_text("review,sentiment\n" + "".join(f"secret {i},pos\nsecret {i},neg\n" for i in range(20)))
    for path in ("/etc/passwd", str(secret)):
        posted = httpx.post(
            f"{app}gradio_api/call/load_data",
            timeout=30,
            json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]},
        )
        stream = httpx.get(f"{app}gradio_api/call/load_data/{posted.json()['event_id']}", timeout=30).text
        assert "event: error" in stream and "secret 1" not in stream and "root:" not in stream, stream[:500]


def test_upload_limits_hold_before_the_file_is_read(app, tmp_path):
    client = Client(app, verbose=False)
    too_many = tmp_path / "too_many_rows.csv"
    too_many.write_text("review,sentiment\n" + "".join(f"fun {i},pos\nawful {i},neg\n" for i in range(MAX_ROWS)))
    with pytest.raises(AppError, match=f"more than {MAX_ROWS} rows"):
        load(client, too_many)
    too_big = ("review,sentiment\n" + "a long review " * 100_000 + ",pos\n").encode()  # 1.4 MB, over 1 MB
    with pytest.raises(ValueError, match="exceeds the maximum file size"):  # gradio_client checks before sending
        load(client, write(tmp_path / "too_big.csv", too_big))
    refused = httpx.post(f"{app}gradio_api/upload", files={"files": ("too_big.csv", too_big, "text/csv")}, timeout=30)
    assert refused.status_code == 413, refused.text  # and the server refuses it anyway, for any other client
    assert client.predict(api_name="/list_runs"), "the server must still answer"


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_the_hub_token_is_never_written_or_shown(app, alice):
    client, run_id = alice
    answers = [client.predict(api_name="/list_runs"), client.predict(run_id, None, api_name="/evaluate")]
    assert TOKEN not in repr(answers)
    folder = APP_DIRS[app]
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        assert TOKEN.encode() not in path.read_bytes(), f"the token was written to {path}"
    assert os.environ.get("HF_TOKEN") != TOKEN  # the test process itself never held it
