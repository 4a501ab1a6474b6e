"""Tests for workbench.metrics: the shipped evaluate modules load offline and agree with scikit-learn."""

import os

# Set before evaluate is imported (it reads them at import time): any attempt to reach the Hub must fail.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import evaluate
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

from workbench.metrics import (AVAILABLE_METRICS, compute_classification_metrics, compute_headline_scores,
                               load_metric)

REPO_ROOT = Path(__file__).resolve().parents[1]
LABELS = ["negative", "neutral", "positive"]
REFERENCES = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0]
PREDICTIONS = [0, 1, 1, 1, 2, 2, 2, 0, 2, 0]


def test_perfect_predictions_score_one():
    result = compute_classification_metrics([0, 1, 2, 1], [0, 1, 2, 1], LABELS)
    assert result["accuracy"] == 1.0
    assert result["f1_macro"] == 1.0
    assert result["f1_weighted"] == 1.0
    assert result["confusion_matrix"] == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]


def test_scores_match_sklearn():
    result = compute_classification_metrics(REFERENCES, PREDICTIONS, LABELS)

    for average in ("macro", "weighted"):
        kwargs = {"average": average, "zero_division": 0}
        assert result[f"f1_{average}"] == pytest.approx(f1_score(REFERENCES, PREDICTIONS, **kwargs))
        assert result[f"precision_{average}"] == pytest.approx(precision_score(REFERENCES, PREDICTIONS, **kwargs))
        assert result[f"recall_{average}"] == pytest.approx(recall_score(REFERENCES, PREDICTIONS, **kwargs))
    assert result["accuracy"] == pytest.approx(0.7)
    assert result["confusion_matrix"] == confusion_matrix(REFERENCES, PREDICTIONS).tolist()

    per_class_f1 = f1_score(REFERENCES, PREDICTIONS, average=None)
    for name, expected in zip(LABELS, per_class_f1):
        assert result["per_class"][name]["f1"] == pytest.approx(expected)
    assert [result["per_class"][name]["support"] for name in LABELS] == [3, 3, 4]
    assert result["labels"] == LABELS
    assert result["n"] == 10


@pytest.mark.parametrize("seed", range(5))
def test_epoch_scores_agree_with_the_evaluate_modules(seed):
    # training selects epochs by these counted scores; the report comes from the evaluate modules
    import random

    rng = random.Random(seed)
    names = ["a", "b", "c", "d"]  # class "d" never occurs, and with seed 0 one class is never predicted
    references = [rng.choice([0, 1, 2]) for _ in range(60)]
    predictions = [rng.choice([0, 1] if seed == 0 else [0, 1, 2]) for _ in range(60)]
    counted = compute_headline_scores(references, predictions, names)
    full = compute_classification_metrics(references, predictions, names)
    assert counted["accuracy"] == pytest.approx(full["accuracy"])
    assert counted["f1_macro"] == pytest.approx(full["f1_macro"])


def test_result_is_plain_json():
    result = compute_classification_metrics(REFERENCES, PREDICTIONS, LABELS)

    assert json.loads(json.dumps(result)) == result
    assert type(result["f1_macro"]) is float
    assert type(result["n"]) is int
    assert all(type(count) is int for row in result["confusion_matrix"] for count in row)


def test_class_absent_from_data_still_reported():
    # "positive" (2) is never predicted; "neutral" (1) never occurs at all.
    result = compute_classification_metrics([0, 2, 2, 0], [0, 0, 0, 0], LABELS)

    assert result["per_class"]["positive"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert result["per_class"]["neutral"]["support"] == 0
    assert result["confusion_matrix"] == [[2, 0, 0], [0, 0, 0], [2, 0, 0]]


def test_empty_input_raises():
    with pytest.raises(ValueError, match="No rows to evaluate"):
        compute_classification_metrics([], [], LABELS)


def test_length_mismatch_and_unknown_label_raise():
    with pytest.raises(ValueError, match="2 references but 1 predictions"):
        compute_classification_metrics([0, 1], [0], LABELS)
    with pytest.raises(ValueError, match=r"Label ids \[7\]"):
        compute_classification_metrics([0, 1], [0, 7], LABELS)


def test_unknown_metric_name_lists_available():
    with pytest.raises(ValueError, match="available metrics: accuracy, confusion_matrix, f1"):
        load_metric("bleu")


def test_load_metric_is_cached_and_per_class_lists():
    f1 = load_metric("f1")
    assert load_metric("f1") is f1
    assert isinstance(f1, evaluate.EvaluationModule)
    assert f1.compute(references=[0, 1, 1], predictions=[0, 1, 0], average=None)["f1"] == pytest.approx(
        [2 / 3, 2 / 3]
    )


def test_modules_load_offline_with_fresh_cache(tmp_path):
    # A fresh process with an empty HF cache and sockets that refuse to connect: the modules must still load.
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network access attempted")

        socket.socket.connect = refuse
        socket.create_connection = refuse

        from workbench.metrics import (AVAILABLE_METRICS, compute_classification_metrics, compute_headline_scores,
                               load_metric)

        for name in AVAILABLE_METRICS:
            load_metric(name)
        print(compute_classification_metrics([0, 1], [0, 1], ["a", "b"])["accuracy"])
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "1.0"
    # evaluate copied each shipped script into the fresh modules cache, proving it loaded our local files.
    copied = {path.stem for path in (tmp_path / "modules").rglob("*.py") if path.stem != "__init__"}
    assert copied == set(AVAILABLE_METRICS)
