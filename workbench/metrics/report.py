"""Evaluating a saved run: predict on its own validation rows or on a labelled CSV, score the predictions with
the shipped `evaluate` modules as the run's task does, and list the rows most worth a look: confident mistakes
(single-label), wrong label sets (multi-label), the largest errors (regression)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import torch

from .. import runs
from ..columns import align_columns, list_names
from ..data import ModelInputs, inputs_of, label_rows
from ..labels import LabelFormat, Task
from ..predict import Predictor
from ..tables import read_table

MAX_MISCLASSIFIED = 200
MAX_POINTS = 2000


def _validation_rows(predictor: Predictor) -> tuple[ModelInputs, torch.Tensor, list[str]]:
    path = predictor.run_dir / runs.VALIDATION_FILE
    if not path.is_file():
        raise ValueError(f"Run {predictor.run_dir.name} kept no validation rows; evaluate it on a labelled CSV.")
    table = datasets.Dataset.from_parquet(str(path), keep_in_memory=True)
    pairs = table["text_pair"][:] if "text_pair" in table.column_names else None
    inputs = ModelInputs(table["text"][:], pairs if predictor.reads_pairs else None, table["features"][:])
    notes = []
    if (predictor.record.model.details.get("head") or {}).get("refitted"):
        notes.append(
            "The saved head was fitted again on these validation rows after they had scored it, so its scores here "
            "are optimistic; the run's recorded scores are the honest ones (or evaluate it on a labelled file)."
        )
    return inputs, torch.tensor(table["label"][:]), notes


def _csv_rows(predictor: Predictor, path: str | Path) -> tuple[ModelInputs, torch.Tensor, list[str]]:
    columns, name = predictor.columns, Path(path).name
    table = read_table(path)
    missing = [c for c in columns.labels if c.lower() not in {n.lower() for n in table.column_names}]
    if missing:
        raise ValueError(
            f"{name} has no label column '{missing[0]}' to evaluate against; "
            f"its columns are: {list_names(table.column_names)}."
        )
    table = align_columns(table, [*columns.inputs, *columns.labels], name)
    label_format = LabelFormat(predictor.task, columns.labels, predictor.record.task.get("separator"))
    rows, known = label_rows(table, columns), set(predictor.labels)
    keep = [i for i, row in enumerate(rows) if label_format.has_label(row)]
    if predictor.task == Task.SINGLE_LABEL:
        keep = [i for i in keep if label_format.names_in(rows[i], i + 2)[0] in known]
    notes = []
    if len(keep) < len(rows):
        unknown = sorted({(r[columns.label] or "").strip() for r in rows} - known - {""})
        shown = f" ({', '.join(unknown[:5])})" if unknown and predictor.task == Task.SINGLE_LABEL else ""
        notes.append(f"Left out {len(rows) - len(keep)} rows whose label is empty or unknown to the model{shown}.")
    if not keep:
        raise ValueError(f"No row of {name} has a label the model knows ({list_names(predictor.labels)}).")
    space = predictor.rules.labels
    labels = torch.tensor([label_format.encode(rows[i], space, i + 2) for i in keep])
    return inputs_of(table.select(keep), columns), labels, notes


def rows_to_look_at(
    predictor: Predictor, texts: list[str], truths: list[str], predictions: list, labels: torch.Tensor
) -> list[dict[str, Any]]:
    """Confident mistakes first (single-label), rows with the most wrong labels (multi-label), or the largest
    errors (regression): the rows that tell most about the model."""
    if predictor.task == Task.REGRESSION:
        rows = [
            {"text": t, "true": round(y, 4), "predicted": round(p.value, 4), "error": round(p.value - y, 4)}
            for t, y, p in zip(texts, labels.tolist(), predictions)
        ]
        return sorted(rows, key=lambda row: -abs(row["error"]))[:MAX_MISCLASSIFIED]
    if predictor.task == Task.MULTI_LABEL:
        rows = []
        for t, truth, p in zip(texts, truths, predictions):
            wrong = set(filter(None, truth.split("|"))) ^ set(p.labels)  # "" is no label set, not a label
            if wrong:
                rows.append({"text": t, "true": truth, "predicted": p.label, "wrong_labels": len(wrong)})
        return sorted(rows, key=lambda row: -row["wrong_labels"])[:MAX_MISCLASSIFIED]
    rows = [
        {"text": t, "true": truth, "predicted": p.label, "confidence": round(p.score, 4)}
        for t, truth, p in zip(texts, truths, predictions)
        if p.label != truth
    ]
    return sorted(rows, key=lambda row: -row["confidence"])[:MAX_MISCLASSIFIED]


def evaluate_run(
    run_dir: str | Path, data_path: str | Path | None = None, predictor: Predictor | None = None
) -> dict[str, Any]:
    """The task's metrics of a run on its validation rows (no `data_path`) or on a labelled CSV, and the rows
    most worth a look (`misclassified`)."""
    predictor = predictor or Predictor.load(run_dir)
    inputs, labels, notes = _csv_rows(predictor, data_path) if data_path else _validation_rows(predictor)
    logits = predictor.scorer.logits(inputs)
    report = predictor.rules.report(logits, labels)
    predictions = predictor.rules.predictions(logits)
    truths = predictor.rules.truths(labels)
    report["misclassified"] = rows_to_look_at(predictor, inputs.texts, truths, predictions, labels)
    if predictor.task == Task.REGRESSION:  # for the predicted-against-true picture
        report["points"] = [(round(y, 4), round(p.value, 4)) for y, p in zip(labels.tolist(), predictions)][:MAX_POINTS]
    report["task"] = predictor.task.value
    report["notes"] = notes
    report["data"] = Path(data_path).name if data_path else "validation split"
    return report
