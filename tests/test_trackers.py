"""Experiment trackers: a run reports its settings, its loss and learning rate, and each epoch's validation scores to
TensorBoard (inside the run folder) and Trackio (locally), named by its run id; trackers end however the run ends;
a missing package or an unknown name is one sentence before anything trains; a run that reports nowhere makes no
tracker. Also the `--report-to` flag and the Train form's boxes to tick."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
import yaml
from engine_helpers import of_kind, run_to_end

from workbench import jobs, trackers
from workbench.cli import _split_args, build_parser
from workbench.config import TRACKERS, DataSpec, TrainConfig
from workbench.events import Evaluated, Finished, Started, Step, started_of
from workbench.train import TrainingRun, train
from workbench.ui.settings_form import create_settings_form, read_settings


def tiny_config(tmp_path: Path, **changes) -> TrainConfig:
    return TrainConfig(model="mlp", epochs=2, hidden_size=32, patience=0, output=str(tmp_path / "runs"), **changes)


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard shows for a run: (step, value) by tag."""
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    reader = event_accumulator.EventAccumulator(str(folder))
    reader.Reload()
    return {tag: [(e.step, e.value) for e in reader.Scalars(tag)] for tag in reader.Tags()["scalars"]}


# ---------------------------------------------------------------------------------------------- TensorBoard


def test_tensorboard_keeps_the_settings_loss_learning_rate_and_scores_in_the_run_folder(digits_data, tmp_path):
    pytest.importorskip("tensorboard")

    events = run_to_end(tiny_config(tmp_path, report_to=("tensorboard",)), digits_data)

    started, run_dir = events[0], Path(started_of(events).run_dir)
    assert isinstance(started, Started) and isinstance(events[-1], Finished)
    logs = run_dir / trackers.LOGS_DIR / trackers.PROJECT  # kept with the run, named by the run's folder
    shown = scalars(logs)
    steps = of_kind(events, Step)
    assert [step for step, _ in shown["train/loss"]] == [e.step for e in steps]
    assert [value for _, value in shown["train/loss"]] == pytest.approx([e.loss for e in steps])
    assert [value for _, value in shown["train/learning_rate"]] == pytest.approx([e.learning_rate for e in steps])
    epochs = of_kind(events, Evaluated)
    assert [value for _, value in shown["eval/f1_macro"]] == pytest.approx([e.scores["f1_macro"] for e in epochs])
    assert [step for step, _ in shown["eval/loss"]] == [e.step for e in epochs]
    assert shown["final/accuracy"][0][1] == pytest.approx(events[-1].metrics["accuracy"])
    [hparams_file] = logs.glob("*/hparams.yml")
    settings = yaml.safe_load(hparams_file.read_text())
    assert settings["epochs"] == 2 and settings["hidden_size"] == 32 and settings["report_to"] == "tensorboard"
    assert settings["model/kind"] == "mlp" and settings["data/task"] == "single-label"
    assert settings["data/train_rows"] == len(digits_data.train) and settings["data/label_column"] == "digit"
    assert settings["lr"] > 0  # the learning rate the run chose, not the empty "auto"


def stop_after(calls: int):
    count = {"n": 0}

    def should_stop() -> bool:
        count["n"] += 1
        return count["n"] > calls

    return should_stop


def crash_after(calls: int, monkeypatch) -> None:
    original, count = TrainingRun.train_step, {"n": 0}

    def crashing_step(self, batch):
        count["n"] += 1
        if count["n"] > calls:
            raise RuntimeError("simulated disk on fire")
        return original(self, batch)

    monkeypatch.setattr(TrainingRun, "train_step", crashing_step)


@pytest.mark.parametrize("ending", ["finished", "stopped", "failed", "abandoned"])
def test_the_trackers_end_however_the_run_ends(ending, digits_data, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from accelerate.tracking import TensorBoardTracker

    ended, original_finish = [], TensorBoardTracker.finish
    monkeypatch.setattr(TensorBoardTracker, "finish", lambda self: ended.append(original_finish(self)))
    config = tiny_config(tmp_path, report_to=("tensorboard",))
    if ending == "failed":
        crash_after(3, monkeypatch)
    if ending == "abandoned":  # a closed browser tab: the consumer stops reading mid-run
        stream = train(config, digits_data)
        next(stream), next(stream)
        stream.close()
    else:
        events = run_to_end(config, digits_data, stop_after(3) if ending == "stopped" else None)
        assert events[-1].kind == ending

    assert len(ended) == 1


def test_a_run_that_reports_nowhere_makes_no_tracker(digits_data, tmp_path, monkeypatch):
    from accelerate import Accelerator

    monkeypatch.setattr(Accelerator, "init_trackers", lambda *a, **k: pytest.fail("a tracker was started"))
    monkeypatch.setattr(Accelerator, "log", lambda *a, **k: pytest.fail("something was logged"))

    events = run_to_end(tiny_config(tmp_path), digits_data)

    assert isinstance(events[-1], Finished)
    assert not (Path(started_of(events).run_dir) / trackers.LOGS_DIR).exists()


def test_a_job_in_the_app_reports_too(digits_csv, tmp_path):
    pytest.importorskip("tensorboard")
    manager = jobs.JobManager()

    job = manager.submit("someone", DataSpec(path=str(digits_csv)), tiny_config(tmp_path, report_to=("tensorboard",)))

    assert job.done.wait(120) and job.status == "finished", job.error
    assert "train/loss" in scalars(Path(job.run_dir) / trackers.LOGS_DIR / trackers.PROJECT)


# ---------------------------------------------------------------------------------------------- Trackio


def test_trackio_records_the_run_locally_under_its_run_id(digits_csv, tmp_path, monkeypatch):
    """Through the CLI in a process of its own, as a user runs it: trackio reads its folder when imported."""
    pytest.importorskip("trackio")
    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "trackio"))
    for name in ("TRACKIO_SPACE_ID", "TRACKIO_SERVER_URL", "TRACKIO_BUCKET_ID", "TRACKIO_DATASET_ID"):
        monkeypatch.delenv(name, raising=False)  # local only: no Space, no server
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    train_args = ["--data", digits_csv, "--model", "mlp", "--epochs", "2", "--hidden-size", "32"]
    args = ["train", *train_args, "--report-to", "trackio", "--output", tmp_path / "runs"]
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *map(str, args)], env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])  # trackio's notices never come after the result
    run_id = Path(result["run_dir"]).name
    read_back = (
        "import json\nfrom trackio.sqlite_storage import SQLiteStorage as S\n"
        "runs = S.get_runs('workbench')\n"
        "print(json.dumps({'runs': runs, 'logs': S.get_logs('workbench', runs[-1]), "
        "'config': S.get_run_config('workbench', runs[-1])}))"
    )
    stored = json.loads(
        subprocess.run([sys.executable, "-c", read_back], env=env, capture_output=True, text=True, check=True).stdout
    )
    assert stored["runs"] == [run_id]
    assert (tmp_path / "trackio" / "workbench.db").is_file()
    logs = stored["logs"]
    steps = json.loads((Path(result["run_dir"]) / "run.json").read_text())["steps"]
    assert [row["step"] for row in logs if "train/loss" in row] == list(range(1, steps + 1))  # every step reported
    assert all(row["train/learning_rate"] >= 0 for row in logs if "train/loss" in row)
    assert len([row for row in logs if "eval/f1_macro" in row]) == 2  # one per epoch
    assert any(row.get("final/f1_macro") == pytest.approx(result["metrics"]["f1_macro"]) for row in logs)
    config = stored["config"]
    assert config["epochs"] == 2 and config["model/kind"] == "mlp" and config["data/label_column"] == "digit"


