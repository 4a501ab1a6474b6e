"""Turn a user's CSV (read by `csvfile.py`) into training data: detect the text, label and numeric feature columns
(each can be given instead), validate with messages a user can act on, and split stratified.

The result, `PreparedData`, holds `datasets.Dataset`s with canonical columns `text`, `features` and `label`
(an id in the `LabelSpace`), so the models never see the user's column names.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from .config import DataSpec
from .csvfile import CsvFormat, read_csv, sniff_csv  # noqa: F401  (re-exported: the reading half of this room)

LABEL_HINTS = ("label", "labels", "target", "class", "category", "rating", "sentiment", "stars", "y")
ID_HINTS = ("id", "index", "idx", "row", "uuid")
MAX_LABELS = 50
PROBE_ROWS = 2000
BATCH_ROWS = 10_000  # rows per batched filter/map call
# Below this many validation rows one row moves a class's recall by 5% or more, so its scores (and the epoch early
# stopping keeps) are chosen by noise (measured in docs/benchmarks.md).
STEADY_VALIDATION_ROWS = 20


@dataclass(frozen=True)
class Columns:
    text: str | None
    label: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class LabelSpace:
    """The label names in a stable order; a label's id is its position."""

    names: tuple[str, ...]

    @classmethod
    def from_values(cls, values: Sequence[str]) -> LabelSpace:
        unique = {str(v) for v in values}
        numeric = all(_is_number(v) for v in unique)
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


