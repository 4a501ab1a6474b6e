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

from workbench.metrics import (
    AVAILABLE_METRICS,
    LOWER_IS_BETTER,
    MULTILABEL_HEADLINE_METRICS,
    MULTILABEL_REPORT_METRICS,
    REGRESSION_HEADLINE_METRICS,
    REGRESSION_REPORT_METRICS,
    compute_classification_metrics,
    compute_headline_scores,
    compute_multilabel_headline,
    compute_multilabel_metrics,
    compute_regression_headline,
    compute_regression_metrics,
    load_metric,
)

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
    assert f1.compute(references=[0, 1, 1], predictions=[0, 1, 0], average=None)["f1"] == pytest.approx([2 / 3, 2 / 3])


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


# --- multi-label classification -------------------------------------------------------------------------------

ML_LABELS = ["sports", "politics", "tech"]
# Three rows, three labels (columns a=sports, b=politics, c=tech):
#   row 0: true {a, c}  predicted {a}      -> P 1    R 1/2  F1 2/3
#   row 1: true {b}     predicted {b}      -> P 1    R 1    F1 1     (the only exact row)
#   row 2: true {a, b}  predicted {a, c}   -> P 1/2  R 1/2  F1 1/2
# Per label: a TP 2 FP 0 FN 0 -> P 1 R 1 F1 1, support 2; b TP 1 FP 0 FN 1 -> P 1 R 1/2 F1 2/3, support 2;
#            c TP 0 FP 1 FN 1 -> P 0 R 0 F1 0, support 1.
# micro (TP 3, FP 1, FN 2): P 3/4, R 3/5, F1 2*3/(2*3+1+2) = 2/3
# macro: P (1+1+0)/3 = 2/3, R (1+1/2+0)/3 = 1/2, F1 (1+2/3+0)/3 = 5/9
# samples: P (1+1+1/2)/3 = 5/6, R (1/2+1+1/2)/3 = 2/3, F1 (2/3+1+1/2)/3 = 13/18
# subset accuracy 1/3; Hamming loss: 3 wrong entries (row 0 c, row 2 b and c) of 9 = 1/3
ML_REFERENCES = [[1, 0, 1], [0, 1, 0], [1, 1, 0]]
ML_PREDICTIONS = [[1, 0, 0], [0, 1, 0], [1, 0, 1]]


def test_multilabel_hand_computed_scores():
    result = compute_multilabel_metrics(ML_REFERENCES, ML_PREDICTIONS, ML_LABELS)

    expected = {
        "f1_micro": 2 / 3,
        "f1_macro": 5 / 9,
        "f1_samples": 13 / 18,
        "precision_micro": 3 / 4,
        "precision_macro": 2 / 3,
        "precision_samples": 5 / 6,
        "recall_micro": 3 / 5,
        "recall_macro": 1 / 2,
        "recall_samples": 2 / 3,
        "subset_accuracy": 1 / 3,
        "hamming_loss": 1 / 3,
    }
    for key, value in expected.items():
        assert result[key] == pytest.approx(value), key
    assert result["per_label"] == {
        "sports": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2},
        "politics": {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2},
        "tech": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
    }
    assert result["labels"] == ML_LABELS
    assert result["n"] == 3
    assert list(result)[:12] == [
        "f1_micro",
        "f1_macro",
        "f1_samples",
        "precision_micro",
        "precision_macro",
        "precision_samples",
        "recall_micro",
        "recall_macro",
        "recall_samples",
        "subset_accuracy",
        "hamming_loss",
        "per_label",
    ]


