"""Regression, from the CSV to the answer: a numeric target proposed or chosen, the targets refused in one sentence,
that the MLP and the tiny BERT learn it, and that every way of predicting answers in the target's own unit."""

from pathlib import Path

import pytest
from engine_helpers import of_kind, trained_run
from task_helpers import (
    load,
    losses_fall,
    mean,
    pushed_card_and_config,
    rated_rows,
    read_csv_rows,
    run_record,
    topic_rows,
    write_csv,
)

from workbench.config import DataSpec
from workbench.data import load_data
from workbench.events import Evaluated, Finished
from workbench.labels import Task, propose_task
from workbench.metrics.report import evaluate_run
from workbench.predict import Predictor

REGRESSION_HEADLINE = {"rmse", "mae", "r2", "pearson", "spearman"}


@pytest.fixture(scope="module")
def rated_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("rated") / "rated.csv", ["review", "target"], rated_rows(200, seed=3))


@pytest.fixture(scope="module")
def rated_data(rated_csv):
    return load_data(DataSpec(path=str(rated_csv)), seed=0)


@pytest.fixture(scope="module")
def mlp_rated_run(tmp_path_factory, rated_data):
    return trained_run(tmp_path_factory, rated_data, model="mlp", epochs=15, batch_size=16, patience=0)


@pytest.fixture(scope="module")
def bert_rated_run(tmp_path_factory, tiny_bert_dir, rated_data):
    return trained_run(
        tmp_path_factory, rated_data, model=str(tiny_bert_dir), epochs=10, lr=5e-3, batch_size=8, patience=0
    )


# ---------------------------------------------------------------------------------------------- regression: reading


def test_a_numeric_column_with_many_values_is_proposed_as_regression(rated_data):
    train_targets = rated_data.train["label"][:]

    assert rated_data.task == Task.REGRESSION
    assert "'target'" in rated_data.task_reason and "numbers" in rated_data.task_reason
    assert rated_data.labels.names == ("target",)
    assert rated_data.target_scale.mean == pytest.approx(mean(train_targets), abs=1e-3)
    assert rated_data.target_scale.std > 5
    assert rated_data.summary()["target"]["min"] < 30 < 70 < rated_data.summary()["target"]["max"]


def test_many_whole_numbers_are_regression_too():
    task, reason = propose_task({"price": [str(v) for v in range(100, 180)]})

    assert task == Task.REGRESSION and "80 different values" in reason


def test_star_ratings_stay_classes_and_the_reason_names_regression(tmp_path):
    rows = [(text, 1 + i % 5) for i, (text, _) in enumerate(rated_rows(60, seed=3))]

    stars = load(tmp_path, ["review", "rating"], rows)
    flipped = load(tmp_path, ["review", "rating"], rows, task="regression")

    assert stars.task == Task.SINGLE_LABEL
    assert stars.labels.names == ("1", "2", "3", "4", "5")
    assert "regression" in stars.task_reason
    assert flipped.task == Task.REGRESSION
    assert flipped.labels.names == ("rating",)
    assert sorted(set(flipped.train["label"][:])) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert "regression" in flipped.task_reason


@pytest.mark.parametrize("spec", [{"task": "regression"}, {}], ids=["chosen", "detected"])
def test_a_non_numeric_target_names_its_line(tmp_path, spec):
    rows = rated_rows(60, seed=3)
    rows[5] = (rows[5][0], "n/a")  # the 6th data row: line 7 of the file

    with pytest.raises(ValueError, match="'n/a'") as error:
        load(tmp_path, ["review", "target"], rows, **spec)

    assert "'target'" in str(error.value)
    assert "line 7" in str(error.value), str(error.value)


@pytest.mark.parametrize("case", ["target after empty targets", "0/1 cell after empty texts"])
def test_the_line_named_is_the_file_line_after_dropped_rows(tmp_path, case):
    if case == "target after empty targets":
        rows = rated_rows(60, seed=3)
        rows[1], rows[2], rows[5] = (rows[1][0], ""), (rows[2][0], ""), (rows[5][0], "n/a")
        header, spec = ["review", "target"], {"task": "regression"}
    else:
        rows = [(text, int("praise" in labels), int("complaint" in labels)) for text, labels in topic_rows(60, seed=2)]
        rows[1], rows[2], rows[5] = ("", *rows[1][1:]), ("", *rows[2][1:]), (rows[5][0], 1, "maybe")
        header, spec = ["review", "praise", "complaint"], {"label_columns": "praise,complaint"}

    with pytest.raises(ValueError) as error:
        load(tmp_path, header, rows, **spec)

    assert "line 7" in str(error.value), str(error.value)


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "NaN"])
def test_an_infinite_or_missing_number_target_is_refused(tmp_path, cell):
    rows = rated_rows(60, seed=3)
    rows[5] = (rows[5][0], cell)

    with pytest.raises(ValueError, match="not a finite number"):
        load(tmp_path, ["review", "target"], rows, task="regression")


