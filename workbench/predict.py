"""Predicting with a saved run: `Predictor.load(run_dir)` reads nothing but the run folder (the run's model family
loads its own files), then `predict` gives a label and the probability of every label for one text, many texts, or
the rows of a CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError

from . import runs
from .data import Columns, read_rows_for_prediction
from .models import Scorer, family_of_kind

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "probabilities": self.probabilities}


class Predictor:
    """A run loaded for prediction; it tells what its model reads (`columns`, `feature_names`) so that no caller
    needs to know the model family."""

    def __init__(self, record: runs.RunRecord, scorer: Scorer):
        self.record, self.scorer = record, scorer
        self.run_dir = record.path
        self.labels: list[str] = list(record.labels)
        self.columns: Columns = record.columns
        self.feature_names: list[str] = (
            list(self.columns.features) if family_of_kind(record.model.kind).reads_features else []
        )

    @classmethod
    def load(cls, run_dir: str | Path) -> Predictor:
        run_dir = Path(run_dir)
        record = runs.require_loadable(run_dir)
        family = family_of_kind(record.model.kind)
        try:
            scorer = family.load(run_dir)
        except (OSError, RuntimeError, KeyError, ValueError, SafetensorError) as error:  # damaged files
            raise ValueError(
                f"The saved model of run {run_dir.name} is damaged or incomplete "
                f"({type(error).__name__}) and cannot be loaded; train it again."
            ) from error
        return cls(record, scorer)

    @property
    def reads_text(self) -> bool:
        return self.columns.text is not None

    def predict(
        self, texts: str | Sequence[str], features: Sequence[Sequence[float]] | None = None
    ) -> Prediction | list[Prediction]:
        """One prediction for one text, a list for a list of texts (`features`: rows of `feature_names` values)."""
        if isinstance(texts, str):
            return self.predict([texts], [features[0]] if features else None)[0]
        texts = list(texts)
        features = list(features) if features is not None else [[] for _ in texts]
        if self.feature_names and any(len(f) != len(self.feature_names) for f in features):
            raise ValueError(
                f"This model reads the numeric columns {', '.join(self.feature_names)}; give a value for each."
            )
        if not texts:
            return []
        return [self._prediction(row) for row in self.scorer.probabilities(texts, features).tolist()]

    def _prediction(self, row: list[float]) -> Prediction:
        best = max(range(len(row)), key=row.__getitem__)
        return Prediction(self.labels[best], row[best], dict(zip(self.labels, row)))

    def predict_csv(self, path: str | Path, output: str | Path) -> int:
        """Write the CSV's rows back with the predicted label, its probability and each label's; returns the count."""
        table, texts, features = read_rows_for_prediction(path, self.columns)
        predictions = self.predict(texts, features)
        header = list(table.column_names) + ["predicted_label", "confidence"] + [f"p_{name}" for name in self.labels]

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow([neutralise_formula(c) for c in header])
                for row, p in zip(table, predictions):
                    cells = [row[c] for c in table.column_names] + [p.label, f"{p.score:.6f}"]
                    cells += [f"{p.probabilities[name]:.6f}" for name in self.labels]
                    writer.writerow([neutralise_formula(c) for c in cells])

        runs.atomic_write_with(Path(output), write)
        return len(predictions)


def neutralise_formula(cell: Any) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix it with a quote."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_PREFIXES):
        try:
            float(text)
            return text  # a negative number is data, not a formula
        except ValueError:
            return "'" + text
    return text
