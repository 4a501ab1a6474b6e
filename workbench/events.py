"""Training events and statuses: small frozen, JSON-safe records that the training generator yields, the one
`Status` enum that jobs and run folders share, and `describe_event`, the one wording of an event for people.

The CLI renders events as lines and a progress bar, the UI as a progress bar, a loss plot and a log, and
`runs.py` appends them to `events.jsonl`, so a run reads the same whichever way it is watched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Where a job or a run stands. A str, so it compares with and serialises as its plain value."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a queued job stopped before it began
    INTERRUPTED = "interrupted"  # a run marked running whose process is gone
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        return self not in (Status.QUEUED, Status.RUNNING)

    @property
    def has_weights(self) -> bool:
        """Whether a run in this status saved weights completely: finished, or stopped with what it had learnt."""
        return self in (Status.FINISHED, Status.STOPPED)

    @classmethod
    def parse(cls, value: Any) -> Status:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


def precision_words(precision: str) -> str:
    """A run's precision for people: accelerate calls full precision "no"."""
    return "full precision" if precision == "no" else precision


@dataclass(frozen=True)
class Preparing:
    """A slow step before the run can start (preparing.py): `done` of `total` (0 when there is no count)."""

    stage: str
    done: int = 0
    total: int = 0
    elapsed_seconds: float = 0.0
    kind: str = "preparing"


@dataclass(frozen=True)
class Started:
    run_id: str
    model: str
    device: str
    precision: str
    total_steps: int
    epochs: int
    train_rows: int
    validation_rows: int
    labels: tuple[str, ...]
    max_length: int | None = None
    run_dir: str = ""
    task: str = "single-label"
    route: str = ""  # why auto chose this model, when it did
    kind: str = "started"


@dataclass(frozen=True)
class Step:
    step: int
    total_steps: int
    epoch: float
    loss: float
    learning_rate: float
    samples_per_second: float
    eta_seconds: float
    elapsed_seconds: float
    kind: str = "step"


@dataclass(frozen=True)
class Planned:
    """The time budget fixed the length of a run whose epochs were left on auto, once the first steps were timed."""

    step: int
    total_steps: int
    epochs: float
    budget_seconds: float
    seconds_per_step: float
    all_epochs: bool = False  # every step of the epochs' upper bound fits: the run ends before the budget does
    kind: str = "planned"


@dataclass(frozen=True)
class Evaluated:
    """An epoch scored on the validation rows: the task's scores (accuracy and macro-F1; micro-F1, subset accuracy
    and the threshold; RMSE and MAE), and whether the score early stopping watches is the best so far."""

    step: int
    epoch: float
    loss: float
    scores: dict[str, float]
    is_best: bool
    kind: str = "evaluated"

    @property
    def accuracy(self) -> float | None:
        return self.scores.get("accuracy")

    @property
    def f1_macro(self) -> float | None:
        return self.scores.get("f1_macro")


@dataclass(frozen=True)
class Finished:
    step: int
    elapsed_seconds: float
    best_epoch: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    kind: str = "finished"
    status = Status.FINISHED  # a class attribute, not a field: the same for every Finished


@dataclass(frozen=True)
class Stopped:
    step: int
    elapsed_seconds: float
    reason: str = "stopped by the user"
    saved: bool = True  # False: stopped while it was being prepared, before a run folder existed
    kind: str = "stopped"
    status = Status.STOPPED


@dataclass(frozen=True)
class Failed:
    step: int
    error: str
    kind: str = "failed"
    status = Status.FAILED


Event = Preparing | Started | Step | Planned | Evaluated | Finished | Stopped | Failed
Ended = (Finished, Stopped, Failed)  # the events that end a run; each carries the run's final `status`
EVENT_TYPES: dict[str, type] = {
    cls.kind: cls for cls in (Preparing, Started, Step, Planned, Evaluated, Finished, Stopped, Failed)
}


