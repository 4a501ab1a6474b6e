"""Classification metrics built on evaluate-library modules that ship inside this package: each sub-folder
(`accuracy/`, `f1/`, `precision/`, `recall/`, `confusion_matrix/`) holds one `evaluate.Metric` script that
`evaluate.load` reads by path, so nothing is fetched from the Hub and the workbench scores runs with no network.
`load_metric` loads one of them; `compute_classification_metrics` turns label ids into the JSON-safe report
that run folders, the CLI and the UI show."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import evaluate

METRICS_DIR = Path(__file__).resolve().parent
AVAILABLE_METRICS = ("accuracy", "confusion_matrix", "f1", "precision", "recall")
# The scalar scores of a report and their names for people; the first five are a run's headline (run.json, events).
REPORT_METRICS = {"accuracy": "Accuracy", "f1_macro": "Macro F1", "f1_weighted": "Weighted F1",
                  "precision_macro": "Macro precision", "recall_macro": "Macro recall",
                  "precision_weighted": "Weighted precision", "recall_weighted": "Weighted recall"}
HEADLINE_METRICS = tuple(REPORT_METRICS)[:5]

# load_metric caches one module instance per name, and an evaluate module keeps the batch it is computing on
# as state, so two threads (a background training job and the UI) must not compute on it at the same time.
_compute_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def load_metric(name: str) -> evaluate.EvaluationModule:
    """Load a shipped metric module by name, e.g. `load_metric("f1")`; loaded once, then cached."""
    if name not in AVAILABLE_METRICS:
        raise ValueError(f"Unknown metric {name!r}; available metrics: {', '.join(AVAILABLE_METRICS)}.")
    # Imported here, not at the top: evaluate pulls in datasets and takes seconds, which commands that never
    # score a run (predict, serve) should not pay.
    import evaluate

    # A directory path makes evaluate load <dir>/<dir name>.py locally and never ask the Hub; keep_in_memory
    # skips the Arrow cache file (and its lock file) that evaluate would otherwise write for every compute.
    return evaluate.load(str(METRICS_DIR / name), keep_in_memory=True)


def _compute(name: str, references: list[int], predictions: list[int], **kwargs) -> dict:
    with _compute_lock:
        return load_metric(name).compute(references=references, predictions=predictions, **kwargs)


def _checked(references: Sequence[int], predictions: Sequence[int],
             label_names: Sequence[str]) -> tuple[list[int], list[int], list[int]]:
    """Plain-int references, predictions and label ids, after the checks every score needs."""
    # Plain ints: numpy or torch integers would otherwise leak into the features evaluate checks.
    references = [int(label) for label in references]
    predictions = [int(label) for label in predictions]
    if not references and not predictions:
        raise ValueError("No rows to evaluate.")
    if len(references) != len(predictions):
        raise ValueError(f"Got {len(references)} references but {len(predictions)} predictions; they must match.")
    labels = list(range(len(label_names)))
    unknown = sorted(set(references + predictions) - set(labels))
    if unknown:
        # With labels= given, scikit-learn silently drops unknown ids; a wrong label map must fail loudly instead.
        raise ValueError(f"Label ids {unknown} are outside the {len(label_names)} known labels {list(label_names)}.")
    return references, predictions, labels


def compute_headline_scores(references: Sequence[int], predictions: Sequence[int],
                            label_names: Sequence[str]) -> dict:
    """Accuracy and macro-F1 only: what training watches every epoch to keep the best one.

    Counted here from a confusion matrix rather than through the evaluate modules, because it runs every epoch and
    each evaluate call (an Arrow table, a fingerprint) costs more than a small MLP's epoch. Same definitions as the
    f1 module with zero_division=0 (tests/test_metrics.py checks they agree); the reports a user reads still come
    from `compute_classification_metrics`.
    """
    import torch

    references, predictions, labels = _checked(references, predictions, label_names)
    n = len(labels)
    matrix = torch.bincount(torch.tensor(references) * n + torch.tensor(predictions), minlength=n * n).view(n, n)
    true_positives = matrix.diag().double()
    # F1 = 2TP / (2TP + FP + FN); the denominator is the class's true count plus its predicted count
    denominators = matrix.sum(0).double() + matrix.sum(1).double()
    f1 = torch.where(denominators > 0, 2 * true_positives / denominators.clamp(min=1), torch.zeros(n))
    return {"accuracy": float(true_positives.sum() / len(references)), "f1_macro": float(f1.mean())}


def compute_classification_metrics(
    references: Sequence[int], predictions: Sequence[int], label_names: Sequence[str]
) -> dict:
    """Score predicted label ids against true ones; ids index `label_names`. Returns a JSON-safe dict with
    accuracy, macro/weighted f1, precision and recall, per-class scores, the confusion matrix, labels and n."""
    references, predictions, labels = _checked(references, predictions, label_names)

    # Fixing labels=range(n) keeps every class in the per-class lists and the matrix, even if absent from the data.
    # Per-class scores come from the modules once each; the macro and weighted averages are scikit-learn's plain
    # and support-weighted means of them (five module calls instead of eleven: each call has a fixed cost).
    per_class_scores = {name: _compute(name, references, predictions, labels=labels, average=None,
                                       zero_division=0)[name] for name in ("precision", "recall", "f1")}
    matrix = _compute("confusion_matrix", references, predictions, labels=labels)["confusion_matrix"]
    support = [sum(row) for row in matrix]  # a row of the matrix counts the true examples of that class

    def averaged(name: str, weights: Sequence[int] | None) -> float:
        values = per_class_scores[name]
        weights = weights or [1] * len(values)
        return float(sum(v * w for v, w in zip(values, weights)) / sum(weights)) if sum(weights) else 0.0

    return {
        "accuracy": _compute("accuracy", references, predictions)["accuracy"],
        "f1_macro": averaged("f1", None),
        "f1_weighted": averaged("f1", support),
        "precision_macro": averaged("precision", None),
        "recall_macro": averaged("recall", None),
        "precision_weighted": averaged("precision", support),
        "recall_weighted": averaged("recall", support),
        "per_class": {
            label_name: {
                "precision": per_class_scores["precision"][i],
                "recall": per_class_scores["recall"][i],
                "f1": per_class_scores["f1"][i],
                "support": support[i],
            }
            for i, label_name in enumerate(label_names)
        },
        "confusion_matrix": matrix,
        "labels": [str(name) for name in label_names],
        "n": len(references),
    }