@pytest.mark.parametrize("seed", range(3))
def test_multilabel_scores_match_sklearn(seed):
    import random

    from sklearn.metrics import accuracy_score, hamming_loss

    rng = random.Random(seed)
    names = ["a", "b", "c", "d"]  # "d" is never true, and never predicted with seed 0
    references = [[rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1), 0] for _ in range(40)]
    predictions = [
        [rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1), 0 if seed == 0 else rng.randint(0, 1)]
        for _ in range(40)
    ]
    result = compute_multilabel_metrics(references, predictions, names)

    for average in ("micro", "macro", "samples"):
        kwargs = {
            "average": average,
            "zero_division": 1 if average == "samples" else 0,
        }  # an empty row, rightly empty, scores 1
        assert result[f"f1_{average}"] == pytest.approx(f1_score(references, predictions, **kwargs))
        assert result[f"precision_{average}"] == pytest.approx(precision_score(references, predictions, **kwargs))
        assert result[f"recall_{average}"] == pytest.approx(recall_score(references, predictions, **kwargs))
    assert result["subset_accuracy"] == pytest.approx(accuracy_score(references, predictions))
    assert result["hamming_loss"] == pytest.approx(hamming_loss(references, predictions))
    assert result["per_label"]["d"]["support"] == 0
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_multilabel_accepts_numpy_and_torch_rows():
    import numpy as np
    import torch

    expected = compute_multilabel_metrics(ML_REFERENCES, ML_PREDICTIONS, ML_LABELS)
    assert compute_multilabel_metrics(np.array(ML_REFERENCES), np.array(ML_PREDICTIONS), ML_LABELS) == expected
    as_bool = torch.tensor(ML_PREDICTIONS, dtype=torch.bool)
    assert compute_multilabel_metrics(torch.tensor(ML_REFERENCES), as_bool, ML_LABELS) == expected


def test_multilabel_shape_errors():
    with pytest.raises(ValueError, match="No rows to evaluate"):
        compute_multilabel_metrics([], [], ML_LABELS)
    with pytest.raises(ValueError, match="3 reference rows but 2 prediction rows"):
        compute_multilabel_metrics(ML_REFERENCES, ML_PREDICTIONS[:2], ML_LABELS)
    with pytest.raises(ValueError, match=r"Prediction row 1 has 2 entries but there are 3 labels"):
        compute_multilabel_metrics(ML_REFERENCES, [[1, 0, 0], [0, 1], [1, 0, 1]], ML_LABELS)
    with pytest.raises(ValueError, match=r"Reference row 0 has 3 entries but there are 4 labels"):
        compute_multilabel_metrics(ML_REFERENCES, ML_PREDICTIONS, ML_LABELS + ["extra"])
    with pytest.raises(ValueError, match=r"Prediction row 2 holds 0.7; .*threshold"):
        compute_multilabel_metrics(ML_REFERENCES, [[1, 0, 0], [0, 1, 0], [1, 0.7, 1]], ML_LABELS)
    with pytest.raises(ValueError, match=r"Reference row 1 holds 2"):
        compute_multilabel_metrics([[1, 0, 1], [0, 2, 0], [1, 1, 0]], ML_PREDICTIONS, ML_LABELS)
    with pytest.raises(ValueError, match="Reference row 0 is 1, not a row of 0/1 indicators"):
        compute_multilabel_metrics([1, 0, 2], ML_PREDICTIONS, ML_LABELS)
    with pytest.raises(ValueError, match="at least 2 labels, got 1"):
        compute_multilabel_metrics([[1], [0]], [[1], [1]], ["only"])
    # the headline has no label names: every row must be as wide as the first reference row
    with pytest.raises(ValueError, match="Prediction row 0 has 2 entries but reference row 0 has 3"):
        compute_multilabel_headline(ML_REFERENCES, [[1, 0], [0, 1], [1, 0]])
    with pytest.raises(ValueError, match="No rows to evaluate"):
        compute_multilabel_headline([], [])


@pytest.mark.parametrize("seed", range(5))
def test_multilabel_headline_agrees_with_the_report(seed):
    import random

    rng = random.Random(seed)
    width = rng.randint(2, 6)
    references = [[int(rng.random() < 0.3) for _ in range(width)] for _ in range(50)]
    # seed 0: nothing predicted at all (micro F1's zero-division case)
    predictions = [[0 if seed == 0 else int(rng.random() < 0.4) for _ in range(width)] for _ in range(50)]
    counted = compute_multilabel_headline(references, predictions)
    full = compute_multilabel_metrics(references, predictions, [f"l{i}" for i in range(width)])
    assert tuple(counted) == MULTILABEL_HEADLINE_METRICS == ("f1_micro", "subset_accuracy")
    for key in MULTILABEL_HEADLINE_METRICS:
        assert counted[key] == pytest.approx(full[key])
        assert type(counted[key]) is float
    assert compute_multilabel_headline(ML_REFERENCES, ML_PREDICTIONS) == pytest.approx(
        {"f1_micro": 2 / 3, "subset_accuracy": 1 / 3}
    )


