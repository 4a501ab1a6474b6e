"""A real launched app for the end-to-end tests: `python app.py` in a subprocess on a free loopback port, with its
own runs folder, offline, as a user would start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS: dict[str, Path] = {}  # url -> the folder the app runs in (its runs are in <folder>/runs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(tmp_path: Path, script: Path = ROOT / "app.py", **env: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "WORKBENCH_RUNS_DIR": str(tmp_path / "runs"),
        **env,
    }
    log = open(tmp_path / "app.log", "w")
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited: {(tmp_path / 'app.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    APP_DIRS[url] = tmp_path
                    return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the app did not answer within 120 s")


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    """A local (single-user) launch."""
    folder = tmp_path_factory.mktemp("app")
    process, url = start_app(folder)
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def shared_app_url(tmp_path_factory: pytest.TempPathFactory):
    """A shared deployment, as on a public Space: visitors are kept apart."""
    folder = tmp_path_factory.mktemp("shared-app")
    process, url = start_app(folder, WORKBENCH_SHARED="1")
    yield url
    stop_app(process)


@pytest.fixture
def app_runs_dir(app_url: str) -> Path:
    return APP_DIRS[app_url] / "runs"
