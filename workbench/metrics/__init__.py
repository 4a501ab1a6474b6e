"""Metrics built on evaluate-library modules that ship inside this package: each sub-folder (`accuracy/`, `f1/`,
`precision/`, `recall/`, `confusion_matrix/`, `hamming_loss/`, `mse/`, `mae/`, `r_squared/`, `pearsonr/`,
`spearmanr/`) holds one `evaluate.Metric` script that `evaluate.load` reads by path, so nothing is fetched from the
Hub and the workbench scores runs with no network. `load_metric` loads one of them (accuracy, f1, precision and
recall also in a "multilabel" config that takes 0/1 indicator rows); `compute_classification_metrics`,
`compute_multilabel_metrics` and `compute_regression_metrics` turn predictions into the JSON-safe reports that run
folders, the CLI and the UI show, and the `compute_*headline*` functions count the few scores training watches
every epoch without going through evaluate."""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import evaluate

METRICS_DIR = Path(__file__).resolve().parent
AVAILABLE_METRICS = (
    "accuracy",
    "confusion_matrix",
    "f1",
    "hamming_loss",
    "mae",
    "mse",
    "pearsonr",
    "precision",
    "r_squared",
    "recall",
    "spearmanr",
)
# The configs a module takes besides its default one; "multilabel" swaps label ids for 0/1 indicator rows.
METRIC_CONFIGS = {
    "accuracy": ("multilabel",),
    "f1": ("multilabel",),
    "precision": ("multilabel",),
    "recall": ("multilabel",),
}
# The scalar scores of a report and their names for people; the first five are a run's headline (run.json, events).
REPORT_METRICS = {
    "accuracy": "Accuracy",
    "f1_macro": "Macro F1",
    "f1_weighted": "Weighted F1",
    "precision_macro": "Macro precision",
    "recall_macro": "Macro recall",
    "precision_weighted": "Weighted precision",
    "recall_weighted": "Weighted recall",
}
HEADLINE_METRICS = tuple(REPORT_METRICS)[:5]
# The same for multi-label and regression reports; the first two of each are what training counts every epoch
# (compute_multilabel_headline, compute_regression_headline).
MULTILABEL_REPORT_METRICS = {
    "f1_micro": "Micro F1",
    "subset_accuracy": "Subset accuracy",
    "f1_macro": "Macro F1",
    "f1_samples": "Samples F1",
    "hamming_loss": "Hamming loss",
    "precision_micro": "Micro precision",
    "recall_micro": "Micro recall",
    "precision_macro": "Macro precision",
    "recall_macro": "Macro recall",
    "precision_samples": "Samples precision",
    "recall_samples": "Samples recall",
}
MULTILABEL_HEADLINE_METRICS = tuple(MULTILABEL_REPORT_METRICS)[:2]
REGRESSION_REPORT_METRICS = {
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "pearson": "Pearson r",
    "spearman": "Spearman ρ",
    "mse": "MSE",
}
REGRESSION_HEADLINE_METRICS = tuple(REGRESSION_REPORT_METRICS)[:2]
# Report scores where smaller is better (errors and losses); every other score is better when larger.
LOWER_IS_BETTER = frozenset({"hamming_loss", "mse", "rmse", "mae"})
# Regression modules read values as float32 (their evaluate features); a larger magnitude would become infinite.
_FLOAT32_MAX = 3.4028234663852886e38

# load_metric caches one module instance per name and config, and an evaluate module keeps the batch it is computing on
# as state, so two threads (a background training job and the UI) must not compute on it at the same time.
_compute_lock = threading.Lock()


def load_metric(name: str, config_name: str | None = None) -> evaluate.EvaluationModule:
    """Load a shipped metric module by name and optional config, e.g. `load_metric("f1")` or
    `load_metric("f1", config_name="multilabel")`; each (name, config) is loaded once, then cached."""
    if name not in AVAILABLE_METRICS:
        raise ValueError(f"Unknown metric {name!r}; available metrics: {', '.join(AVAILABLE_METRICS)}.")
    if config_name == "default":  # evaluate's own name for no config
        config_name = None
    if config_name is not None and config_name not in METRIC_CONFIGS.get(name, ()):
        configs = METRIC_CONFIGS.get(name)
        raise ValueError(
            f"Metric {name!r} has no config {config_name!r}; "
            + (f"its configs: {', '.join(configs)}." if configs else "it takes no config.")
        )
    return _load_metric(name, config_name)


