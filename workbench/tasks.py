"""How each task shape trains and answers: the loss, what the model's outputs mean (softmax over classes; a sigmoid
per label against a threshold chosen on the validation rows; a standardised number), the score early stopping
watches, the full report, and the answer for one row. One class per task, in the table at the end; `labels.py`
holds the data's side of a task."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from . import metrics
from .labels import LabelSpace, TargetScale, Task

THRESHOLDS = torch.arange(0.05, 0.951, 0.05)  # the decision thresholds tried for multi-label, on validation rows
OWN_THRESHOLD_ROWS = 10  # a label with fewer validation rows than this takes the threshold shared by all labels
MAX_POSITIVE_WEIGHT = 30.0  # a label seen once in 1,000 rows would otherwise weigh 1,000 times its absences


@dataclass(frozen=True)
class Prediction:
    """One row's answer: the class and its probability (single-label), the labels over the threshold (multi-label,
    `label` is them joined with "|"), or a number (regression, `label` is it written out)."""

    task: Task
    label: str
    score: float
    probabilities: dict[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    value: float | None = None
    thresholds: dict[str, float] | None = None  # multi-label: each label's decision threshold

    def to_dict(self) -> dict[str, Any]:
        if self.task == Task.REGRESSION:
            return {"value": self.value}
        if self.task == Task.MULTI_LABEL:
            return {"labels": list(self.labels), "probabilities": self.probabilities, "thresholds": self.thresholds}
        return {"label": self.label, "score": self.score, "probabilities": self.probabilities}


class TaskRules(Protocol):
    task: Task
    monitor: str  # the per-epoch validation score early stopping watches
    higher_is_better: bool
    headline: tuple[str, ...]  # the report's scores a run records in run.json and its Finished event
    n_outputs: int

    def to(self, device: torch.device) -> TaskRules: ...

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weighted: bool = True) -> torch.Tensor:
        """The mean training loss; unweighted, the validation loss that runs compare across settings."""

    def epoch_scores(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]: ...

    def fit_decision(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Settle what is decided on the validation rows once training is over (the multi-label threshold)."""

    def report(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]: ...

    def predictions(self, logits: torch.Tensor) -> list[Prediction]: ...

    def truths(self, labels: torch.Tensor) -> list[str]:
        """The true answers as a person reads them, beside the predictions."""

    def record(self) -> dict[str, Any]:
        """What run.json keeps of the task, so that `rules_from_record` rebuilds the same rules."""

    def finalise(self, model: torch.nn.Module) -> None:
        """Make the model about to be saved answer in the task's own terms (a regression model: the target's unit)."""