@dataclass
class PreparedData:
    train: datasets.Dataset
    validation: datasets.Dataset
    labels: LabelSpace
    columns: Columns
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return self.columns.text is not None

    def summary(self) -> dict[str, Any]:
        counts = Counter(values_of(self.train, "label")) + Counter(values_of(self.validation, "label"))
        return {
            "source": self.source,
            "text_column": self.columns.text,
            "label_column": self.columns.label,
            "feature_columns": list(self.columns.features),
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            "class_counts": {name: counts.get(i, 0) for i, name in enumerate(self.labels.names)},
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------- detection


def list_names(names: Sequence[str], limit: int = 8) -> str:
    """Column names for a message: all of a few, the first `limit` of many."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def values_of(table: datasets.Dataset, name: str) -> list[Any]:
    """A column's values as a list. `table[name]` alone is a lazy column that decodes row by row, which takes
    seconds on 100,000 rows; one slice reads the whole column at once."""
    return table[name][:]


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _Profile:
    name: str
    values: int
    unique: int
    numeric: bool
    mean_length: float
    spaced: float
    running_number: bool  # consecutive distinct integers (a row number), which says nothing about the label


def _profile(table: datasets.Dataset, name: str) -> _Profile:
    values = [v.strip() for v in values_of(table, name) if v is not None and v.strip()]
    if not values:
        return _Profile(name, 0, 0, False, 0.0, 0.0, False)
    numeric = all(_is_number(v) for v in values)
    numbers = {float(v) for v in values} if numeric else set()
    running = (
        len(numbers) == len(values) > MAX_LABELS
        and all(n.is_integer() for n in numbers)
        and max(numbers) - min(numbers) + 1 == len(numbers)
    )
    return _Profile(
        name,
        len(values),
        len(set(values)),
        numeric,
        sum(map(len, values)) / len(values),
        sum(" " in v for v in values) / len(values),
        running,
    )


def detect_columns(
    table: datasets.Dataset, text: str | None = None, label: str | None = None, features: Sequence[str] | None = None
) -> Columns:
    """Pick the label, text and numeric feature columns; any of them may be given instead."""
    names = list(table.column_names)
    sample = table.select(range(min(len(table), PROBE_ROWS)))
    profiles = {name: _profile(sample, name) for name in names}
    label = _resolve(names, label) if label else _detect_label(profiles)
    if label is None:
        raise ValueError(f"No label column found; choose the label column (columns: {list_names(names)}).")
    text = _resolve(names, text) if text else _detect_text(profiles, label)
    if features is not None:
        features = tuple(_resolve(names, f) for f in features)
        for name in features:
            if not profiles[name].numeric:
                raise ValueError(f"Feature column '{name}' is not numeric; feature columns must hold numbers.")
    else:
        features = tuple(
            p.name
            for p in profiles.values()
            if p.numeric and p.name not in (label, text) and p.name.lower() not in ID_HINTS and not p.running_number
        )
    if text is None and not features:
        raise ValueError(
            f"Found no text column and no numeric feature columns besides the label '{label}' "
            f"(columns: {list_names(names)})."
        )
    return Columns(text=text, label=label, features=features)


def _resolve(names: Sequence[str], wanted: str) -> str:
    """Match a user-given column name, forgiving case and surrounding whitespace."""
    wanted_key = wanted.strip().lower()
    for name in names:
        if name.lower() == wanted_key:
            return name
    raise ValueError(f"Column '{wanted}' is not in the file; its columns are: {list_names(names)}.")


def _detect_label(profiles: dict[str, _Profile]) -> str | None:
    def few_classes(p: _Profile) -> bool:
        return 2 <= p.unique <= MAX_LABELS and p.unique <= max(2, p.values // 2)

    named = sorted(
        (p for p in profiles.values() if p.name.lower() in LABEL_HINTS), key=lambda p: LABEL_HINTS.index(p.name.lower())
    )
    hinted = [p for p in named if p.unique >= 1]
    if hinted:
        return hinted[0].name
    if named:  # a column called "label" with nothing in it: say so, rather than "no label column found"
        raise ValueError(f"The label column '{named[0].name}' is empty in every row; fill in a label for each row.")
    low_cardinality = [p for p in profiles.values() if few_classes(p) and p.mean_length < 40]
    return low_cardinality[-1].name if low_cardinality else None


def _detect_text(profiles: dict[str, _Profile], label: str) -> str | None:
    candidates = [
        p for p in profiles.values() if p.name != label and not p.numeric and (p.mean_length >= 20 or p.spaced >= 0.5)
    ]
    return max(candidates, key=lambda p: p.mean_length).name if candidates else None


# ---------------------------------------------------------------------------------------------- preparing


def load_data(spec: DataSpec, seed: int = 42) -> PreparedData:
    """Read, detect, clean and split: the one call that turns a user's CSV into training data."""
    table = read_csv(spec.path)
    columns = detect_columns(table, spec.text_column, spec.label_column, spec.feature_columns)
    notes: list[str] = []
    table = _drop_unusable_rows(table, columns, notes, Path(spec.path).name)
    labels = LabelSpace.from_values(values_of(table, columns.label))
    _check_labels(table, columns.label, labels, eval_given=spec.eval_path is not None)
    train = _canonical(table, columns, labels)
    if spec.eval_path:
        validation = _read_eval(spec.eval_path, columns, labels, notes)
    else:
        train, validation = _stratified_split(train, labels, spec.validation_fraction, seed)
    notes += _few_validation_rows(validation, labels)
    return PreparedData(train, validation, labels, columns, Path(spec.path).name, notes)


def _few_validation_rows(validation: datasets.Dataset, labels: LabelSpace) -> list[str]:
    """A note when some class has too few validation rows for its scores to be steady."""
    counts = Counter(values_of(validation, "label"))
    few = sorted((counts[i], name) for i, name in enumerate(labels.names) if counts[i] < STEADY_VALIDATION_ROWS)
    if not few:
        return []
    shown = ", ".join(f"{n} '{name}'" for n, name in few[:3]) + (f" and {len(few) - 3} more" if len(few) > 3 else "")
    return [
        f"Few validation rows: {shown}. Their scores, and the epoch early stopping keeps, can swing with a "
        f"single row; more rows, a larger validation share or an evaluation CSV make them steadier."
    ]


def _drop_unusable_rows(table: datasets.Dataset, columns: Columns, notes: list[str], name: str) -> datasets.Dataset:
    """Drop rows without a label (or without text, for a text model) and say how many went."""

    def filled(value: str | None) -> bool:
        return bool((value or "").strip())

    def usable(batch: dict[str, list]) -> list[bool]:  # batched: per-row calls take seconds on 100,000 rows
        texts = batch[columns.text] if columns.text else batch[columns.label]
        return [filled(label) and filled(text) for label, text in zip(batch[columns.label], texts)]

    before = len(table)
    table = table.filter(usable, batched=True, batch_size=BATCH_ROWS)
    dropped = before - len(table)
    if dropped:
        what = f"an empty '{columns.label}'" + (f" or '{columns.text}'" if columns.text else "")
        notes.append(f"Dropped {dropped} of {before} rows with {what}.")
    if len(table) == 0:
        raise ValueError(f"{name} has no rows with a label in '{columns.label}'.")
    return table.map(
        lambda batch: {columns.label: [v.strip() for v in batch[columns.label]]}, batched=True, batch_size=BATCH_ROWS
    )


def _check_labels(table: datasets.Dataset, label: str, labels: LabelSpace, eval_given: bool) -> None:
    counts = Counter(values_of(table, label))
    if len(labels) < 2:
        raise ValueError(
            f"Column '{label}' has only one class ('{labels.names[0]}'); "
            f"a classifier needs at least two different labels."
        )
    if len(labels) > MAX_LABELS and len(labels) > len(table) // 2:
        raise ValueError(
            f"Column '{label}' has {len(labels)} different values in {len(table)} rows, which looks "
            f"like an id or free text, not a label; choose the label column."
        )
    rare = sorted(name for name, n in counts.items() if n < 2)
    if rare and not eval_given:
        shown = ", ".join(f"'{r}'" for r in rare[:5])
        raise ValueError(
            f"Class {shown} of '{label}' has only one row; each class needs at least 2 rows so that "
            f"some can be held back for validation (add rows, or give an evaluation CSV)."
        )


def _parse_features(row: dict[str, Any], names: Sequence[str]) -> list[float]:
    return [float(row[n]) if _is_number(row[n]) else math.nan for n in names]  # gaps are imputed later


def _canonical(table: datasets.Dataset, columns: Columns, labels: LabelSpace) -> datasets.Dataset:
    ids = labels.label2id

    def convert(batch: dict[str, list]) -> dict[str, list]:
        rows = [dict(zip(batch, cells)) for cells in zip(*batch.values())]
        return {
            "text": [(row[columns.text] or "").strip() if columns.text else "" for row in rows],
            "features": [_parse_features(row, columns.features) for row in rows],
            "label": [ids[row[columns.label]] for row in rows],
        }

    out = table.map(convert, batched=True, batch_size=BATCH_ROWS, remove_columns=table.column_names)
    out = out.cast_column("features", datasets.Sequence(datasets.Value("float32")))
    return out.cast_column("label", datasets.ClassLabel(names=list(labels.names)))


def _stratified_split(
    data: datasets.Dataset, labels: LabelSpace, fraction: float, seed: int
) -> tuple[datasets.Dataset, datasets.Dataset]:
    """Hold back `fraction` of each class, at least one row of every class and never a class's last row (the
    `datasets` splitter rounds a small class's share down to nothing, and then its scores cannot be seen)."""
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(values_of(data, "label")):
        by_class.setdefault(label, []).append(index)
    wanted = {label: fraction * len(rows) for label, rows in by_class.items()}
    held = {label: min(len(by_class[label]) - 1, max(1, math.floor(w))) for label, w in wanted.items()}
    # hand out the rows still missing from the total to the classes whose share was rounded down the most
    missing = round(fraction * len(data)) - sum(held.values())
    for label in sorted(wanted, key=lambda lb: held[lb] - wanted[lb]):
        if missing <= 0:
            break
        if held[label] < len(by_class[label]) - 1:
            held[label] += 1
            missing -= 1
    train_rows, validation_rows = [], []
    for label in sorted(by_class):
        rows = by_class[label]
        rng.shuffle(rows)
        validation_rows += rows[: held[label]]
        train_rows += rows[held[label] :]
    return data.select(sorted(train_rows)), data.select(sorted(validation_rows))


def _align_columns(table: datasets.Dataset, wanted: Sequence[str], what: str) -> datasets.Dataset:
    """Find the columns a trained model reads in another CSV (forgiving case and spaces, as when training)."""
    names = list(table.column_names)
    keys = {name.lower(): name for name in names}
    missing = [c for c in wanted if c.lower() not in keys]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {list_names(missing)} that the model reads; its columns are: {list_names(names)}."
        )
    renames = {keys[c.lower()]: c for c in wanted if keys[c.lower()] != c and c not in names}
    return table.rename_columns(renames) if renames else table


