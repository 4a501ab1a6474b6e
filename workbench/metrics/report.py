"""Evaluating a saved run: predict on its own validation rows or on a labelled CSV, score the predictions with
the shipped `evaluate` modules, and list the examples the model got wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from .. import runs
from ..data import list_names, read_rows_for_prediction
from ..predict import Predictor
from . import compute_classification_metrics

MAX_MISCLASSIFIED = 200


def _validation_rows(predictor: Predictor) -> tuple[list[str], list[list[float]], list[str], list[str]]:
    path = predictor.run_dir / runs.VALIDATION_FILE
    if not path.is_file():
        raise ValueError(f"Run {predictor.run_dir.name} kept no validation rows; evaluate it on a labelled CSV.")
    table = datasets.Dataset.from_parquet(str(path), keep_in_memory=True)
    labels = [predictor.labels[i] for i in table["label"]]
    return table["text"], table["features"], labels, []


def _csv_rows(predictor: Predictor, path: str | Path) -> tuple[list[str], list[list[float]], list[str], list[str]]:
    label_column = predictor.columns.label
    table, texts, features = read_rows_for_prediction(path, predictor.columns)
    if label_column not in table.column_names:
        raise ValueError(
            f"{Path(path).name} has no label column '{label_column}' to evaluate against; "
            f"its columns are: {list_names(table.column_names)}."
        )
    known, notes = set(predictor.labels), []
    values = [(v or "").strip() for v in table[label_column]]
    keep = [i for i, v in enumerate(values) if v in known]
    if len(keep) < len(values):
        unknown = sorted({v for v in values if v and v not in known})
        notes.append(
            f"Left out {len(values) - len(keep)} rows whose label is empty or unknown to the model"
            + (f" ({', '.join(unknown[:5])})." if unknown else ".")
        )
    if not keep:
        raise ValueError(f"No row of {Path(path).name} has a label the model knows ({list_names(predictor.labels)}).")
    return [texts[i] for i in keep], [features[i] for i in keep], [values[i] for i in keep], notes


def evaluate_run(
    run_dir: str | Path, data_path: str | Path | None = None, predictor: Predictor | None = None
) -> dict[str, Any]:
    """Metrics of a run on its validation rows (no `data_path`) or on a labelled CSV, plus misclassified rows."""
    predictor = predictor or Predictor.load(run_dir)
    rows = _csv_rows(predictor, data_path) if data_path else _validation_rows(predictor)
    texts, features, truths, notes = rows
    predictions = predictor.predict(texts, features)
    label_id = {name: i for i, name in enumerate(predictor.labels)}
    report = compute_classification_metrics(
        [label_id[t] for t in truths], [label_id[p.label] for p in predictions], predictor.labels
    )
    wrong = [
        {"text": text, "true": truth, "predicted": p.label, "confidence": round(p.score, 4)}
        for text, truth, p in zip(texts, truths, predictions)
        if p.label != truth
    ]
    wrong.sort(key=lambda row: -row["confidence"])  # confident mistakes first: the most telling ones
    report["misclassified"] = wrong[:MAX_MISCLASSIFIED]
    report["notes"] = notes
    report["data"] = Path(data_path).name if data_path else "validation split"
    return report
