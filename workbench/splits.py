"""Holding back validation rows so that the scores say something: every class (single-label), every label with two
rows or more (multi-label), and each fifth of the target's range (regression) is seen on both sides of the split."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import datasets

from .columns import values_of
from .labels import Task

TARGET_BINS = 5  # regression splits keep each fifth of the target range on both sides
AUTO_VALIDATION_FRACTION = 0.2
# At 2,000 rows a validation score's spread is about a point and it ranks two models a point apart as the truth
# does 86-90% of the time; doubling the rows buys ~5 points of that for twice the cost of every evaluation (~42
# BERT training steps at 2,000 rows): benchmarks/validation_rows.py, docs/benchmarks.md "Validation rows".
MAX_AUTO_VALIDATION_ROWS = 2000


def validation_fraction(rows: int, given: float | None) -> float:
    """The share of `rows` to hold back: the one given, else 20% of them but at most MAX_AUTO_VALIDATION_ROWS."""
    if given is not None:
        return given
    return min(AUTO_VALIDATION_FRACTION, MAX_AUTO_VALIDATION_ROWS / max(rows, 1))


def split(data: datasets.Dataset, task: Task, fraction: float, seed: int) -> tuple[datasets.Dataset, datasets.Dataset]:
    """Hold back `fraction` of the rows for validation, so that each class (single-label), each label with two rows
    or more (multi-label), or each fifth of the target's range (regression) is seen on both sides."""
    values = values_of(data, "label")
    if task == Task.MULTI_LABEL:
        validation = _multilabel_validation_rows(values, fraction, seed)
    else:
        groups = values if task == Task.SINGLE_LABEL else _target_bins(values)
        validation = _stratified_validation_rows(groups, fraction, seed)
    train = [i for i in range(len(data)) if i not in validation]
    return data.select(train), data.select(sorted(validation))


def _target_bins(values: Sequence[float]) -> list[int]:
    """Each value's fifth of the sorted targets (fewer bins when there are few rows)."""
    bins = max(1, min(TARGET_BINS, len(values) // 10))
    order = sorted(range(len(values)), key=values.__getitem__)
    group = [0] * len(values)
    for rank, index in enumerate(order):
        group[index] = rank * bins // len(values)
    return group


def _stratified_validation_rows(groups: Sequence[Any], fraction: float, seed: int) -> set[int]:
    """Hold back `fraction` of each group, at least one row of every group and never a group's last row (the
    `datasets` splitter rounds a small class's share down to nothing, and then its scores cannot be seen)."""
    rng = random.Random(seed)
    by_group: dict[Any, list[int]] = {}
    for index, group in enumerate(groups):
        by_group.setdefault(group, []).append(index)
    wanted = {group: fraction * len(rows) for group, rows in by_group.items()}
    held = {group: min(len(by_group[group]) - 1, max(1, math.floor(w))) for group, w in wanted.items()}
    # hand out the rows still missing from the total to the groups whose share was rounded down the most
    missing = round(fraction * len(groups)) - sum(held.values())
    for group in sorted(wanted, key=lambda g: held[g] - wanted[g]):
        if missing <= 0:
            break
        if held[group] < len(by_group[group]) - 1:
            held[group] += 1
            missing -= 1
    validation = set()
    for group in sorted(by_group):
        rows = by_group[group]
        rng.shuffle(rows)
        validation.update(rows[: held[group]])
    return validation


def _multilabel_validation_rows(rows: Sequence[Sequence[float]], fraction: float, seed: int) -> set[int]:
    """A random `fraction` of the rows, then mended so that every label with two rows or more has one on each
    side: rarest labels first, a row is moved across where one side lacks the label, choosing a row whose move
    leaves every other label of it still on both sides; repeated until nothing moves."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    validation = set(order[: max(1, round(fraction * len(rows)))])
    labels_of = [[j for j, on in enumerate(row) if on] for row in rows]
    having = [[i for i in order if rows[i][j]] for j in range(len(rows[0]) if rows else 0)]

    def movable(i: int) -> bool:  # no label of row i would be left without a row on the side it leaves
        leaving = i in validation
        return all(sum((r in validation) == leaving for r in having[k]) > 1 for k in labels_of[i] if len(having[k]) > 1)

    for _ in range(len(having)):
        moved = False
        for j in sorted(range(len(having)), key=lambda j: len(having[j])):
            held = [i for i in having[j] if i in validation]
            if len(having[j]) < 2 or 0 < len(held) < len(having[j]):
                continue
            candidate = next((i for i in having[j] if movable(i)), None)
            if candidate is not None:
                validation.symmetric_difference_update({candidate})
                moved = True
        if not moved:
            break
    return validation
