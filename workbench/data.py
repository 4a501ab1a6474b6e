"""Turn a user's table (read by `tables.py`: CSV, JSON Lines, JSON, Parquet or Excel) into training data: find the
columns (`columns.py`) and the task (`labels.py`), validate with messages a user can act on, and split so that every
class or label is seen on both sides.

The result, `PreparedData`, holds `datasets.Dataset`s with canonical columns `text`, `text_pair` (with a pair),
`features` and `label` (a class id, one 0/1 per label, or the target number), so the models never see the user's
column names.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from .columns import Columns, align_columns, detect_columns, list_names, values_of
from .config import DataSpec
from .csvfile import read_csv, sniff_csv  # noqa: F401  (re-exported: the reading half of this room)
from .labels import (
    MAX_LABELS,
    LabelFormat,
    LabelSpace,
    TargetScale,
    Task,
    detect_separator,
    is_number,
    propose_task,
)
from .splits import split, validation_fraction
from .tables import read_table

BATCH_ROWS = 10_000  # rows per batched filter/map call
MAX_MULTI_LABELS = 500  # more distinct labels than this in a multi-label column is free text, not labels
# Below this many validation rows one row moves a class's recall by 5% or more, so its scores (and the epoch early
# stopping keeps) are chosen by noise (measured in docs/benchmarks.md).
STEADY_VALIDATION_ROWS = 20


@dataclass
class PreparedData:
    train: datasets.Dataset
    validation: datasets.Dataset
    labels: LabelSpace
    columns: Columns
    source: str
    label_format: LabelFormat  # the task, and how a row's label is read for it
    notes: list[str] = field(default_factory=list)
    task_reason: str = ""  # why this task: detected from the label column, or chosen by the user
    target_scale: TargetScale | None = None  # regression: the training rows' mean and spread

    @property
    def task(self) -> Task:
        return self.label_format.task

    @property
    def has_text(self) -> bool:
        return self.columns.text is not None

    @property
    def n_outputs(self) -> int:
        """The model's outputs: one per class or label, one number for regression."""
        return 1 if self.task == Task.REGRESSION else len(self.labels)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "task": self.task.value,
            "task_reason": self.task_reason,
            "text_column": self.columns.text,
            "text_pair_column": self.columns.text_pair,
            "label_column": ", ".join(self.columns.labels),
            "feature_columns": list(self.columns.features),
            "feature_means": feature_means(self),
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            **label_summary(self),
            "notes": list(self.notes),
        }


def feature_means(data: PreparedData) -> dict[str, float]:
    """Each numeric feature's mean over the training rows (gaps left out): where a form of feature values starts."""
    if not data.columns.features:
        return {}
    rows = data.train.with_format("numpy")["features"][:]
    means = [float(m) for m in _nan_means(rows)]
    return dict(zip(data.columns.features, means))


def _nan_means(rows: Any) -> list[float]:
    import numpy as np

    values = np.asarray(rows, dtype=np.float64)
    filled = ~np.isnan(values)
    sums = np.where(filled, values, 0.0).sum(axis=0)
    return [s / n if n else 0.0 for s, n in zip(sums, filled.sum(axis=0))]


def label_summary(data: PreparedData) -> dict[str, Any]:
    """The labels as the task sees them: rows per class; rows per label and labels per row; the target's range."""
    values = values_of(data.train, "label") + values_of(data.validation, "label")
    if data.task == Task.REGRESSION:
        return {
            "class_counts": {},
            "target": {
                "min": min(values),
                "max": max(values),
                "mean": sum(values) / len(values),
                "histogram": histogram(values),
            },
        }
    if data.task == Task.MULTI_LABEL:
        counts = [int(sum(row[i] for row in values)) for i in range(len(data.labels))]
        per_row = Counter(int(sum(row)) for row in values)
        return {"class_counts": dict(zip(data.labels.names, counts)), "labels_per_row": dict(sorted(per_row.items()))}
    counts = Counter(values)
    return {"class_counts": {name: counts.get(i, 0) for i, name in enumerate(data.labels.names)}}