def _read_eval(path: str, columns: Columns, labels: LabelSpace, notes: list[str]) -> datasets.Dataset:
    table = _align_columns(
        read_csv(path),
        [c for c in (columns.text, columns.label, *columns.features) if c],
        f"The evaluation CSV {Path(path).name}",
    )
    table = _drop_unusable_rows(table, columns, notes, Path(path).name)
    known = set(labels.names)
    unseen = sorted({v for v in values_of(table, columns.label) if v not in known})
    if unseen:
        table = table.filter(lambda row: row[columns.label] in known)
        notes.append(f"Left out evaluation rows with labels never seen in training: {', '.join(unseen[:5])}.")
    if len(table) == 0:
        raise ValueError("No evaluation rows remain after dropping unknown or empty labels.")
    return _canonical(table, columns, labels)


def read_rows_for_prediction(
    path: str | Path, columns: Columns
) -> tuple[datasets.Dataset, list[str], list[list[float]]]:
    """The rows of a CSV to predict on: the table itself, the texts and the feature vectors a model reads."""
    table = _align_columns(read_csv(path), [c for c in (columns.text, *columns.features) if c], Path(path).name)
    texts = [(t or "").strip() for t in values_of(table, columns.text)] if columns.text else [""] * len(table)
    features = [_parse_features(row, columns.features) for row in table] if columns.features else [[]] * len(table)
    return table, texts, features
