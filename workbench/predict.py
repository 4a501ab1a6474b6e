"""Predicting with a saved run: `Predictor.load(run_dir)` reads nothing but the run folder, then `predict` gives a
label and the probability of every label for one text, many texts, or the rows of a CSV.

Texts are batched longest first, so each batch pads little, and run under `torch.inference_mode`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors import SafetensorError
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from . import runs
from .data import Columns, read_rows_for_prediction
from .devices import fast_matmuls
from .models import mlp
from .models.bert import length_sorted_batches

BATCH_SIZE = 32
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "probabilities": self.probabilities}


class Predictor:
    def __init__(self, run_dir: Path, record: dict[str, Any], model: torch.nn.Module, encoder: Any):
        self.run_dir, self.record, self.model, self.encoder = run_dir, record, model, encoder
        self.labels: list[str] = record["labels"]
        self.columns = Columns(**record["columns"])
        self.kind: str = record["model"]["kind"]
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()

    @classmethod
    def load(cls, run_dir: str | Path) -> "Predictor":
        run_dir = Path(run_dir)
        record = runs.require_loadable(run_dir)
        try:
            if record["model"]["kind"] == "mlp":
                model, encoder = mlp.load_mlp(run_dir)
            else:  # safetensors only, never a pickled checkpoint; no code from the folder runs
                model = AutoModelForSequenceClassification.from_pretrained(run_dir, use_safetensors=True,
                                                                           trust_remote_code=False)
                encoder = AutoTokenizer.from_pretrained(run_dir, trust_remote_code=False)
        except (OSError, RuntimeError, KeyError, ValueError, SafetensorError) as error:  # damaged files
            raise ValueError(f"The saved model of run {run_dir.name} is damaged or incomplete "
                             f"({type(error).__name__}) and cannot be loaded; train it again.") from error
        return cls(run_dir, record, model, encoder)

    def predict(self, texts: str | Sequence[str], features: Sequence[Sequence[float]] | None = None
                ) -> Prediction | list[Prediction]:
        """One prediction for one text, a list for a list of texts (`features` are rows of numbers, MLP only)."""
        if isinstance(texts, str):
            return self.predict([texts], [features[0]] if features else None)[0]
        texts = list(texts)
        features = list(features) if features is not None else [[] for _ in texts]
        if self.kind == "mlp" and len(self.columns.features) and any(len(f) != len(self.columns.features)
                                                                    for f in features):
            raise ValueError(f"This model reads the numeric columns {', '.join(self.columns.features)}; "
                             f"give a value for each.")
        if not texts:
            return []
        probabilities = self._probabilities(texts, features)
        return [self._prediction(row) for row in probabilities.tolist()]

    def _prediction(self, row: list[float]) -> Prediction:
        best = max(range(len(row)), key=row.__getitem__)
        return Prediction(self.labels[best], row[best], dict(zip(self.labels, row)))

    @torch.inference_mode()
    def _probabilities(self, texts: list[str], features: list[Sequence[float]]) -> torch.Tensor:
        if self.kind == "mlp":
            return self._mlp_probabilities(texts, features)
        with fast_matmuls(self.device):
            return self._bert_probabilities(texts)

    def _mlp_probabilities(self, texts: list[str], features: list[Sequence[float]]) -> torch.Tensor:
        out = torch.empty(len(texts), len(self.labels))
        for start in range(0, len(texts), 256):
            x = self.encoder.transform(texts[start:start + 256], features[start:start + 256]).to(self.device)
            out[start:start + 256] = self.model(x).float().softmax(-1).cpu()
        return out

    def _bert_probabilities(self, texts: list[str]) -> torch.Tensor:
        out = torch.empty(len(texts), len(self.labels))
        # the whole text up to the model's limit, as transformers.pipeline reads it (training may have cut shorter)
        encoded = self.encoder(texts, truncation=True, max_length=self._model_limit())
        lengths = [len(ids) for ids in encoded["input_ids"]]
        for batch in length_sorted_batches(lengths, BATCH_SIZE):
            inputs = self.encoder.pad({k: [v[i] for i in batch] for k, v in encoded.items()}, return_tensors="pt")
            logits = self.model(**{k: v.to(self.device) for k, v in inputs.items()}).logits
            out[batch] = logits.float().softmax(-1).cpu()
        return out

    def _model_limit(self) -> int:
        positions = getattr(self.model.config, "max_position_embeddings", 512) or 512
        return int(min(positions, self.encoder.model_max_length))

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