def histogram(values: Sequence[float], bins: int = 12) -> list[tuple[float, float, int]]:
    """Rows per equal-width range of the values: (low, high, rows), lowest range first."""
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return [(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(counts)]


# ---------------------------------------------------------------------------------------------- preparing


def load_data(spec: DataSpec, seed: int = 42) -> PreparedData:
    """Read, detect, clean and split: the one call that turns a user's file into training data."""
    table = read_table(spec.path, sheet=spec.sheet)
    columns = detect_columns(table, spec.text_column, spec.label_columns, spec.feature_columns, spec.text_pair_column)
    label_format, reason = choose_task(table, columns, spec)
    notes: list[str] = []
    name = Path(spec.path).name
    check_label_cells(table, columns, label_format)  # before rows are dropped, so that lines are the file's
    table = _drop_unusable_rows(table, columns, label_format, notes, name)
    rows = label_rows(table, columns)
    labels = label_format.space(rows)
    _check_labels(rows, label_format, labels, eval_given=spec.eval_path is not None)
    train = _canonical(table, columns, label_format, labels)
    if spec.eval_path:
        validation = _read_eval(spec.eval_path, columns, label_format, labels, notes)
    else:
        fraction = validation_fraction(len(train), spec.validation_fraction)
        train, validation = split(train, label_format.task, fraction, seed)
    scale = TargetScale.fit(values_of(train, "label")) if label_format.task == Task.REGRESSION else None
    notes += _few_validation_rows(validation, labels, label_format.task)
    return PreparedData(train, validation, labels, columns, name, label_format, notes, reason, scale)


def check_label_cells(table: datasets.Dataset, columns: Columns, label_format: LabelFormat) -> None:
    """Read every labelled row's label as the task will: a cell that is not a 0/1 or a number where one is needed
    stops here with one sentence naming its line in the file (the header is line 1)."""
    space = LabelSpace((columns.label,))
    for line, row in enumerate(label_rows(table, columns), start=2):
        if label_format.has_label(row):
            if label_format.task == Task.REGRESSION:
                label_format.encode(row, space, line)
            else:
                label_format.names_in(row, line)


def label_rows(table: datasets.Dataset, columns: Columns) -> list[dict[str, Any]]:
    """Each row's label cells, read a column at a time (per-row reads of a `datasets` table are slow)."""
    cells = {c: values_of(table, c) for c in columns.labels}
    return [dict(zip(cells, row)) for row in zip(*cells.values())]


def choose_task(table: datasets.Dataset, columns: Columns, spec: DataSpec) -> tuple[LabelFormat, str]:
    """The task the user chose, or the one the label column(s) suggest, with the reason in a sentence."""
    sample = {c: values_of(table.select(range(min(len(table), 5000))), c) for c in columns.labels}
    proposed, reason = propose_task(sample, spec.label_separator)
    task = Task.parse(spec.task) if spec.task else proposed
    if spec.task:
        reason = f"Chosen: {task.value}." + (f" (Detected: {proposed.value}.)" if task != proposed else "")
    if len(columns.labels) > 1 and task != Task.MULTI_LABEL:
        raise ValueError(
            f"Several label columns ({list_names(columns.labels)}) make a multi-label task; choose "
            f"multi-label, or one label column."
        )
    if task == Task.REGRESSION and columns.label in columns.features:
        raise ValueError(f"'{columns.label}' is both the target and a feature; leave it out of the features.")
    separator = None
    if task == Task.MULTI_LABEL and len(columns.labels) == 1:
        separator = spec.label_separator or detect_separator([v for v in sample[columns.label] if v]) or "|"
    return LabelFormat(task, columns.labels, separator), reason


def _drop_unusable_rows(
    table: datasets.Dataset, columns: Columns, label_format: LabelFormat, notes: list[str], name: str
) -> datasets.Dataset:
    """Drop rows without a label (a multi-label row's empty cell means no label) or, for a text model, without
    text; say how many went."""

    def usable(batch: dict[str, list]) -> list[bool]:  # batched: per-row calls take seconds on 100,000 rows
        rows = [dict(zip(batch, cells)) for cells in zip(*batch.values())]
        return [label_format.has_label(r) and (not columns.text or bool((r[columns.text] or "").strip())) for r in rows]

    before = len(table)
    table = table.filter(usable, batched=True, batch_size=BATCH_ROWS)
    dropped = before - len(table)
    if dropped:
        empty = [] if label_format.task == Task.MULTI_LABEL else [columns.label]
        what = " or ".join(f"'{c}'" for c in empty + ([columns.text] if columns.text else []))
        notes.append(f"Dropped {dropped} of {before} rows with an empty {what}.")
    if len(table) == 0:
        raise ValueError(f"{name} has no rows with a label in '{columns.label}'.")
    if columns.text_pair and not any((v or "").strip() for v in values_of(table, columns.text_pair)):
        raise ValueError(
            f"The text pair column '{columns.text_pair}' is empty in every row; choose another column "
            f"or train on '{columns.text}' alone."
        )
    return table


def _check_labels(rows: list[dict[str, Any]], label_format: LabelFormat, labels: LabelSpace, eval_given: bool) -> None:
    task, column = label_format.task, label_format.describe()
    if task == Task.REGRESSION:
        values = [label_format.encode(r, labels, line) for line, r in enumerate(rows, start=2)]
        if len(set(values)) < 2:
            raise ValueError(
                f"The target {column} has the same value ({values[0]:g}) in every row; there is nothing to predict."
            )
        return
    per_row = [label_format.names_in(r, line) for line, r in enumerate(rows, start=2)]
    if len(labels) < 2:
        only = f" ('{labels.names[0]}')" if labels.names else ""
        raise ValueError(
            f"Column {column} has only one {'label' if task == Task.MULTI_LABEL else 'class'}{only}; "
            f"a classifier needs at least two different labels."
        )
    limit = MAX_MULTI_LABELS if task == Task.MULTI_LABEL else MAX_LABELS
    if len(labels) > limit and len(labels) > len(rows) // 2:
        raise ValueError(
            f"Column {column} has {len(labels)} different values in {len(rows)} rows, which looks "
            f"like an id or free text, not a label; choose the label column."
        )
    counts = Counter(name for names in per_row for name in names)
    rare = sorted(name for name in labels.names if counts[name] < 2)
    if rare and not eval_given and task == Task.SINGLE_LABEL:
        shown = ", ".join(f"'{r}'" for r in rare[:5])
        raise ValueError(
            f"Class {shown} of {column} has only one row; each class needs at least 2 rows so that "
            f"some can be held back for validation (add rows, or give an evaluation CSV)."
        )


def _parse_features(row: dict[str, Any], names: Sequence[str]) -> list[float]:
    return [float(row[n]) if is_number(row[n]) else math.nan for n in names]  # gaps are imputed later


def _canonical(
    table: datasets.Dataset, columns: Columns, label_format: LabelFormat, labels: LabelSpace
) -> datasets.Dataset:
    def convert(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        rows = [dict(zip(batch, cells)) for cells in zip(*batch.values())]
        out = {
            "text": [(row[columns.text] or "").strip() if columns.text else "" for row in rows],
            "features": [_parse_features(row, columns.features) for row in rows],
            "label": [label_format.encode(row, labels, i + 2) for i, row in zip(indices, rows)],
        }
        if columns.text_pair:
            out["text_pair"] = [(row[columns.text_pair] or "").strip() for row in rows]
        return out

    out = table.map(convert, batched=True, batch_size=BATCH_ROWS, with_indices=True, remove_columns=table.column_names)
    out = out.cast_column("features", datasets.Sequence(datasets.Value("float32")))
    if label_format.task == Task.SINGLE_LABEL:
        return out.cast_column("label", datasets.ClassLabel(names=list(labels.names)))
    if label_format.task == Task.MULTI_LABEL:
        return out.cast_column("label", datasets.Sequence(datasets.Value("float32")))
    return out.cast_column("label", datasets.Value("float32"))


def _few_validation_rows(validation: datasets.Dataset, labels: LabelSpace, task: Task) -> list[str]:
    """A note when some class or label has too few validation rows for its scores to be steady."""
    if task == Task.REGRESSION:
        return []
    values = values_of(validation, "label")
    if task == Task.MULTI_LABEL:
        counts = Counter({i: int(sum(row[i] for row in values)) for i in range(len(labels))})
    else:
        counts = Counter(values)
    few = sorted((counts[i], name) for i, name in enumerate(labels.names) if counts[i] < STEADY_VALIDATION_ROWS)
    if not few:
        return []
    shown = ", ".join(f"{n} '{name}'" for n, name in few[:3]) + (f" and {len(few) - 3} more" if len(few) > 3 else "")
    return [
        f"Few validation rows: {shown}. Their scores, and the epoch early stopping keeps, can swing with a "
        f"single row; more rows, a larger validation share or an evaluation CSV make them steadier."
    ]


# ---------------------------------------------------------------------------------------------- other files


def _read_eval(
    path: str, columns: Columns, label_format: LabelFormat, labels: LabelSpace, notes: list[str]
) -> datasets.Dataset:
    name = Path(path).name
    table = align_columns(read_table(path), [*columns.inputs, *columns.labels], f"The evaluation file {name}")
    check_label_cells(table, columns, label_format)
    table = _drop_unusable_rows(table, columns, label_format, notes, name)
    known = set(labels.names)
    if label_format.task != Task.REGRESSION:
        rows = label_rows(table, columns)
        found = {n for line, r in enumerate(rows, start=2) for n in label_format.names_in(r, line)}
        unseen = sorted(found - known)
        if unseen and label_format.task == Task.SINGLE_LABEL:
            table = table.filter(lambda row: row[columns.label].strip() in known)
            notes.append(f"Left out evaluation rows with labels never seen in training: {', '.join(unseen[:5])}.")
        elif unseen:
            notes.append(f"Left out evaluation labels never seen in training: {', '.join(unseen[:5])}.")
    if len(table) == 0:
        raise ValueError("No evaluation rows remain after dropping unknown or empty labels.")
    return _canonical(table, columns, label_format, labels)


@dataclass(frozen=True)
class ModelInputs:
    """What a model reads of some rows: the texts, the second texts of a pair, the numeric features."""

    texts: list[str]
    pairs: list[str] | None
    features: list[list[float]]

    def part(self, start: int, stop: int) -> ModelInputs:
        """The rows from `start` up to `stop`."""
        pairs = self.pairs[start:stop] if self.pairs is not None else None
        return ModelInputs(self.texts[start:stop], pairs, self.features[start:stop])


def inputs_of(table: datasets.Dataset, columns: Columns) -> ModelInputs:
    def texts(column: str | None) -> list[str]:
        return [(t or "").strip() for t in values_of(table, column)] if column else [""] * len(table)

    features = [_parse_features(row, columns.features) for row in table] if columns.features else [[]] * len(table)
    return ModelInputs(texts(columns.text), texts(columns.text_pair) if columns.text_pair else None, features)
