"""Tests for workbench.compare and `python -m workbench compare`: runs of the same labels answer one text side by
side with their disagreement said; on a file, every row's answers come back with the disagreements first and each
run scored against the file's labels; runs that answer different questions are refused in one sentence."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import run_to_end

from workbench.compare import compare_file, compare_text, disagree
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import started_of
from workbench.predict import Predictor


@pytest.fixture(scope="module")
def runs_on_reviews(tmp_path_factory, text_csv, bert_text_run) -> list[Path]:
    """The tiny BERT and an MLP on the same reviews: the same labels; the MLP barely trained, so they disagree."""
    data = load_data(DataSpec(path=str(text_csv)), seed=0)
    config = TrainConfig(model="mlp", epochs=1, lr=1e-6, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    return [bert_text_run[1], Path(started_of(run_to_end(config, data)).run_dir)]


def test_one_text_gets_each_runs_answer_and_the_verdict(runs_on_reviews):
    predictors = [Predictor.load(run) for run in runs_on_reviews]
    result = compare_text(predictors, "the film was great and fun and i loved it")

    assert [r["run"] for r in result["runs"]] == [run.name for run in runs_on_reviews]
    answers = [r["answer"] for r in result["runs"]]
    assert answers == [p.predict("the film was great and fun and i loved it").label for p in predictors]
    assert result["disagree"] == (len(set(answers)) > 1)


def test_a_file_lists_the_disagreements_first_and_scores_each_run(runs_on_reviews, text_csv):
    predictors = [Predictor.load(run) for run in runs_on_reviews]
    comparison = compare_file(predictors, text_csv)
    with text_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    answers = [[p.label for p in predictor.predict([r["review"] for r in rows])] for predictor in predictors]

    split = [i for i in range(len(rows)) if answers[0][i] != answers[1][i]]
    assert 0 < len(split) < len(rows)  # both groups present, so the order is tested
    assert comparison.columns[:3] == ["line", "disagree", "true"] and comparison.columns[-1] == "review"
    assert comparison.disagreements == len(split)
    assert [row[0] - 2 for row in comparison.rows[: len(split)]] == split  # file order within the disagreements
    assert all(row[1] == "yes" for row in comparison.rows[: len(split)])
    assert all(row[1] == "" for row in comparison.rows[len(split) :])
    for run, answered in zip(runs_on_reviews, answers):
        right = sum(a == r["sentiment"] for a, r in zip(answered, rows)) / len(rows)
        assert comparison.scores[run.name] == pytest.approx(right)


def test_runs_of_other_labels_or_a_single_run_are_refused(runs_on_reviews, mlp_digits_run):
    reviews, digits = Predictor.load(runs_on_reviews[0]), Predictor.load(mlp_digits_run[1])
    with pytest.raises(ValueError, match="answer different questions; compare runs of the same task and labels"):
        compare_text([reviews, digits], "great")
    with pytest.raises(ValueError, match="Choose two runs or more to compare."):
        compare_text([reviews], "great")


def test_values_disagree_beyond_the_tolerance_only():
    from workbench.labels import Task
    from workbench.tasks import Prediction

    def value(v):
        return Prediction(task=Task.REGRESSION, label=f"{v}", score=1.0, value=v)

    assert not disagree([value(10.0), value(10.4)], tolerance=0.5)
    assert disagree([value(10.0), value(10.6)], tolerance=0.5)


def test_the_cli_compares_on_a_file_and_writes_every_row(runs_on_reviews, text_csv, tmp_path):
    output = tmp_path / "compared.parquet"
    command = [sys.executable, "-m", "workbench", "compare", "--run", str(runs_on_reviews[0])]
    command += ["--run", str(runs_on_reviews[1]), "--data", str(text_csv), "--output", str(output)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["rows"] == 90 and set(summary["scores"]) == {run.name for run in runs_on_reviews}
    import pyarrow.parquet as pq

    assert pq.read_table(output).num_rows == 90
