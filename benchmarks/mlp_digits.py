"""The from-scratch MLP against scikit-learn's `MLPClassifier(hidden_layer_sizes=(256,))` on scikit-learn's digits,
the same stratified 75/25 split, alternating runs in one process; wall time includes featurising and evaluation.

    python benchmarks/mlp_digits.py [REPEATS]
"""

from __future__ import annotations

import csv
import statistics
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
import numpy as np
from common import arg, report, timed
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.train import train


def digits_csv(folder: Path) -> Path:
    digits = load_digits()
    path = folder / "digits.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"px{i}" for i in range(64)] + ["digit"])
        writer.writerows([*map(int, row), int(target)] for row, target in zip(digits.data, digits.target))
    return path


def main() -> None:
    repeats = int(arg(1, "3"))
    with tempfile.TemporaryDirectory() as folder:
        data = load_data(DataSpec(str(digits_csv(Path(folder))), validation_fraction=0.25))
        x_train, y_train = np.array(data.train["features"]), np.array(data.train["label"])
        x_test, y_test = np.array(data.validation["features"]), np.array(data.validation["label"])
        list(train(TrainConfig(model="mlp", epochs=1, output=folder), data))  # warm up (imports, metric modules)
        ours, theirs = [], []
        for seed in range(repeats):
            config = TrainConfig(model="mlp", seed=seed, output=folder)
            seconds, events = timed(lambda config=config: list(train(config, data)))
            ours.append((seconds, events[-1].metrics["accuracy"]))
            classifier = MLPClassifier(hidden_layer_sizes=(256,), random_state=seed)
            seconds, fitted = timed(lambda classifier=classifier: classifier.fit(x_train, y_train))
            theirs.append((seconds, fitted.score(x_test, y_test)))
    median = lambda pairs, i: statistics.median(p[i] for p in pairs)  # noqa: E731
    report(
        "mlp_digits",
        split="stratified 75/25",
        repeats=repeats,
        accuracy_ours=round(median(ours, 1), 4),
        accuracy_sklearn=round(median(theirs, 1), 4),
        seconds_ours=round(median(ours, 0), 2),
        seconds_sklearn=round(median(theirs, 0), 2),
        speed_ratio=round(median(theirs, 0) / median(ours, 0), 2),
        note="ours keeps the epoch with the best macro-F1 on the same held-back 25%",
    )


if __name__ == "__main__":
    main()