def test_multilabel_configs_of_the_shipped_modules():
    f1_multilabel = load_metric("f1", config_name="multilabel")
    assert load_metric("f1", "multilabel") is f1_multilabel  # cached per (name, config)
    assert f1_multilabel is not load_metric("f1")
    assert load_metric("f1", "default") is load_metric("f1")
    assert f1_multilabel.compute(references=ML_REFERENCES, predictions=ML_PREDICTIONS, average="micro")["f1"] == (
        pytest.approx(2 / 3)
    )
    assert load_metric("accuracy", "multilabel").compute(references=ML_REFERENCES, predictions=ML_PREDICTIONS) == (
        {"accuracy": pytest.approx(1 / 3)}
    )
    for name in ("precision", "recall"):
        scores = load_metric(name, "multilabel").compute(
            references=ML_REFERENCES, predictions=ML_PREDICTIONS, average=None
        )[name]
        assert scores == pytest.approx([1.0, 1.0, 0.0] if name == "precision" else [1.0, 0.5, 0.0])
    assert load_metric("hamming_loss").compute(references=ML_REFERENCES, predictions=ML_PREDICTIONS) == {
        "hamming_loss": pytest.approx(1 / 3)
    }
    with pytest.raises(ValueError, match="Metric 'mse' has no config 'multilabel'; it takes no config"):
        load_metric("mse", "multilabel")
    with pytest.raises(ValueError, match="Metric 'f1' has no config 'multiclass'; its configs: multilabel"):
        load_metric("f1", "multiclass")


# --- regression -------------------------------------------------------------------------------------------------

# Errors 0.5, 0, -0.5, 1 (all exact in float32, which the modules read):
#   MSE = (0.25 + 0 + 0.25 + 1) / 4 = 0.375, RMSE = sqrt(0.375), MAE = (0.5 + 0 + 0.5 + 1) / 4 = 0.5
#   R² = 1 - SS_res / SS_tot = 1 - 1.5 / 5 = 0.7 (mean of references 2.5: SS_tot = 2.25 + 0.25 + 0.25 + 2.25)
#   Pearson r = 5.5 / sqrt(5 * 7.25) (centred cross products / root of the centred sums of squares)
#   Spearman: predictions rank the rows in the references' order -> 1
REG_REFERENCES = [1.0, 2.0, 3.0, 4.0]
REG_PREDICTIONS = [1.5, 2.0, 2.5, 5.0]


def test_regression_hand_computed_scores():
    import math

    result = compute_regression_metrics(REG_REFERENCES, REG_PREDICTIONS)

    assert result == {
        "mse": pytest.approx(0.375),
        "rmse": pytest.approx(math.sqrt(0.375)),
        "mae": pytest.approx(0.5),
        "r2": pytest.approx(0.7),
        "pearson": pytest.approx(5.5 / math.sqrt(5 * 7.25)),
        "spearman": pytest.approx(1.0),
        "n": 4,
    }
    assert all(type(result[key]) is float for key in REGRESSION_REPORT_METRICS)
    assert type(result["n"]) is int
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    perfect = compute_regression_metrics(REG_REFERENCES, REG_REFERENCES)
    assert perfect == {
        "mse": 0.0,
        "rmse": 0.0,
        "mae": 0.0,
        "r2": 1.0,
        "pearson": pytest.approx(1.0),
        "spearman": pytest.approx(1.0),
        "n": 4,
    }


