"""Deployment read from the environment, as Hugging Face Spaces, Docker or a laptop set it: the shared mode on a
Space, runs and the Hugging Face cache in persistent storage where there is one, and ZeroGPU's `spaces.GPU`
wrapped around the training only where the `spaces` package exists."""

import json
import sys
import time
from pathlib import Path

import pytest

from workbench import deployment

DEPLOYMENT_VARIABLES = (
    "SPACE_ID",
    "SYSTEM",
    "WORKBENCH_SHARED",
    "WORKBENCH_STORAGE",
    "WORKBENCH_RUNS_DIR",
    "WORKBENCH_MAX_UPLOAD_MB",
    "WORKBENCH_MAX_ROWS",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No deployment variables, a working folder of our own, and no /data to find."""
    for name in DEPLOYMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(deployment, "SPACE_STORAGE", tmp_path / "no-such-mount")
    return monkeypatch


def settings():
    from workbench.ui.settings import AppSettings

    return AppSettings.from_env()


def test_a_laptop_is_local_with_runs_here(clean_env, tmp_path):
    found = settings()
    assert found.shared is False
    assert found.runs_dir == tmp_path / "runs"
    assert deployment.storage_dir() is None
    assert (found.max_upload_mb, found.max_rows) == (50, 200_000)


@pytest.mark.parametrize("variables", [{"SPACE_ID": "someone/workbench"}, {"SYSTEM": "spaces"}])
def test_a_space_is_shared_with_upload_limits(clean_env, variables):
    for name, value in variables.items():
        clean_env.setenv(name, value)
    clean_env.setenv("WORKBENCH_MAX_UPLOAD_MB", "5")
    found = settings()
    assert found.shared is True
    assert found.max_upload_mb == 5
    assert found.workspace("visitor-a") != found.workspace("visitor-b")  # visitors kept apart


def test_shared_mode_can_be_forced_either_way(clean_env):
    clean_env.setenv("SPACE_ID", "someone/workbench")
    clean_env.setenv("WORKBENCH_SHARED", "0")
    assert settings().shared is False
    clean_env.delenv("SPACE_ID")
    clean_env.setenv("WORKBENCH_SHARED", "1")
    assert settings().shared is True


def test_a_space_with_persistent_storage_keeps_runs_and_the_cache_there(clean_env, tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    clean_env.setattr(deployment, "SPACE_STORAGE", mount)
    clean_env.setenv("SPACE_ID", "someone/workbench")
    clean_env.delenv("HF_HOME", raising=False)
    assert deployment.use_persistent_storage() == mount
    assert settings().runs_dir == mount / "runs"
    import os

    assert os.environ["HF_HOME"] == str(mount / "huggingface")


def test_data_folder_counts_only_on_a_space_and_only_when_writable(clean_env, tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    clean_env.setattr(deployment, "SPACE_STORAGE", mount)
    assert deployment.storage_dir() is None  # not on a Space: a /data folder is someone else's
    clean_env.setenv("SYSTEM", "spaces")
    clean_env.setattr(deployment, "_writable_dir", lambda path: False)
    assert deployment.storage_dir() is None  # a Space without persistent storage has no writable /data


def test_named_storage_wins_and_an_explicit_runs_folder_wins_over_it(clean_env, tmp_path):
    clean_env.setenv("WORKBENCH_STORAGE", str(tmp_path / "bucket"))
    clean_env.setenv("HF_HOME", str(tmp_path / "my-cache"))
    assert deployment.use_persistent_storage() == tmp_path / "bucket"
    assert settings().runs_dir == tmp_path / "bucket" / "runs"
    import os

    assert os.environ["HF_HOME"] == str(tmp_path / "my-cache")  # the user's own cache setting is kept
    clean_env.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert settings().runs_dir == tmp_path / "elsewhere"
    clean_env.setenv("WORKBENCH_STORAGE", "")
    clean_env.delenv("WORKBENCH_RUNS_DIR")
    assert settings().runs_dir == tmp_path / "runs"


def test_the_app_entry_point_sets_the_cache_before_gradio_is_imported():
    source = (Path(__file__).parents[1] / "app.py").read_text()
    assert source.index("use_persistent_storage()") < source.index("from workbench.ui")


# --- ZeroGPU ---------------------------------------------------------------------------------------------------


def train_one_job(manager, digits_csv, tmp_path) -> dict:
    from workbench.config import DataSpec, TrainConfig

    job = manager.submit(
        "someone",
        DataSpec(path=str(digits_csv)),
        TrainConfig(model="mlp", epochs=1, patience=0, output=str(tmp_path / "runs")),
    )
    assert job.done.wait(120)
    return job


def test_without_spaces_the_training_runs_unwrapped(monkeypatch, digits_csv, tmp_path):
    from workbench import jobs

    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError
    manager = jobs.JobManager()
    assert manager._training_events is jobs.training_events
    assert train_one_job(manager, digits_csv, tmp_path).status == "finished"


class VisitorRequest:
    headers = {"x-ip-token": "visitor-token"}


def submit_as_visitor(manager, *args):
    """Submit as the app's /train handler does: in the context of the visitor's Gradio request."""
    from gradio.context import LocalContext

    token = LocalContext.request.set(VisitorRequest())
    try:
        return manager.submit("someone", *args)
    finally:
        LocalContext.request.reset(token)


def test_on_zerogpu_the_training_runs_forked_streams_back_and_uses_the_visitors_quota(
    monkeypatch, digits_csv, tmp_path
):
    import fake_zerogpu

    from workbench import jobs
    from workbench.config import DataSpec, TrainConfig
    from workbench.events import Finished, Step

    monkeypatch.setitem(sys.modules, "spaces", fake_zerogpu)
    monkeypatch.setenv("WORKBENCH_GPU_SECONDS", "120")
    config = TrainConfig(model="mlp", time_budget=1, output=str(tmp_path / "runs"))

    job = submit_as_visitor(jobs.JobManager(), DataSpec(path=str(digits_csv)), config)

    assert job.done.wait(120) and job.status == "finished", job.error
    assert any(isinstance(e, Step) for e in job.events) and isinstance(job.events[-1], Finished)
    # the lease covers the budget and the start; the quota is the visitor's, read in the submitting context
    assert fake_zerogpu.calls[-1] == {"duration": 90, "ip_token": "visitor-token"}


def test_on_zerogpu_a_budget_longer_than_the_lease_is_shortened_to_fit_it(monkeypatch):
    from workbench import jobs
    from workbench.config import TrainConfig

    monkeypatch.setenv("WORKBENCH_GPU_SECONDS", "90")  # 30 s of it to start

    assert jobs.within_lease(TrainConfig(time_budget=60)).time_budget == 1.0
    assert jobs.within_lease(TrainConfig(time_budget=0)).time_budget == 1.0  # "no limit" cannot outlast a lease
    assert jobs.within_lease(TrainConfig(time_budget=0.5)).time_budget == 0.5
    assert jobs.within_lease(TrainConfig(epochs=3)).time_budget == 5.0  # given epochs: no budget applies


def test_on_zerogpu_stop_reaches_the_forked_training_within_seconds(monkeypatch, digits_csv, tmp_path):
    import fake_zerogpu

    from workbench import jobs
    from workbench.config import DataSpec, TrainConfig
    from workbench.events import Step

    monkeypatch.setitem(sys.modules, "spaces", fake_zerogpu)
    config = TrainConfig(model="mlp", epochs=2000, patience=0, output=str(tmp_path / "runs"))
    job = submit_as_visitor(jobs.JobManager(), DataSpec(path=str(digits_csv)), config)
    deadline = time.monotonic() + 120
    while not any(isinstance(e, Step) for e in job.events) and time.monotonic() < deadline:
        time.sleep(0.05)

    job.stop()
    asked = time.monotonic()

    assert job.done.wait(60) and job.status == "stopped", job.error
    assert time.monotonic() - asked < 10
    record = json.loads((Path(job.run_dir) / "run.json").read_text())
    assert record["status"] == "stopped" and 0 < record["steps"] < job.events[0].total_steps