@functools.cache
def _load_metric(name: str, config_name: str | None) -> evaluate.EvaluationModule:
    # Imported here, not at the top: evaluate pulls in datasets and takes seconds, which commands that never
    # score a run (predict, serve) should not pay.
    import evaluate

    # A directory path makes evaluate load <dir>/<dir name>.py locally and never ask the Hub; keep_in_memory
    # skips the Arrow cache file (and its lock file) that evaluate would otherwise write for every compute.
    return evaluate.load(str(METRICS_DIR / name), config_name=config_name, keep_in_memory=True)


def _compute(name: str, references: list, predictions: list, config_name: str | None = None, **kwargs) -> dict:
    with _compute_lock:
        return load_metric(name, config_name).compute(references=references, predictions=predictions, **kwargs)


def _checked(
    references: Sequence[int], predictions: Sequence[int], label_names: Sequence[str]
) -> tuple[list[int], list[int], list[int]]:
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


def compute_headline_scores(references: Sequence[int], predictions: Sequence[int], label_names: Sequence[str]) -> dict:
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
    per_class_scores = {
        name: _compute(name, references, predictions, labels=labels, average=None, zero_division=0)[name]
        for name in ("precision", "recall", "f1")
    }
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


def _as_rows(rows, kind: str) -> list[list]:
    """A list of plain lists from rows given as lists, tuples, a numpy array or a torch tensor."""
    rows = rows.tolist() if hasattr(rows, "tolist") else list(rows)
    checked = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError(
                f"{kind} row {i} is {row!r}, not a row of 0/1 indicators; multi-label scores take one "
                "list per example with a 0/1 entry for each label."
            )
        checked.append(row.tolist() if hasattr(row, "tolist") else list(row))
    return checked


def _checked_multilabel(
    references, predictions, label_names: Sequence[str] | None = None
) -> tuple[list[list[int]], list[list[int]]]:
    """Plain-int 0/1 indicator rows, after the checks every multi-label score needs. Without label names the
    width every row must have is that of the first reference row."""
    references = _as_rows(references, "Reference")
    predictions = _as_rows(predictions, "Prediction")
    if not references and not predictions:
        raise ValueError("No rows to evaluate.")
    if len(references) != len(predictions):
        raise ValueError(
            f"Got {len(references)} reference rows but {len(predictions)} prediction rows; they must match."
        )
    if label_names is not None:
        width = len(label_names)
        expected = f"there are {width} labels {list(label_names)}"
    else:
        width = len(references[0])
        expected = f"reference row 0 has {width}"
    if width < 2:
        # scikit-learn reads one indicator column as binary classes 0/1, not as one label; it is binary anyway.
        raise ValueError(
            f"Multi-label scores need at least 2 labels, got {width}; a single yes/no label is binary "
            "classification: score it with compute_classification_metrics."
        )
    for kind, rows in (("Reference", references), ("Prediction", predictions)):
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(
                    f"{kind} row {i} has {len(row)} entries but {expected}; each row needs one 0/1 entry per label."
                )
            bad = [value for value in row if value not in (0, 1)]
            if bad:
                # int() would silently turn a probability such as 0.7 into 0: refuse anything but 0 and 1.
                raise ValueError(
                    f"{kind} row {i} holds {bad[0]!r}; multi-label rows hold only 0 and 1, one per "
                    "label (threshold probabilities or scores first)."
                )
    return (
        [[int(value) for value in row] for row in references],
        [[int(value) for value in row] for row in predictions],
    )


def compute_multilabel_headline(references: Sequence[Sequence[int]], predictions: Sequence[Sequence[int]]) -> dict:
    """Micro-F1 and subset accuracy of 0/1 indicator rows only: what multi-label training watches every epoch.

    Counted here with torch rather than through the evaluate modules (see `compute_headline_scores`); same
    definitions as `compute_multilabel_metrics` with zero_division=0, which tests/test_metrics.py checks.
    """
    import torch

    references, predictions = _checked_multilabel(references, predictions)
    truth = torch.tensor(references, dtype=torch.bool)
    predicted = torch.tensor(predictions, dtype=torch.bool)
    true_positives = int((truth & predicted).sum())
    # micro F1 = 2TP / (2TP + FP + FN) over every (row, label) entry; the denominator is all true plus all predicted
    denominator = int(truth.sum()) + int(predicted.sum())
    return {
        "f1_micro": 2 * true_positives / denominator if denominator else 0.0,
        "subset_accuracy": float((truth == predicted).all(dim=1).double().mean()),
    }