def test_a_constant_target_is_refused(tmp_path):
    rows = [(text, 3.5) for text, _ in rated_rows(60, seed=3)]

    with pytest.raises(ValueError, match="same value"):
        load(tmp_path, ["review", "target"], rows, task="regression")


def test_rows_with_an_empty_target_are_dropped_with_a_note(tmp_path):
    rows = rated_rows(60, seed=3)
    for i in (4, 9, 11):
        rows[i] = (rows[i][0], "")

    data = load(tmp_path, ["review", "target"], rows)

    assert data.task == Task.REGRESSION
    assert len(data.train) + len(data.validation) == 57
    assert any("Dropped 3 of 60" in note for note in data.notes), data.notes


# ---------------------------------------------------------------------------------------------- regression: training


def test_mlp_learns_the_target(mlp_rated_run):
    events, _ = mlp_rated_run
    finished = events[-1]

    assert isinstance(finished, Finished)
    assert losses_fall(events, 0.6)
    assert set(finished.metrics) == REGRESSION_HEADLINE
    assert finished.metrics["r2"] > 0.5
    assert finished.metrics["pearson"] > 0.7 and finished.metrics["spearman"] > 0.7
    assert finished.metrics["rmse"] >= finished.metrics["mae"] > 0
    assert all("rmse" in e.scores for e in of_kind(events, Evaluated))


def test_run_json_records_the_target_scale(mlp_rated_run, rated_data):
    _, run_dir = mlp_rated_run
    task = run_record(run_dir)["task"]

    assert task["name"] == "regression"
    assert task["target_mean"] == pytest.approx(rated_data.target_scale.mean)
    assert task["target_std"] == pytest.approx(rated_data.target_scale.std)


def test_regression_answers_come_back_in_the_target_unit(mlp_rated_run, rated_csv, tmp_path):
    _, run_dir = mlp_rated_run
    predictor = Predictor.load(run_dir)
    rows = read_csv_rows(rated_csv)

    predictions = predictor.predict([row["review"] for row in rows])

    targets = [float(row["target"]) for row in rows]
    assert predictions[0].to_dict() == {"value": predictions[0].value}
    assert abs(mean([p.value for p in predictions]) - mean(targets)) < 3  # the targets' mean is about 50, not 0
    assert predictor.predict("great wonderful superb").value > predictor.predict("awful terrible dull").value + 20

    count = predictor.predict_file(rated_csv, tmp_path / "out.csv")
    written = read_csv_rows(tmp_path / "out.csv")
    assert count == 200 and set(written[0]) == {"review", "target", "predicted_value"}
    assert [float(r["predicted_value"]) for r in written[:10]] == pytest.approx(
        [p.value for p in predictions[:10]], rel=1e-5
    )  # written with 6 significant digits


def test_evaluate_run_gives_the_regression_report(mlp_rated_run, rated_csv):
    events, run_dir = mlp_rated_run

    on_validation = evaluate_run(run_dir)
    on_csv = evaluate_run(run_dir, rated_csv)

    assert on_validation["task"] == "regression"
    assert REGRESSION_HEADLINE <= set(on_validation)
    assert on_validation["r2"] == pytest.approx(events[-1].metrics["r2"], abs=1e-6)
    worst = on_validation["misclassified"]
    assert worst and {"text", "true", "predicted", "error"} <= set(worst[0])
    assert [abs(r["error"]) for r in worst] == sorted((abs(r["error"]) for r in worst), reverse=True)
    assert on_csv["r2"] > 0.5


def test_tiny_bert_learns_the_target_and_a_plain_pipeline_gives_the_same_number(bert_rated_run):
    from transformers import pipeline

    events, run_dir = bert_rated_run
    texts = ["great wonderful superb", "awful terrible dull", "the film was a movie", "fun and a mess"]

    assert isinstance(events[-1], Finished)
    assert set(events[-1].metrics) == REGRESSION_HEADLINE
    assert events[-1].metrics["r2"] > 0.5
    classifier = pipeline("text-classification", model=str(run_dir), device="cpu")
    from_pipeline = [out["score"] for out in classifier(texts)]  # the scale is folded into the saved head
    from_predictor = [p.value for p in Predictor.load(run_dir).predict(texts)]
    assert from_pipeline == pytest.approx(from_predictor, abs=1e-4)
    assert from_predictor[0] > 60 > 40 > from_predictor[1]


def test_the_model_card_and_config_name_the_task(bert_rated_run, tmp_path):
    card, config = pushed_card_and_config(bert_rated_run[1], tmp_path)

    assert (
        "| task | regression |" in card and "in the target's own unit" in card and "- regression" in card
    )  # the table, the text, the tags
    assert config["problem_type"] == "regression"
