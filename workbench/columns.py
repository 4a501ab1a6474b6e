"""Which columns of a user's table the model reads and learns: the text (and an optional second text read with it,
as a pair), the label column or columns, and the numeric features. Each is detected when not given; given names
forgive case and surrounding spaces. Pairs are never guessed: the user names them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import datasets

from .config import as_names
from .labels import MAX_LABELS, is_number

LABEL_HINTS = (
    "label",
    "labels",
    "target",
    "class",
    "category",
    "rating",
    "sentiment",
    "stars",
    "y",
    "tags",
    "topics",
    "price",
)
ID_HINTS = ("id", "index", "idx", "row", "uuid")
PROBE_ROWS = 2000


@dataclass(frozen=True)
class Columns:
    text: str | None
    labels: tuple[str, ...]  # one column, or several 0/1 columns that together hold a multi-label row
    features: tuple[str, ...]
    text_pair: str | None = None

    @property
    def label(self) -> str:
        """The label column (the first, when several 0/1 columns hold the labels)."""
        return self.labels[0]

    @property
    def inputs(self) -> list[str]:
        """The columns a trained model reads to predict."""
        return [c for c in (self.text, self.text_pair, *self.features) if c]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "text_pair": self.text_pair,
            "labels": list(self.labels),
            "features": list(self.features),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Columns:
        labels = data.get("labels") or [data["label"]]  # runs from before several label columns name one
        return cls(data.get("text"), tuple(labels), tuple(data.get("features") or ()), data.get("text_pair"))


def list_names(names: Sequence[str], limit: int = 8) -> str:
    """Column names for a message: all of a few, the first `limit` of many."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def values_of(table: datasets.Dataset, name: str) -> list[Any]:
    """A column's values as a list. `table[name]` alone is a lazy column that decodes row by row, which takes
    seconds on 100,000 rows; one slice reads the whole column at once."""
    return table[name][:]


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
    numeric = all(is_number(v) for v in values)
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
    table: datasets.Dataset,
    text: str | None = None,
    label: str | Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    text_pair: str | None = None,
) -> Columns:
    """Pick the label, text and numeric feature columns; any of them may be given instead (a text pair only so)."""
    names = list(table.column_names)
    sample = table.select(range(min(len(table), PROBE_ROWS)))
    profiles = {name: _profile(sample, name) for name in names}
    given = as_names(label)
    labels = tuple(_resolve(names, n) for n in given) if given else _detect_label(profiles)
    if not labels:
        raise ValueError(f"No label column found; choose the label column (columns: {list_names(names)}).")
    pair = _resolve(names, text_pair) if text_pair else None
    text = _resolve(names, text) if text else _detect_text(profiles, (*labels, pair))
    if pair is not None and text is None:
        raise ValueError(f"A text pair needs a first text column as well as '{pair}'; choose the text column.")
    if features is not None:
        features = tuple(_resolve(names, f) for f in features)
        for name in features:
            if not profiles[name].numeric:
                raise ValueError(f"Feature column '{name}' is not numeric; feature columns must hold numbers.")
    else:
        taken = {*labels, text, pair}
        features = tuple(
            p.name
            for p in profiles.values()
            if p.numeric and p.name not in taken and p.name.lower() not in ID_HINTS and not p.running_number
        )
    if text is None and not features:
        raise ValueError(
            f"Found no text column and no numeric feature columns besides the label '{labels[0]}' "
            f"(columns: {list_names(names)})."
        )
    return Columns(text=text, labels=labels, features=features, text_pair=pair)


def _resolve(names: Sequence[str], wanted: str) -> str:
    """Match a user-given column name, forgiving case and surrounding whitespace."""
    wanted_key = wanted.strip().lower()
    for name in names:
        if name.lower() == wanted_key:
            return name
    raise ValueError(f"Column '{wanted}' is not in the file; its columns are: {list_names(names)}.")


def _detect_label(profiles: dict[str, _Profile]) -> tuple[str, ...]:
    def few_classes(p: _Profile) -> bool:
        return 2 <= p.unique <= MAX_LABELS and p.unique <= max(2, p.values // 2)

    named = sorted(
        (p for p in profiles.values() if p.name.lower() in LABEL_HINTS), key=lambda p: LABEL_HINTS.index(p.name.lower())
    )
    hinted = [p for p in named if p.unique >= 1]
    if hinted:
        return (hinted[0].name,)
    if named:  # a column called "label" with nothing in it: say so, rather than "no label column found"
        raise ValueError(f"The label column '{named[0].name}' is empty in every row; fill in a label for each row.")
    low_cardinality = [p for p in profiles.values() if few_classes(p) and p.mean_length < 40]
    return (low_cardinality[-1].name,) if low_cardinality else ()


def _detect_text(profiles: dict[str, _Profile], labels: Sequence[str]) -> str | None:
    candidates = [
        p
        for p in profiles.values()
        if p.name not in labels and not p.numeric and (p.mean_length >= 20 or p.spaced >= 0.5)
    ]
    return max(candidates, key=lambda p: p.mean_length).name if candidates else None


def align_columns(table: datasets.Dataset, wanted: Sequence[str], what: str) -> datasets.Dataset:
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
