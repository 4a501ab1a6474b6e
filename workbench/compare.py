"""Runs side by side: two or more runs of the same task and labels answer one text, or every row of a file, and
the places where they disagree come first. A run that also reads numeric columns gets, for a typed text, its
training rows' means (as the Predict tab's form starts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .columns import align_columns, values_of
from .data import inputs_of, label_rows
from .labels import LabelFormat, Task, is_number
from .predict import Prediction, Predictor
from .tables import read_table

# regression runs disagree when their values lie further apart than this share of the target's spread
VALUE_TOLERANCE = 0.1


def check_comparable(predictors: Sequence[Predictor]) -> None:
    """Two runs or more, all of one task over the same labels."""
    if len(predictors) < 2:
        raise ValueError("Choose two runs or more to compare.")
    first = predictors[0]
    for other in predictors[1:]:
        if other.task != first.task or sorted(other.labels) != sorted(first.labels):
            raise ValueError(
                f"Runs {first.run_dir.name} ({_question(first)}) and {other.run_dir.name} ({_question(other)}) answer "
                f"different questions; compare runs of the same task and labels."
            )


def _question(predictor: Predictor) -> str:
    if predictor.task == Task.REGRESSION:
        return f"a number, {predictor.columns.labels[0]}"
    return f"{predictor.task.value} over {', '.join(sorted(predictor.labels))}"


def answer_text(prediction: Prediction) -> str:
    """A prediction's answer in a few characters: the label, the labels joined with |, or the value."""
    if prediction.task == Task.REGRESSION:
        return f"{prediction.value:.4g}"
    if prediction.task == Task.MULTI_LABEL:
        return "|".join(sorted(prediction.labels))
    return prediction.label


def disagree(predictions: Sequence[Prediction], tolerance: float) -> bool:
    """Whether the runs answer differently: another label (set), or values further apart than `tolerance`."""
    if predictions[0].task == Task.REGRESSION:
        values = [p.value for p in predictions]
        return max(values) - min(values) > tolerance
    return len({answer_text(p) for p in predictions}) > 1


def value_tolerance(predictors: Sequence[Predictor]) -> float:
    spreads = [float(p.record.task.get("target_std") or 0.0) for p in predictors]
    return VALUE_TOLERANCE * min(spreads) if predictors[0].task == Task.REGRESSION else 0.0


def compare_text(predictors: Sequence[Predictor], text: str, pair: str | None = None) -> dict[str, Any]:
    """Each run's answer to one text (and the second text, for runs on pairs), and whether they disagree."""
    check_comparable(predictors)
    predictions = []
    for predictor in predictors:
        features = [predictor.feature_defaults] if predictor.feature_names else None
        predictions.append(predictor.predict([text], features, [pair or ""] if predictor.reads_pairs else None)[0])
    return {
        "disagree": disagree(predictions, value_tolerance(predictors)),
        "runs": [
            {"run": predictor.run_dir.name, "answer": answer_text(p), **p.to_dict()}
            for predictor, p in zip(predictors, predictions)
        ],
    }


@dataclass
class FileComparison:
    """Every row's answers, disagreements first; each run's share of rows it answered as the file's labels do
    (for regression, its mean absolute error) when the file has them."""

    columns: list[str]
    rows: list[list[Any]]
    disagreements: int
    scores: dict[str, float]


def compare_file(predictors: Sequence[Predictor], path: str | Path) -> FileComparison:
    check_comparable(predictors)
    table, name = read_table(path), Path(path).name
    answers = []
    for predictor in predictors:
        rows = align_columns(table, predictor.columns.inputs, name)
        answers.append(predictor.predict_inputs(inputs_of(rows, predictor.columns)))
    truths = _truths(predictors[0], table)
    tolerance = value_tolerance(predictors)
    shown = predictors[0].columns.text or predictors[0].columns.inputs[0]
    shown_cells = values_of(table, shown)
    runs = [p.run_dir.name for p in predictors]
    rows = []
    for index, predictions in enumerate(zip(*answers)):
        split = disagree(predictions, tolerance)
        truth = [truths[index]] if truths is not None else []
        cells = [index + 2, "yes" if split else "", *truth, *[answer_text(p) for p in predictions]]
        rows.append((not split, index, [*cells, shown_cells[index]]))
    rows.sort(key=lambda row: row[:2])
    columns = ["line", "disagree", *(["true"] if truths is not None else []), *runs, shown]
    scores = _scores(predictors[0].task, truths, answers, runs) if truths is not None else {}
    return FileComparison(columns, [r[2] for r in rows], sum(not r[0] for r in rows), scores)


def _truths(predictor: Predictor, table: Any) -> list[str] | None:
    """The file's own answers written as `answer_text` writes them, when it has the label column(s)."""
    names = {n.lower() for n in table.column_names}
    if not all(c.lower() in names for c in predictor.columns.labels):
        return None
    table = align_columns(table, predictor.columns.labels, "")
    label_format = LabelFormat(predictor.task, predictor.columns.labels, predictor.record.task.get("separator"))
    rows = label_rows(table, predictor.columns)
    if predictor.task == Task.MULTI_LABEL:
        return ["|".join(sorted(label_format.names_in(row, line))) for line, row in enumerate(rows, start=2)]
    return [(row[predictor.columns.labels[0]] or "").strip() for row in rows]


def _scores(task: Task, truths: list[str], answers: list[list[Prediction]], runs: list[str]) -> dict[str, float]:
    scores = {}
    for run, predictions in zip(runs, answers):
        pairs = [(t, p) for t, p in zip(truths, predictions) if t]
        if task == Task.REGRESSION:
            errors = [abs(float(t) - p.value) for t, p in pairs if is_number(t)]
            scores[run] = sum(errors) / len(errors) if errors else float("nan")
        else:
            scores[run] = sum(t == answer_text(p) for t, p in pairs) / len(pairs) if pairs else float("nan")
    return scores
