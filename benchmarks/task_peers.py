"""The classical peers for the multi-label and regression task shapes, on the real sets of task_data.py: what the
workbench's BERT and MLP should be compared against. Each peer trains on the training CSV only and returns its
scores on the test CSV; all of them are scikit-learn.

- multi-label text: TF-IDF (word 1-2 grams, sublinear tf) + one-vs-rest LogisticRegression (class_weight
  "balanced"), a label predicted where its probability is at least 0.5; micro/macro/samples F1, subset accuracy,
  Hamming loss.
- text regression: the same TF-IDF + Ridge, alpha chosen by RidgeCV (efficient leave-one-out) on the training rows.
- numeric regression: features standardised, then RidgeCV, or an MLPRegressor with one hidden layer of 256 (the
  target standardised too, so that it converges; iterations capped well above what it needs).
Regression scores: RMSE, MAE, R², Pearson and Spearman correlation.

    python benchmarks/task_peers.py [DATA_DIR]     # one JSON line per set and peer: scores and seconds
"""

from __future__ import annotations

import csv
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, mean_absolute_error, mean_squared_error, r2_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler
from task_data import DATA, SEED, multilabel_csvs, numeric_regression_csvs, text_regression_csvs

ALPHAS = np.logspace(-3, 3, 25)
THRESHOLD = 0.5
MLP_MAX_ITER = 2000


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def _labels(rows: list[dict[str, str]]) -> list[list[str]]:
    return [r["labels"].split("|") if r["labels"] else [] for r in rows]


def _regression_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": round(float(np.sqrt(mean_squared_error(truth, predicted))), 4),
        "mae": round(float(mean_absolute_error(truth, predicted)), 4),
        "r2": round(float(r2_score(truth, predicted)), 4),
        "pearson": round(float(pearsonr(truth, predicted)[0]), 4),
        "spearman": round(float(spearmanr(truth, predicted)[0]), 4),
    }


def multilabel_tfidf_logistic(train_csv: Path, test_csv: Path) -> dict[str, float]:
    """TF-IDF + one-vs-rest balanced logistic regression, threshold 0.5, scored on the test rows."""
    train, test = _rows(train_csv), _rows(test_csv)
    binarizer = MultiLabelBinarizer(classes=sorted({label for labels in _labels(train) for label in labels}))
    y, y_test = binarizer.fit_transform(_labels(train)), binarizer.transform(_labels(test))
    model = make_pipeline(
        _tfidf(), OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000, random_state=SEED))
    )
    model.fit([r["text"] for r in train], y)
    predicted = (model.predict_proba([r["text"] for r in test]) >= THRESHOLD).astype(int)
    return {
        "f1_micro": round(float(f1_score(y_test, predicted, average="micro", zero_division=0)), 4),
        "f1_macro": round(float(f1_score(y_test, predicted, average="macro", zero_division=0)), 4),
        "f1_samples": round(float(f1_score(y_test, predicted, average="samples", zero_division=0)), 4),
        "subset_accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "hamming_loss": round(float(hamming_loss(y_test, predicted)), 4),
        "labels": len(binarizer.classes_),
    }


def text_regression_tfidf_ridge(train_csv: Path, test_csv: Path) -> dict[str, float]:
    """TF-IDF + Ridge with alpha chosen by RidgeCV on the training rows, scored on the test rows."""
    train, test = _rows(train_csv), _rows(test_csv)
    model = make_pipeline(_tfidf(), RidgeCV(alphas=ALPHAS))
    model.fit([r["text"] for r in train], np.array([float(r["target"]) for r in train]))
    predicted = model.predict([r["text"] for r in test])
    scores = _regression_scores(np.array([float(r["target"]) for r in test]), predicted)
    return {**scores, "alpha": round(float(model[-1].alpha_), 4)}


def _numeric(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = _rows(path)
    features = [name for name in rows[0] if name != "target"]
    return np.array([[float(r[f]) for f in features] for r in rows]), np.array([float(r["target"]) for r in rows])


def numeric_ridge(train_csv: Path, test_csv: Path) -> dict[str, float]:
    """Standardised features + RidgeCV, scored on the test rows."""
    (x, y), (x_test, y_test) = _numeric(train_csv), _numeric(test_csv)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS)).fit(x, y)
    return {**_regression_scores(y_test, model.predict(x_test)), "alpha": round(float(model[-1].alpha_), 4)}


def numeric_mlp(train_csv: Path, test_csv: Path) -> dict[str, float]:
    """Standardised features (and target) + MLPRegressor((256,)), scored on the test rows; fails if it does not
    converge within MLP_MAX_ITER iterations."""
    (x, y), (x_test, y_test) = _numeric(train_csv), _numeric(test_csv)
    mlp = MLPRegressor(hidden_layer_sizes=(256,), random_state=SEED, max_iter=MLP_MAX_ITER)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp), transformer=StandardScaler())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(x, y)
    return {**_regression_scores(y_test, model.predict(x_test)), "iterations": model.regressor_[-1].n_iter_}


PEERS: list[tuple[str, Callable[[Path], tuple[Path, Path]], Callable[[Path, Path], dict[str, float]]]] = [
    ("multilabel_genres_tfidf_logreg", multilabel_csvs, multilabel_tfidf_logistic),
    ("text_regression_tweets_tfidf_ridge", text_regression_csvs, text_regression_tfidf_ridge),
    ("numeric_regression_diabetes_ridge", numeric_regression_csvs, numeric_ridge),
    ("numeric_regression_diabetes_mlp", numeric_regression_csvs, numeric_mlp),
]


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else DATA)
    for name, csvs, peer in PEERS:
        train_csv, test_csv = csvs(folder)
        start = time.perf_counter()
        scores = peer(train_csv, test_csv)
        seconds = round(time.perf_counter() - start, 2)
        rows = {"train_rows": len(_rows(train_csv)), "test_rows": len(_rows(test_csv))}
        print(json.dumps({"benchmark": name, "data": train_csv.name, **rows, **scores, "seconds": seconds}), flush=True)