def test_regression_modules():
    import math

    from scipy.stats import pearsonr

    def compute(name, references=REG_REFERENCES, predictions=REG_PREDICTIONS, **kwargs):
        return load_metric(name).compute(references=references, predictions=predictions, **kwargs)[name]

    assert compute("mse") == pytest.approx(0.375)
    assert compute("mse", squared=False) == pytest.approx(math.sqrt(0.375))  # RMSE
    assert compute("mae") == pytest.approx(0.5)
    assert compute("r_squared") == pytest.approx(0.7)
    assert compute("r_squared", [2.0, 2.0], [2.0, 3.0]) == 0.0  # constant references, scikit-learn's force_finite
    assert compute("pearsonr") == pytest.approx(pearsonr(REG_REFERENCES, REG_PREDICTIONS)[0])
    assert compute("pearsonr", [1.0, 2.0, 3.0], [-2.0, -4.0, -6.0]) == pytest.approx(-1.0)
    # Spearman only looks at the order: a monotonic but curved relation is perfect, the reversed order is -1
    assert compute("spearmanr", [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 8.0, 27.0, 64.0, 500.0]) == pytest.approx(1.0)
    assert compute("spearmanr", [1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_correlations_of_a_constant_input_are_zero_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's ConstantInputWarning would fail the test
        for name in ("pearsonr", "spearmanr"):
            for references, predictions in (
                ([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]),
                ([7.0, 7.0, 7.0], [1.0, 2.0, 3.0]),
                ([1.0], [2.0]),
            ):
                score = load_metric(name).compute(references=references, predictions=predictions)[name]
                assert score == 0.0 and type(score) is float, (name, references, predictions)
        constant = compute_regression_metrics([3.0, 3.0, 3.0], [1.0, 2.0, 3.0])
        assert constant["pearson"] == 0.0 and constant["spearman"] == 0.0
        single = compute_regression_metrics([3.0], [2.5])
        assert single == {"mse": 0.25, "rmse": 0.5, "mae": 0.5, "r2": 0.0, "pearson": 0.0, "spearman": 0.0, "n": 1}


def test_regression_errors():
    with pytest.raises(ValueError, match="No rows to evaluate"):
        compute_regression_metrics([], [])
    with pytest.raises(ValueError, match="3 references but 2 predictions"):
        compute_regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="Prediction 1 is nan; .*finite"):
        compute_regression_metrics([1.0, 2.0], [1.0, float("nan")])
    with pytest.raises(ValueError, match="Reference 0 is inf; .*finite"):
        compute_regression_metrics([float("inf"), 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="Reference 1 is 'b', not a number"):
        compute_regression_metrics([1.0, "b"], [1.0, 2.0])
    with pytest.raises(ValueError, match="beyond the float32 range"):
        compute_regression_metrics([1e39, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="Prediction 0 is nan"):
        compute_regression_headline([1.0], [float("nan")])


@pytest.mark.parametrize("seed", range(5))
def test_regression_headline_agrees_with_the_report(seed):
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    references = rng.normal(10.0, 3.0, size=40)
    predictions = references + rng.normal(0.0, 1.0 + seed, size=40)
    # numpy arrays and torch tensors are taken as they come out of a model
    counted = compute_regression_headline(torch.tensor(references), predictions)
    full = compute_regression_metrics(references, torch.tensor(predictions))
    assert tuple(counted) == REGRESSION_HEADLINE_METRICS == ("rmse", "mae")
    for key in REGRESSION_HEADLINE_METRICS:
        # the modules read float32, the headline float64: equal to about 7 significant digits
        assert counted[key] == pytest.approx(full[key], rel=1e-5)
        assert type(counted[key]) is float
    assert compute_regression_headline(REG_REFERENCES, REG_PREDICTIONS) == {
        "rmse": pytest.approx(0.375**0.5),
        "mae": 0.5,
    }


def test_report_metric_names_cover_the_reports():
    multilabel = compute_multilabel_metrics(ML_REFERENCES, ML_PREDICTIONS, ML_LABELS)
    regression = compute_regression_metrics(REG_REFERENCES, REG_PREDICTIONS)
    assert set(MULTILABEL_REPORT_METRICS) == {key for key, value in multilabel.items() if type(value) is float}
    assert set(REGRESSION_REPORT_METRICS) == {key for key in regression if key != "n"}
    assert next(iter(MULTILABEL_REPORT_METRICS)) == "f1_micro"
    assert next(iter(REGRESSION_REPORT_METRICS)) == "rmse"
    assert LOWER_IS_BETTER <= set(MULTILABEL_REPORT_METRICS) | set(REGRESSION_REPORT_METRICS)


def test_new_modules_load_offline_with_fresh_cache(tmp_path):
    # As test_modules_load_offline_with_fresh_cache, for the multilabel configs and the regression modules.
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network access attempted")

        socket.socket.connect = refuse
        socket.create_connection = refuse

        from workbench.metrics import compute_multilabel_metrics, compute_regression_metrics, load_metric

        for name in ("accuracy", "f1", "precision", "recall"):
            load_metric(name, config_name="multilabel")
        print(compute_multilabel_metrics([[1, 0], [0, 1]], [[1, 0], [1, 1]], ["a", "b"])["subset_accuracy"])
        print(compute_regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])["spearman"])
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["0.5", "1.0"]
    copied = {path.stem for path in (tmp_path / "modules").rglob("*.py") if path.stem != "__init__"}
    assert copied == {
        "accuracy",
        "f1",
        "precision",
        "recall",
        "hamming_loss",
        "mse",
        "mae",
        "r_squared",
        "pearsonr",
        "spearmanr",
    }
