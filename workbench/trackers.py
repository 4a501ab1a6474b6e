"""Experiment trackers (TensorBoard, Trackio, MLflow, Weights & Biases), through accelerate's tracker integration.

A run that names trackers in `TrainConfig.report_to` reports, from the main process: its settings (auto ones filled
in), the model and the data's essentials once; the loss and learning rate at every reported step; each epoch's
validation scores; and the kept model's final scores. Every tracker files the run under the project "workbench"
with the run id as its name; TensorBoard writes into the run folder (`logs/`), so its curves stay with the run.
No tracker's package is required: a missing one is named in a ValueError before training starts. A run that
reports nowhere creates no tracker at all, and nothing here costs it a thing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .events import Evaluated, Event, Finished, Step

if TYPE_CHECKING:
    from accelerate import Accelerator

PROJECT = "workbench"  # trackio's and wandb's project, MLflow's experiment (MLFLOW_EXPERIMENT_NAME overrides it)
LOGS_DIR = "logs"  # TensorBoard's folder inside the run folder (accelerate adds the project's name below it)
# the modules each tracker imports: accelerate's TensorBoard tracker writes with torch's writer (which needs the
# tensorboard package) or else with tensorboardX
PACKAGES = {
    "tensorboard": ("tensorboard", "tensorboardX"),
    "trackio": ("trackio",),
    "mlflow": ("mlflow",),
    "wandb": ("wandb",),
}
DATA_ESSENTIALS = (
    "task",
    "text_column",
    "text_pair_column",
    "label_column",
    "feature_columns",
    "train_rows",
    "validation_rows",
)
log = logging.getLogger(__name__)


def require_packages(report_to: Sequence[str]) -> None:
    """Refuse, before anything trains, a tracker whose package is missing (accelerate would silently drop it)."""
    for name in report_to:
        modules = PACKAGES.get(name, (name,))
        if not any(importlib.util.find_spec(module) for module in modules):
            raise ValueError(
                f"Reporting to {name} needs the {modules[0]} package: pip install {modules[0]} "
                f"(or pip install '.[trackers]')."
            )


def init_kwargs(run_id: str) -> dict[str, dict[str, Any]]:
    """How each tracker names the run within the project (TensorBoard names it by its folder, the run's own)."""
    return {
        "trackio": {"name": run_id, "embed": False},  # embed would start a local dashboard inside a notebook
        "wandb": {"name": run_id},
        "mlflow": {"run_name": run_id},
    }


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, bool | int | float | str]:
    """Nested settings as one level of plain values, as every tracker's hyperparameter table takes them: nested
    keys joined with "/", lists as comma-separated text, and None (nothing to report) left out."""
    flat: dict[str, bool | int | float | str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}/"))
        elif isinstance(value, (list, tuple)):
            flat[name] = ", ".join(str(item) for item in value)
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        elif value is not None:
            flat[name] = str(value)
    return flat


def tracker_config(record: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """What a tracker records about the run, from its run.json record: the settings at the top level, then the
    model, the data's essentials (columns, task, rows, the number of labels), the device and the precision."""
    data = record["data"]
    return flatten(
        {
            **record["config"],
            "model": record["model"],
            "data": {**{key: data.get(key) for key in DATA_ESSENTIALS}, "labels": len(record["labels"])},
            "device": record["device"],
            "precision": record["precision"],
        }
    )


def start(accelerator: Accelerator, record: dict[str, Any], run_dir: Path | None) -> None:
    """Start the run's trackers on the main process, the one with the run folder (the others only train)."""
    if not accelerator.log_with or run_dir is None:
        return
    # the run folder is named only once the model is built, after the accelerator is made
    accelerator.project_configuration.logging_dir = str(run_dir / LOGS_DIR)
    with contextlib.redirect_stdout(sys.stderr):  # trackio's notices; the CLI's stdout ends with its JSON result
        accelerator.init_trackers(PROJECT, config=tracker_config(record), init_kwargs=init_kwargs(run_dir.name))


def event_values(event: Event) -> dict[str, float]:
    """The numbers an event reports: a step's loss and learning rate, an epoch's validation loss and scores, and
    the final scores of the kept weights (the best epoch's, which the last epoch's need not be)."""
    if isinstance(event, Step):
        return {"train/loss": event.loss, "train/learning_rate": event.learning_rate, "train/epoch": event.epoch}
    if isinstance(event, Evaluated):
        return {"eval/loss": event.loss, "eval/epoch": event.epoch, **_numbers(event.scores, "eval/")}
    if isinstance(event, Finished):
        return _numbers(event.metrics, "final/")
    return {}


def _numbers(scores: dict[str, Any], prefix: str) -> dict[str, float]:
    return {f"{prefix}{k}": v for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def report(accelerator: Accelerator, event: Event) -> None:
    """Send an event's numbers to the run's trackers (none on a run that reports nowhere, or on other processes)."""
    if accelerator.trackers:
        values = event_values(event)
        if values:
            accelerator.log(values, step=event.step)


def end(accelerator: Accelerator, report_to: Sequence[str]) -> None:
    """End the run's trackers, whichever way the run ended. A tracker that fails to close (a lost connection)
    costs its last records, never the run, whose weights and status are already saved."""
    if not report_to:
        return
    try:
        with contextlib.redirect_stdout(sys.stderr):
            accelerator.end_training()  # finishes the trackers, and ends the processes' group under accelerate launch
    except Exception as error:
        log.warning("An experiment tracker did not close cleanly: %s: %s", type(error).__name__, error)
    if "trackio" in report_to and "trackio" in sys.modules:
        # accelerate finishes trackio's run but leaves it trackio's current one, which trackio would finish again
        # at exit, printing after the CLI's result (and at the next run's start in the app)
        sys.modules["trackio"].context_vars.current_run.set(None)