def started_of(events: Iterable[Event]) -> Started:
    """A run's Started event: the first, unless `Preparing` events came before it."""
    return next(e for e in events if isinstance(e, Started))


def event_to_dict(event: Event) -> dict[str, Any]:
    return dataclasses.asdict(event)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event read back from `events.jsonl` (lists become tuples where the field is a tuple)."""
    cls = EVENT_TYPES[data["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    if "labels" in values:
        values["labels"] = tuple(values["labels"])
    if cls is Evaluated and "scores" not in values:  # written before tasks: the two scores were fields
        values["scores"] = {k: data[k] for k in ("accuracy", "f1_macro") if k in data}
    return cls(**values)


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


SCORE_WORDS = {
    "accuracy": "accuracy",
    "f1_macro": "macro-F1",
    "f1_micro": "micro-F1",
    "f1_samples": "samples-F1",
    "subset_accuracy": "subset accuracy",
    "hamming_loss": "Hamming loss",
    "threshold": "threshold",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


def scores_words(scores: dict[str, Any], limit: int = 3) -> str:
    """A run's scores in words: 'accuracy 0.8125, macro-F1 0.8000'."""
    shown = [(k, v) for k, v in scores.items() if k in SCORE_WORDS][:limit]
    return ", ".join(f"{SCORE_WORDS[k]} {v:.4f}" if k != "threshold" else f"threshold {v:g}" for k, v in shown)


def describe_event(event: Event) -> str:
    """One line that tells a person what happened: the CLI prints it, the app's log shows it."""
    if isinstance(event, Preparing):
        count = f": {event.done}/{event.total}" if event.total else ""
        return f"{event.stage}{count} ({duration(event.elapsed_seconds)})."
    if isinstance(event, Started):
        length = f", max length {event.max_length} tokens" if event.max_length else ""
        steps = f"up to {event.total_steps} steps" if event.total_steps else "the model fitted before it started"
        return (
            f"Started {event.model} ({event.task}) on {event.device} ({precision_words(event.precision)}): "
            f"{event.train_rows} training rows, {event.validation_rows} validation rows, {steps}{length}."
            + (f" {event.route}" if event.route else "")
        )
    if isinstance(event, Step):
        return (
            f"Step {event.step}/{event.total_steps}: loss {event.loss:.4f}, learning rate "
            f"{event.learning_rate:.2e}, {event.samples_per_second:.1f} rows/s, ETA {duration(event.eta_seconds)}"
        )
    if isinstance(event, Planned):
        fit = f"{'all ' if event.all_epochs else ''}{event.total_steps} steps ({event.epochs:g} epochs) fit"
        before = ": the run ends before it" if event.all_epochs else ""
        return f"Time budget {duration(event.budget_seconds)}: {fit}, at {event.seconds_per_step:.2f}s a step{before}."
    if isinstance(event, Evaluated) and event.epoch == 0:  # a model fitted by a solver, scored once
        return f"The fitted model on the validation rows: loss {event.loss:.4f}, {scores_words(event.scores)}."
    if isinstance(event, Evaluated):
        return (
            f"Epoch {event.epoch:.4g}: validation loss {event.loss:.4f}, {scores_words(event.scores)}"
            f"{' (best so far)' if event.is_best else ''}"
        )
    if isinstance(event, Finished) and event.best_epoch is None:
        return f"Finished in {event.elapsed_seconds:.1f}s: {scores_words(event.metrics, limit=2)}."
    if isinstance(event, Finished):
        return (
            f"Finished in {event.elapsed_seconds:.1f}s; best epoch {event.best_epoch}: "
            f"{scores_words(event.metrics, limit=2)}."
        )
    if isinstance(event, Stopped) and not event.saved:
        return f"Stopped before training began ({event.reason}); nothing was saved."
    if isinstance(event, Stopped):
        return f"Stopped at step {event.step} ({event.reason}); the weights so far are saved."
    return f"Failed: {event.error}"