def compute_multilabel_metrics(
    references: Sequence[Sequence[int]], predictions: Sequence[Sequence[int]], label_names: Sequence[str]
) -> dict:
    """Score predicted 0/1 indicator rows (one entry per label in `label_names`) against true ones. Returns a
    JSON-safe dict with micro/macro/samples f1, precision and recall, subset accuracy, Hamming loss, per-label
    scores (support = rows that have the label), labels and n."""
    references, predictions = _checked_multilabel(references, predictions, label_names)

    def compute(name: str, zero_division: int = 0, **kwargs):
        return _compute(name, references, predictions, config_name="multilabel", zero_division=zero_division, **kwargs)[
            name
        ]

    # Per-label scores come from the modules once each and macro is their plain mean (as in scikit-learn); micro
    # pools every (row, label) entry and samples averages each row's score, so each needs its own call.
    per_label_scores = {name: compute(name, average=None) for name in ("precision", "recall", "f1")}
    scores = {}
    for name in ("f1", "precision", "recall"):
        scores[f"{name}_micro"] = compute(name, average="micro")
        scores[f"{name}_macro"] = float(sum(per_label_scores[name]) / len(label_names))
        # a row with no labels, rightly given none, scores 1 (its precision and recall are 0/0)
        scores[f"{name}_samples"] = compute(name, average="samples", zero_division=1)
    support = [sum(column) for column in zip(*references)]

    return {
        **scores,
        "subset_accuracy": _compute("accuracy", references, predictions, config_name="multilabel")["accuracy"],
        "hamming_loss": _compute("hamming_loss", references, predictions)["hamming_loss"],
        "per_label": {
            label_name: {
                "precision": per_label_scores["precision"][i],
                "recall": per_label_scores["recall"][i],
                "f1": per_label_scores["f1"][i],
                "support": support[i],
            }
            for i, label_name in enumerate(label_names)
        },
        "labels": [str(name) for name in label_names],
        "n": len(references),
    }


def _numbers(values, kind: str) -> list[float]:
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    numbers = []
    for i, value in enumerate(values):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{kind} {i} is {value!r}, not a number; regression scores take one number per row."
            ) from None
        if not math.isfinite(number):
            raise ValueError(f"{kind} {i} is {number}; regression scores need finite numbers (no NaN or infinity).")
        if abs(number) > _FLOAT32_MAX:
            raise ValueError(
                f"{kind} {i} is {number}, beyond the float32 range (±3.4e38) the metric modules "
                "read values in; rescale the target."
            )
        numbers.append(number)
    return numbers


def _checked_regression(references: Sequence[float], predictions: Sequence[float]) -> tuple[list[float], list[float]]:
    """Plain-float references and predictions, after the checks every regression score needs."""
    references = _numbers(references, "Reference")
    predictions = _numbers(predictions, "Prediction")
    if not references and not predictions:
        raise ValueError("No rows to evaluate.")
    if len(references) != len(predictions):
        raise ValueError(f"Got {len(references)} references but {len(predictions)} predictions; they must match.")
    return references, predictions


def compute_regression_headline(references: Sequence[float], predictions: Sequence[float]) -> dict:
    """RMSE and MAE only: what regression training watches every epoch (lower is better for both).

    Computed here in plain Python (float64) rather than through the evaluate modules (see
    `compute_headline_scores`); same definitions as `compute_regression_metrics`, which tests/test_metrics.py
    checks (the modules read float32, so the two agree to about 7 significant digits).
    """
    references, predictions = _checked_regression(references, predictions)
    errors = [prediction - reference for reference, prediction in zip(references, predictions)]
    return {
        "rmse": math.sqrt(math.fsum(error * error for error in errors) / len(errors)),
        "mae": math.fsum(abs(error) for error in errors) / len(errors),
    }


def compute_regression_metrics(references: Sequence[float], predictions: Sequence[float]) -> dict:
    """Score predicted numbers against true ones. Returns a JSON-safe dict of floats: mse, rmse, mae, r2, pearson
    and spearman (a correlation of a constant input, or of a single row, is undefined and reported as 0.0; so is
    R² of a single row), and the int n."""
    references, predictions = _checked_regression(references, predictions)
    mse = _compute("mse", references, predictions)["mse"]
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),  # the mse module's squared=False, without a second call
        "mae": _compute("mae", references, predictions)["mae"],
        "r2": _compute("r_squared", references, predictions)["r_squared"],
        "pearson": _compute("pearsonr", references, predictions)["pearsonr"],
        "spearman": _compute("spearmanr", references, predictions)["spearmanr"],
        "n": len(references),
    }