# ---------------------------------------------------------------------------------------------- choosing trackers


@pytest.mark.parametrize("name", ["mlflow", "wandb"])
def test_a_missing_package_is_named_before_anything_trains(name, digits_data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, name, None)  # as if not installed, whether it is or not

    with pytest.raises(ValueError) as error:
        next(train(tiny_config(tmp_path, report_to=("tensorboard", name)), digits_data))

    assert str(error.value) == (
        f"Reporting to {name} needs the {name} package: pip install {name} (or pip install '.[trackers]')."
    )
    assert not (tmp_path / "runs").exists()  # no run folder was made


def test_tensorboard_needs_its_package(monkeypatch):
    for module in ("tensorboard", "tensorboardX"):
        monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(ValueError, match=r"^Reporting to tensorboard needs the tensorboard package: pip install"):
        trackers.require_packages(("tensorboard",))


def test_an_unknown_tracker_is_one_sentence_listing_the_choices():
    with pytest.raises(ValueError) as error:
        TrainConfig(report_to="tensorbord")

    assert str(error.value) == "report_to must be among tensorboard, trackio, mlflow, wandb or none (got 'tensorbord')."


def test_tracker_names_are_normalised_and_none_is_none():
    assert TrainConfig().report_to == ()
    assert TrainConfig(report_to="none").report_to == ()
    assert TrainConfig(report_to=["TensorBoard, trackio", "tensorboard"]).report_to == ("tensorboard", "trackio")
    config = TrainConfig(report_to="wandb")
    assert dataclasses.replace(config, epochs=3).report_to == ("wandb",)
    assert set(trackers.PACKAGES) == set(TRACKERS)


@pytest.mark.parametrize(
    "flags, chosen",
    [
        ([], ()),
        (["--report-to", "none"], ()),
        (["--report-to", "tensorboard"], ("tensorboard",)),
        (["--report-to", "tensorboard", "--report-to", "trackio,wandb"], ("tensorboard", "trackio", "wandb")),
    ],
)
def test_the_report_to_flag_repeats_and_takes_commas(flags, chosen):
    args = build_parser().parse_args(["train", "--data", "reviews.csv", *flags])

    assert _split_args(args)[1].report_to == chosen


def test_the_train_form_offers_each_tracker_as_a_box_to_tick():
    with gr.Blocks():
        form = create_settings_form(["auto"])

    boxes = form["report_to"]
    assert isinstance(boxes, gr.CheckboxGroup) and boxes.label == "Report to"
    assert [choice[1] for choice in boxes.choices] == list(TRACKERS) and boxes.value == []
    assert read_settings({"report_to": ["trackio", "tensorboard"]}, TrainConfig).report_to == ("trackio", "tensorboard")
    assert read_settings({"report_to": []}, TrainConfig).report_to == ()
    assert read_settings({"report_to": "mlflow, wandb"}, TrainConfig).report_to == ("mlflow", "wandb")  # an API client


def test_the_tracker_config_is_flat_and_plain():
    record = {
        "config": {"lr": 1e-3, "epochs": 2, "max_length": None, "report_to": ("tensorboard", "trackio")},
        "model": {"name": "mlp", "kind": "mlp", "parameters": 100},
        "data": {"task": "single-label", "feature_columns": ["a", "b"], "train_rows": 8, "class_counts": {"x": 4}},
        "labels": ["x", "y"],
        "device": "cpu",
        "precision": "no",
    }

    flat = trackers.tracker_config(record)

    assert flat["report_to"] == "tensorboard, trackio" and "max_length" not in flat  # None: nothing to report
    assert flat["model/kind"] == "mlp" and flat["data/feature_columns"] == "a, b" and flat["data/labels"] == 2
    assert "data/class_counts/x" not in flat  # only the data's essentials
    assert all(isinstance(value, (bool, int, float, str)) for value in flat.values())