class SingleLabel:
    task, monitor, higher_is_better, headline = Task.SINGLE_LABEL, "f1_macro", True, metrics.HEADLINE_METRICS

    def __init__(self, labels: LabelSpace, weights: torch.Tensor | None = None):
        self.labels, self.weights, self.n_outputs = labels, weights, len(labels)

    def to(self, device: torch.device) -> SingleLabel:
        self.weights = self.weights.to(device) if self.weights is not None else None
        return self

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weighted: bool = True) -> torch.Tensor:
        return F.cross_entropy(logits, labels, weight=self.weights if weighted else None)

    def epoch_scores(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return metrics.compute_headline_scores(labels.tolist(), logits.argmax(-1).tolist(), self.labels.names)

    def fit_decision(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        pass

    def report(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        return metrics.compute_classification_metrics(labels.tolist(), logits.argmax(-1).tolist(), self.labels.names)

    def predictions(self, logits: torch.Tensor) -> list[Prediction]:
        out = []
        for row in logits.float().softmax(-1).tolist():
            best = max(range(len(row)), key=row.__getitem__)
            out.append(Prediction(self.task, self.labels.names[best], row[best], dict(zip(self.labels.names, row))))
        return out

    def truths(self, labels: torch.Tensor) -> list[str]:
        return [self.labels.names[i] for i in labels.tolist()]

    def record(self) -> dict[str, Any]:
        return {"name": self.task.value}

    def finalise(self, model: torch.nn.Module) -> None:
        pass


class MultiLabel:
    task, monitor, higher_is_better = Task.MULTI_LABEL, "f1_micro", True
    headline = ("f1_micro", "f1_macro", "f1_samples", "subset_accuracy", "hamming_loss")

    def __init__(
        self, labels: LabelSpace, pos_weight: torch.Tensor | None = None, thresholds: Sequence[float] | None = None
    ):
        self.labels, self.pos_weight, self.n_outputs = labels, pos_weight, len(labels)
        self.thresholds = list(thresholds) if thresholds is not None else [0.5] * len(labels)

    def to(self, device: torch.device) -> MultiLabel:
        self.pos_weight = self.pos_weight.to(device) if self.pos_weight is not None else None
        return self

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weighted: bool = True) -> torch.Tensor:
        weight = self.pos_weight if weighted else None
        return F.binary_cross_entropy_with_logits(logits, labels.float(), pos_weight=weight)

    def _decided(self, logits: torch.Tensor, thresholds: float | Sequence[float]) -> list[list[int]]:
        limits = torch.as_tensor(thresholds, dtype=torch.float32)
        return (logits.float().sigmoid() >= limits).int().tolist()

    def epoch_scores(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        # one threshold for all labels per epoch: cheap, and steady enough to choose the epoch by
        threshold = best_threshold(logits.float().sigmoid(), labels)
        scores = metrics.compute_multilabel_headline(labels.int().tolist(), self._decided(logits, threshold))
        return {**scores, "threshold": threshold}

    def fit_decision(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        self.thresholds = label_thresholds(logits.float().sigmoid(), labels)

    def report(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        decided = self._decided(logits, self.thresholds)
        report = metrics.compute_multilabel_metrics(labels.int().tolist(), decided, self.labels.names)
        for name, threshold in zip(self.labels.names, self.thresholds):
            report["per_label"][name]["threshold"] = threshold
        return {**report, "thresholds": self.named_thresholds}

    @property
    def named_thresholds(self) -> dict[str, float]:
        return dict(zip(self.labels.names, self.thresholds))

    def predictions(self, logits: torch.Tensor) -> list[Prediction]:
        out, names = [], self.labels.names
        for row in logits.float().sigmoid().tolist():
            chosen = tuple(name for name, p, t in zip(names, row, self.thresholds) if p >= t)
            probabilities = dict(zip(names, row))
            out.append(
                Prediction(
                    self.task, "|".join(chosen), max(row), probabilities, chosen, thresholds=self.named_thresholds
                )
            )
        return out

    def truths(self, labels: torch.Tensor) -> list[str]:
        return ["|".join(n for n, on in zip(self.labels.names, row) if on) for row in labels.int().tolist()]

    def record(self) -> dict[str, Any]:
        return {"name": self.task.value, "thresholds": self.named_thresholds}

    def finalise(self, model: torch.nn.Module) -> None:
        pass


def label_thresholds(probabilities: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Each label's decision threshold, chosen on the validation rows: its own where it has enough rows there
    to choose by (OWN_THRESHOLD_ROWS), else the one that suits all labels best (docs/benchmarks.md: own thresholds
    raised micro-F1 on the genres set from 0.40 to 0.44 for BERT, macro-F1 unchanged)."""
    shared = best_threshold(probabilities, labels)
    return [
        best_threshold(probabilities[:, j : j + 1], labels[:, j : j + 1])
        if labels[:, j].sum().item() >= OWN_THRESHOLD_ROWS
        else shared
        for j in range(labels.shape[1])
    ]


def best_threshold(probabilities: torch.Tensor, labels: torch.Tensor) -> float:
    """The threshold with the best micro-F1 on these rows (one for all labels; ties go to the one nearest 0.5)."""
    truth = labels.bool()
    best, best_f1 = 0.5, -1.0
    for threshold in sorted(THRESHOLDS.tolist(), key=lambda t: abs(t - 0.5)):
        decided = probabilities >= threshold
        true_positives = (decided & truth).sum().item()
        denominator = decided.sum().item() + truth.sum().item()
        f1 = 2 * true_positives / denominator if denominator else 0.0
        if f1 > best_f1 + 1e-12:
            best, best_f1 = round(threshold, 2), f1
    return best


class Regression:
    task, monitor, higher_is_better, n_outputs = Task.REGRESSION, "rmse", False, 1
    headline = tuple(metrics.REGRESSION_REPORT_METRICS)[:5]

    def __init__(self, labels: LabelSpace, scale: TargetScale):
        self.labels, self.scale = labels, scale

    def to(self, device: torch.device) -> Regression:
        return self

    def values(self, logits: torch.Tensor) -> torch.Tensor:
        """The model's output in the target's own unit (it learns the standardised target)."""
        return logits.float().view(-1) * self.scale.std + self.scale.mean

    def loss(self, logits: torch.Tensor, labels: torch.Tensor, weighted: bool = True) -> torch.Tensor:
        """Huber on the standardised target (squared within one standard deviation, linear beyond): it scored a
        little better than MSE on all three measured sets (docs/benchmarks.md)."""
        standardised = (labels.float() - self.scale.mean) / self.scale.std
        return F.huber_loss(logits.float().view(-1), standardised, delta=1.0)

    def epoch_scores(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return metrics.compute_regression_headline(labels.tolist(), self.values(logits).tolist())

    def fit_decision(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        pass

    def report(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        return metrics.compute_regression_metrics(labels.tolist(), self.values(logits).tolist())

    def predictions(self, logits: torch.Tensor) -> list[Prediction]:
        return [Prediction(self.task, f"{v:.6g}", v, value=v) for v in self.values(logits).tolist()]

    def truths(self, labels: torch.Tensor) -> list[str]:
        return [f"{v:.6g}" for v in labels.tolist()]

    def record(self) -> dict[str, Any]:
        return {"name": self.task.value, "target_mean": self.scale.mean, "target_std": self.scale.std, "unit": True}

    def finalise(self, model: torch.nn.Module) -> None:
        """Fold the target's scale into the output layer (w * std, b * std + mean), so that the saved model, and
        `transformers.pipeline` on its folder, answer in the target's unit."""
        if hasattr(model, "scale_outputs"):  # a model whose output is a sum of layers (the encoder's head)
            model.scale_outputs(self.scale.std, self.scale.mean)
            return
        output = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
        if output.out_features != 1:
            raise ValueError(f"A regression model ends in one output, not {output.out_features}.")
        with torch.no_grad():
            output.weight.mul_(self.scale.std)
            if output.bias is not None:
                output.bias.mul_(self.scale.std).add_(self.scale.mean)


def class_weights(labels: Sequence[int], n_classes: int) -> torch.Tensor:
    """Inverse class frequency, scaled so that a balanced data set gets weights of 1."""
    counts = torch.bincount(torch.tensor(list(labels)), minlength=n_classes).float().clamp(min=1)
    return counts.sum() / (n_classes * counts)


def positive_weights(rows: Sequence[Sequence[float]]) -> torch.Tensor:
    """Per label, its absences over its presences on the training rows (BCE's pos_weight), capped."""
    matrix = torch.tensor([list(row) for row in rows], dtype=torch.float32)
    present = matrix.sum(0)
    return ((len(matrix) - present) / present.clamp(min=1)).clamp(min=1.0, max=MAX_POSITIVE_WEIGHT)


def rules_for(data: Any, weigh: bool, labels: Sequence[Any] | None = None) -> TaskRules:
    """The rules for training on prepared data; `weigh` balances rare classes or labels in the loss, as they are
    among the training rows (or among the `labels` given: a model refitted on every labelled row)."""
    train_labels = data.train["label"][:] if labels is None else list(labels)
    if data.task == Task.MULTI_LABEL:
        return MultiLabel(data.labels, positive_weights(train_labels) if weigh else None)
    if data.task == Task.REGRESSION:
        return Regression(data.labels, data.target_scale)
    return SingleLabel(data.labels, class_weights(train_labels, len(data.labels)) if weigh else None)


def rules_from_record(task: dict[str, Any] | None, labels: Sequence[str]) -> TaskRules:
    """The rules a saved run was trained with (run.json's `task`; runs from before tasks were single-label)."""
    task = task or {"name": Task.SINGLE_LABEL.value}
    space = LabelSpace(tuple(labels))
    name = Task.parse(task["name"])
    if name == Task.MULTI_LABEL:
        thresholds = task.get("thresholds") or {}
        return MultiLabel(space, thresholds=[float(thresholds.get(n, task.get("threshold", 0.5))) for n in labels])
    if name == Task.REGRESSION:  # a saved model answers in the target's unit ("unit"): nothing left to undo
        scale = TargetScale(0.0, 1.0) if task.get("unit") else TargetScale(task["target_mean"], task["target_std"])
        return Regression(space, scale)
    return SingleLabel(space)


def is_better(rules: TaskRules, score: float, best: float | None) -> bool:
    """Whether an epoch's score beats the best so far, in the direction the task's score improves."""
    if math.isnan(score):
        return False
    return best is None or (score > best if rules.higher_is_better else score < best)
