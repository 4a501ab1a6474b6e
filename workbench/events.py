"""Training events: small frozen, JSON-safe records that the training generator yields.

The CLI renders them as lines and a progress bar, the UI as a progress bar, a loss plot and a log, and
`runs.py` appends them to `events.jsonl`, so a run reads the same whichever way it is watched.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union


def precision_words(precision: str) -> str:
    """A run's precision for people: accelerate calls full precision "no"."""
    return "full precision" if precision == "no" else precision


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
    kind: str = "planned"


@dataclass(frozen=True)
class Evaluated:
    step: int
    epoch: float
    loss: float
    accuracy: float
    f1_macro: float
    is_best: bool
    kind: str = "evaluated"


@dataclass(frozen=True)
class Finished:
    step: int
    elapsed_seconds: float
    best_epoch: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    kind: str = "finished"


@dataclass(frozen=True)
class Stopped:
    step: int
    elapsed_seconds: float
    reason: str = "stopped by the user"
    kind: str = "stopped"


@dataclass(frozen=True)
class Failed:
    step: int
    error: str
    kind: str = "failed"


Event = Union[Started, Step, Planned, Evaluated, Finished, Stopped, Failed]
EVENT_TYPES: dict[str, type] = {cls.kind: cls for cls in (Started, Step, Planned, Evaluated, Finished, Stopped,
                                                                 Failed)}
TERMINAL_KINDS = frozenset({"finished", "stopped", "failed"})


def event_to_dict(event: Event) -> dict[str, Any]:
    return dataclasses.asdict(event)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event read back from `events.jsonl` (lists become tuples where the field is a tuple)."""
    cls = EVENT_TYPES[data["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    if "labels" in values:
        values["labels"] = tuple(values["labels"])
    return cls(**values)
