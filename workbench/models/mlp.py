"""The from-scratch MLP family: `Linear(n_in, 256) -> ReLU -> Linear(256, n_classes)`, the 784-256-10 network
of the PyTorch `nn.Module` tutorials widened to any input, and the featurizer that feeds it: numeric columns
standardised, and a text column as TF-IDF-weighted bag of words and word pairs, so that every text CSV also gets
a fast baseline to compare BERT against.

The featurizer is plain numbers and words, saved as JSON beside the safetensors weights: nothing is pickled.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader

from ..config import MLP as MLP_NAME
from ..data import ModelInputs
from ..runs import atomic_write_json, atomic_write_with
from .base import FamilyDefaults, ModelBundle, OnnxModule, parameter_count

WORD = re.compile(r"\w+")
MAX_VOCABULARY = 20_000
DENSE_CELLS = 25_000_000  # a training matrix up to this many floats (100 MB) is densified once, up front
SparseRow = list[tuple[int, float]]


class MLP(nn.Module):
    def __init__(self, n_in: int, n_classes: int, hidden: int = 256):
        super().__init__()
        self.hidden = nn.Linear(n_in, hidden)
        self.activation = nn.ReLU()
        self.output = nn.Linear(hidden, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.output(self.activation(self.hidden(features)))


def terms(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


@dataclass(frozen=True)
class Bag:
    """A TF-IDF bag of words and word pairs: the kept terms with their columns, and their idf weights."""

    vocabulary: dict[str, int]
    idf: list[float]

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Bag:
        document_frequency = Counter(term for text in texts if text for term in set(terms(text)))
        kept = sorted(document_frequency.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_VOCABULARY]
        n = len(texts)
        idf = [math.log((1 + n) / (1 + df)) + 1 for _, df in kept]  # scikit-learn's smoothed idf
        return cls({term: i for i, (term, _) in enumerate(kept)}, idf)

    def encode(self, text: str, offset: int) -> SparseRow:
        """The text's TF-IDF weights as (column, value) pairs, L2-normalised, from column `offset` on."""
        counts = Counter(t for t in terms(text) if t in self.vocabulary)
        weights = {self.vocabulary[t]: (1 + math.log(c)) * self.idf[self.vocabulary[t]] for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return [(offset + i, w / norm) for i, w in weights.items()]


class Featurizer:
    """Maps (text, numeric features[, second text]) to one dense vector: [standardised numbers | L2-normalised
    TF-IDF of the text | L2-normalised TF-IDF of the pair's second text, a bag of its own]."""

    def __init__(self, text: Bag, means: Sequence[float], stds: Sequence[float], pair: Bag | None = None):
        self.text, self.pair = text, pair
        self.means, self.stds = list(means), list(stds)

    @property
    def vocabulary(self) -> dict[str, int]:
        return self.text.vocabulary

    @property
    def size(self) -> int:
        return len(self.means) + len(self.text.vocabulary) + (len(self.pair.vocabulary) if self.pair else 0)

    @classmethod
    def fit(
        cls, texts: Sequence[str], features: Sequence[Sequence[float]], pairs: Sequence[str] | None = None
    ) -> Featurizer:
        columns = list(zip(*features)) if features and features[0] else []
        means, stds = [], []
        for column in columns:
            present = [v for v in column if not math.isnan(v)]
            mean = sum(present) / len(present) if present else 0.0
            var = sum((v - mean) ** 2 for v in present) / len(present) if present else 0.0
            means.append(mean)
            stds.append(math.sqrt(var) or 1.0)
        return cls(Bag.fit(texts), means, stds, Bag.fit(pairs) if pairs is not None else None)

    def encode_text(self, text: str, pair: str | None = None) -> SparseRow:
        """The text's (and the pair's) TF-IDF weights as (column, value) pairs, after the numeric columns."""
        row = self.text.encode(text, len(self.means))
        if self.pair is not None:
            row += self.pair.encode(pair or "", len(self.means) + len(self.text.vocabulary))
        return row

    def standardise(self, features: Sequence[Sequence[float]]) -> torch.Tensor:
        """The numeric columns as one (rows, columns) tensor, standardised; a missing value becomes the mean."""
        if not self.means:
            return torch.zeros(len(features), 0)
        numbers = torch.tensor([list(row) for row in features], dtype=torch.float64).view(-1, len(self.means))
        means, stds = (torch.tensor(values, dtype=torch.float64) for values in (self.means, self.stds))
        return torch.nan_to_num((numbers - means) / stds, nan=0.0).float()

    def densify(self, numbers: torch.Tensor, texts: Sequence[SparseRow]) -> torch.Tensor:
        """One dense matrix: the standardised numbers, then the text weights put in with one indexed write."""
        out = torch.zeros(len(texts), self.size)
        out[:, : numbers.shape[1]] = numbers
        cells = [(r, column, value) for r, row in enumerate(texts) for column, value in row]
        if cells:
            row_index, column_index, values = zip(*cells)
            out.index_put_((torch.tensor(row_index), torch.tensor(column_index)), torch.tensor(values))
        return out

    def encode_texts(self, texts: Sequence[str], pairs: Sequence[str] | None) -> list[SparseRow]:
        return [self.encode_text(t, p) for t, p in zip(texts, pairs or [None] * len(texts))]

    def transform(
        self, texts: Sequence[str], features: Sequence[Sequence[float]], pairs: Sequence[str] | None = None
    ) -> torch.Tensor:
        return self.densify(self.standardise(features), self.encode_texts(texts, pairs))

    def to_dict(self) -> dict[str, Any]:
        pair = {"pair_vocabulary": self.pair.vocabulary, "pair_idf": self.pair.idf} if self.pair else {}
        return {
            "vocabulary": self.text.vocabulary,
            "idf": self.text.idf,
            "means": self.means,
            "stds": self.stds,
            **pair,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Featurizer:
        pair = Bag(data["pair_vocabulary"], data["pair_idf"]) if "pair_vocabulary" in data else None
        return cls(Bag(data["vocabulary"], data["idf"]), data["means"], data["stds"], pair)


def _loader(
    featurizer: Featurizer,
    rows: dict[str, list],
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
) -> DataLoader:
    numbers = featurizer.standardise(rows["features"])
    text_rows = featurizer.encode_texts(rows["text"], rows.get("text_pair"))
    # Densify all rows once when the matrix is small enough (a batch is then a slice); else batch by batch.
    matrix = featurizer.densify(numbers, text_rows) if len(text_rows) * featurizer.size <= DENSE_CELLS else None
    targets = torch.tensor(rows["label"])  # class ids, rows of 0/1 per label, or numbers: as the task has them

    def collate(indices: list[int]) -> dict[str, torch.Tensor]:
        index = torch.tensor(indices)
        if matrix is not None:
            return {"features": matrix[index], "labels": targets[index]}
        return {
            "features": featurizer.densify(numbers[index], [text_rows[i] for i in indices]),
            "labels": targets[index],
        }

    return DataLoader(
        range(len(text_rows)),
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate,
        generator=generator,
        pin_memory=torch.cuda.is_available(),
    )


def build(data: Any, hidden: int, batch_size: int, generator: torch.Generator) -> ModelBundle:
    """Fit the featurizer on the training rows and make the MLP and its loaders."""
    # plain lists: indexing a `datasets` column row by row costs a fingerprint hash per row, more than the step
    train, validation = data.train.to_dict(), data.validation.to_dict()
    featurizer = Featurizer.fit(train["text"], train["features"], train.get("text_pair"))
    if featurizer.size == 0:
        raise ValueError(
            "The MLP found nothing to learn from: the text column has no words and there are no "
            "numeric feature columns."
        )
    model = MLP(featurizer.size, data.n_outputs, hidden)

    def save(trained: nn.Module, folder: Path) -> None:
        save_mlp(trained, featurizer, folder)

    return ModelBundle(
        model=model,
        train_loader=_loader(featurizer, train, batch_size, True, generator),
        eval_loader=_loader(featurizer, validation, 256, False),
        save=save,
        name="mlp",
        info={
            "inputs": featurizer.size,
            "hidden": hidden,
            "parameters": parameter_count(model),
            "vocabulary": len(featurizer.vocabulary),
            "numeric_features": len(featurizer.means),
        },
    )


def save_mlp(model: nn.Module, featurizer: Featurizer, folder: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_with(folder / "model.safetensors", lambda tmp: save_file(state, str(tmp)))
    atomic_write_json(folder / "featurizer.json", featurizer.to_dict())
    atomic_write_json(
        folder / "mlp.json",
        {"n_in": model.hidden.in_features, "hidden": model.hidden.out_features, "n_classes": model.output.out_features},
    )


def load_mlp(folder: Path) -> tuple[MLP, Featurizer]:
    dims = json.loads((folder / "mlp.json").read_text())
    model = MLP(dims["n_in"], dims["n_classes"], dims["hidden"])
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    featurizer = Featurizer.from_dict(json.loads((folder / "featurizer.json").read_text()))
    return model.eval(), featurizer


def describe(n_in: int, n_classes: int, hidden: int = 256) -> dict[str, Any]:
    """The MLP's layers and parameter counts (weights plus biases)."""
    parts = [
        (f"hidden: Linear({n_in} → {hidden})", n_in * hidden + hidden),
        ("activation: ReLU", 0),
        (f"output: Linear({hidden} → {n_classes})", hidden * n_classes + n_classes),
    ]
    return {
        "title": "MLP (from scratch)",
        "total": sum(n for _, n in parts),
        "parts": parts,
        "note": "Inputs: standardised numeric columns and a TF-IDF bag of words and word pairs of the text.",
    }


class MLPScorer:
    """A saved MLP and its featurizer, scoring rows 256 at a time."""

    def __init__(self, model: MLP, featurizer: Featurizer):
        self.model, self.featurizer = model, featurizer
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)

    @torch.inference_mode()
    def logits(self, inputs: ModelInputs) -> torch.Tensor:
        out = torch.empty(len(inputs.texts), self.model.output.out_features)
        for start in range(0, len(inputs.texts), 256):
            rows = slice(start, start + 256)
            pairs = inputs.pairs[rows] if inputs.pairs is not None else None
            x = self.featurizer.transform(inputs.texts[rows], inputs.features[rows], pairs).to(self.device)
            out[rows] = self.model(x).float().cpu()
        return out

    def explainer(self, feature_names: Sequence[str] = ()) -> Any:
        from ..explain import MLPExplainer

        return MLPExplainer(self.model, self.featurizer, feature_names)


class OnnxMLPScorer:
    """`MLPScorer`'s featurizer, with the network run by an ONNX Runtime session of the run's export."""

    def __init__(self, session: Any, run_dir: Path):
        self.session, self.run_dir = session, run_dir
        self.pytorch: MLPScorer | None = None  # for explanations only
        self.featurizer = Featurizer.from_dict(json.loads((run_dir / "featurizer.json").read_text()))
        self.n_outputs = json.loads((run_dir / "mlp.json").read_text())["n_classes"]

    def logits(self, inputs: ModelInputs) -> torch.Tensor:
        out = torch.empty(len(inputs.texts), self.n_outputs)
        for start in range(0, len(inputs.texts), 256):
            rows = slice(start, start + 256)
            pairs = inputs.pairs[rows] if inputs.pairs is not None else None
            x = self.featurizer.transform(inputs.texts[rows], inputs.features[rows], pairs)
            out[rows] = torch.from_numpy(self.session.run(["logits"], {"features": x.numpy()})[0])
        return out

    def explainer(self, feature_names: Sequence[str] = ()) -> Any:
        # explaining takes gradients, which only the PyTorch model gives: loaded when first asked for, then kept
        if self.pytorch is None:
            self.pytorch = MLPFamily().load(self.run_dir)
        return self.pytorch.explainer(feature_names)


class MLPFamily:
    """The from-scratch MLP: cheap, so larger batches, a larger learning rate and more patience than BERT."""

    kind, title = "mlp", "MLP"
    defaults = FamilyDefaults(epochs=30, batch_size=64, patience=5, min_steps=300)
    needs_text = False
    reads_features = True
    is_transformers_model = False

    def owns(self, model_name: str) -> bool:
        return model_name.strip().lower() == MLP_NAME

    def default_lr(self, parameters: int) -> float:
        return 3e-3

    def build(self, data: Any, model_name: str, config: Any, generator: torch.Generator, on_gpu: bool) -> ModelBundle:
        return build(data, config.hidden_size, config.batch_size, generator)

    def load(self, run_dir: Path) -> MLPScorer:
        return MLPScorer(*load_mlp(run_dir))

    def onnx_module(self, run_dir: Path) -> OnnxModule:
        model, _ = load_mlp(run_dir)
        return OnnxModule(model, {"features": torch.zeros(2, model.hidden.in_features)}, {"features": {0: "batch"}})

    def load_onnx(self, run_dir: Path, session: Any) -> OnnxMLPScorer:
        return OnnxMLPScorer(session, run_dir)

    def describe(self, model_name: str, data: Any | None) -> dict[str, Any]:
        if data is None:
            description = describe(784, 10)
            return {
                **description,
                "note": description["note"] + " Shown for 784 inputs (28x28 pixels) and 10 "
                "classes; load data to see yours.",
            }
        train = data.train.to_dict()
        featurizer = Featurizer.fit(train["text"], train["features"], train.get("text_pair"))
        return describe(featurizer.size, data.n_outputs)
