"""What a row's label is, for each task shape: one class (single-label), a set of labels (multi-label: one cell
split on a separator, or several 0/1 columns), or a number (regression). `propose_task` reads the label column(s)
and proposes the task with its reason; `LabelSpace` names the outputs; `TargetScale` standardises a numeric target.
Nothing here imports torch: it is the data's side of a task."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_LABELS = 50
SEPARATORS = ("|", ";")  # tried in this order; "," only when the user names it (commas are common inside labels)
NUMERIC_SHARE = 0.95  # a column this much numeric is proposed as numbers (regression or numeric classes)
SEPARATED_SHARE = 0.05  # a column is multi-label when at least this share of its filled cells holds a separator
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "y", "t"}, {"0", "false", "no", "n", "f", ""}


class Task(str, Enum):
    SINGLE_LABEL = "single-label"
    MULTI_LABEL = "multi-label"
    REGRESSION = "regression"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: Any) -> Task:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"'{value}' is not a task; choose one of {', '.join(t.value for t in cls)}.") from None


def is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class LabelSpace:
    """The output names in a stable order; an output's id is its position (the target's name, for regression)."""

    names: tuple[str, ...]

    @classmethod
    def from_values(cls, values: Sequence[str]) -> LabelSpace:
        unique = {str(v) for v in values}
        numeric = all(is_number(v) for v in unique)
        return cls(tuple(sorted(unique, key=float if numeric else str)))

    def __len__(self) -> int:
        return len(self.names)

    def id_of(self, name: str) -> int:
        return self.names.index(str(name))

    def encode(self, values: Sequence[str]) -> list[int]:
        index = {name: i for i, name in enumerate(self.names)}
        return [index[str(v)] for v in values]

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


@dataclass(frozen=True)
class TargetScale:
    """A numeric target's mean and spread on the training rows: models learn it standardised, answers come back in
    the original unit."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values: Sequence[float]) -> TargetScale:
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        return cls(mean, std or 1.0)


# ---------------------------------------------------------------------------------------------- reading labels


def split_labels(cell: str | None, separator: str) -> list[str]:
    """The labels in one cell: split, spaces trimmed, blanks dropped; an empty cell holds no label."""
    return [part.strip() for part in (cell or "").split(separator) if part.strip()]


def truth_value(cell: str | None, column: str, line: int) -> float:
    """A 0/1 label column's cell as 0.0 or 1.0 (also true/false, yes/no; empty is 0)."""
    word = (cell or "").strip().lower()
    if word in TRUE_WORDS:
        return 1.0
    if word in FALSE_WORDS:
        return 0.0
    raise ValueError(
        f"Label column '{column}' holds '{cell}' on line {line}; as one of several label columns it must "
        f"hold 0 or 1 (or true/false, yes/no)."
    )


def target_value(cell: str | None, column: str, line: int) -> float:
    """A regression target's cell as a number; anything else names its row."""
    try:
        value = float((cell or "").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(
            f"The target column '{column}' holds '{cell}' on line {line}, which is not a finite number; "
            f"fix or remove that row (rows with an empty target are left out)."
        )
    return value


# ---------------------------------------------------------------------------------------------- proposing a task


def detect_separator(values: Sequence[str]) -> str | None:
    filled = [v for v in values if v and v.strip()]
    for separator in SEPARATORS:
        if filled and sum(separator in v for v in filled) >= max(1, SEPARATED_SHARE * len(filled)):
            return separator
    return None


def propose_task(columns: dict[str, Sequence[str | None]], separator: str | None = None) -> tuple[Task, str]:
    """The task the label column(s) suggest, and why in one sentence, from a sample of their cells."""
    if len(columns) > 1:
        return Task.MULTI_LABEL, f"{len(columns)} label columns: each is one label, present or not."
    name, values = next(iter(columns.items()))
    filled = [v.strip() for v in values if v is not None and v.strip()]
    found = separator or detect_separator(filled)
    if found and any(found in v for v in filled):
        return Task.MULTI_LABEL, f"'{name}' holds several labels in a cell, separated by '{found}'."
    # mostly numbers: a target with a stray word in it is still a target, and the word gets named by its line
    if filled and sum(is_number(v) for v in filled) >= NUMERIC_SHARE * len(filled):
        numbers = {float(v) for v in filled if is_number(v)}
        whole = all(n.is_integer() for n in numbers)
        if len(numbers) > MAX_LABELS or (not whole and len(numbers) > 10):
            return Task.REGRESSION, f"'{name}' holds numbers with {len(numbers)} different values."
        if whole and len(numbers) > 2:
            return Task.SINGLE_LABEL, (
                f"'{name}' holds {len(numbers)} whole numbers, taken as classes; choose "
                f"regression to predict it as a number instead."
            )
    return Task.SINGLE_LABEL, f"'{name}' holds one label per row."


def label_counts(rows: Sequence[Sequence[str]]) -> Counter:
    return Counter(label for labels in rows for label in labels)


def natural_order(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)]))


@dataclass(frozen=True)
class LabelFormat:
    """How a row's label is read from its cells for the task: one cell holds a class or a number, one cell holds
    labels joined by a separator, or several 0/1 columns each say whether their label is present."""

    task: Task
    columns: tuple[str, ...]
    separator: str | None = None

    @property
    def indicator_columns(self) -> bool:
        return self.task == Task.MULTI_LABEL and len(self.columns) > 1

    def has_label(self, row: dict[str, Any]) -> bool:
        """Whether the row is labelled: a multi-label row always is (an empty cell says it has no label)."""
        return self.task == Task.MULTI_LABEL or bool((row[self.columns[0]] or "").strip())

    def names_in(self, row: dict[str, Any], line: int) -> list[str]:
        """The label names the row carries (its class; its labels; its target written out)."""
        if self.indicator_columns:
            return [c for c in self.columns if truth_value(row[c], c, line)]
        cell = (row[self.columns[0]] or "").strip()
        if self.task == Task.MULTI_LABEL:
            return split_labels(cell, self.separator or "|")
        return [cell] if cell else []

    def space(self, rows: Sequence[dict[str, Any]]) -> LabelSpace:
        """The outputs for these rows: their classes, their labels (the columns' order for 0/1 columns), or the
        target's name."""
        if self.task == Task.REGRESSION:
            return LabelSpace((self.columns[0],))
        if self.indicator_columns:
            return LabelSpace(self.columns)
        if self.task == Task.MULTI_LABEL:
            return LabelSpace(natural_order(label_counts([self.names_in(r, 0) for r in rows])))
        return LabelSpace.from_values([self.names_in(r, 0)[0] for r in rows])

    def encode(self, row: dict[str, Any], space: LabelSpace, line: int) -> int | float | list[float]:
        """The row's label as the model learns it: a class id, a number, or one 0/1 per label."""
        if self.task == Task.REGRESSION:
            return target_value(row[self.columns[0]], self.columns[0], line)
        names = self.names_in(row, line)
        if self.task == Task.SINGLE_LABEL:
            return space.label2id[names[0]]
        present = set(names)
        return [1.0 if name in present else 0.0 for name in space.names]

    def describe(self) -> str:
        if self.indicator_columns:
            return f"{len(self.columns)} 0/1 label columns"
        if self.task == Task.MULTI_LABEL:
            return f"'{self.columns[0]}' split on '{self.separator}'"
        return f"'{self.columns[0]}'"
