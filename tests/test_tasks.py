"""Tests for the task shapes a user gets from a CSV: multi-label (labels joined in one cell, or several 0/1 columns),
regression (a numeric target, answered in its own unit) and text pairs (a second text read with the first). Each is
checked from the CSV to the answer: what load_data proposes and why, what it refuses and how it says so, that the MLP
and the tiny BERT learn it, what run.json records, and what Predictor, predict_csv, evaluate_run and a plain
`transformers.pipeline` give back. The data are synthetic but learnable, built from the tiny BERT's vocabulary."""

import csv
import json
import math
import random
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from engine_helpers import FILLER_WORDS, NEGATIVE_WORDS, POSITIVE_WORDS, of_kind, run_to_end

from workbench.config import DataSpec, TrainConfig
from workbench.data import PreparedData, load_data
from workbench.events import Evaluated, Finished, Step, started_of
from workbench.labels import Task, propose_task
from workbench.metrics.report import evaluate_run, rows_to_look_at
from workbench.predict import Prediction, Predictor

MULTI_LABEL_HEADLINE = {"f1_micro", "f1_macro", "f1_samples", "subset_accuracy", "hamming_loss"}
REGRESSION_HEADLINE = {"rmse", "mae", "r2", "pearson", "spearman"}
TOPICS = ("complaint", "plot", "praise")
TOPIC_FILLER = [w for w in FILLER_WORDS if w != "story"]  # "story" is the word that carries the label "plot"


def mean(values):
    return sum(values) / len(values)


def write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def losses_fall(events, factor: float) -> bool:
    losses = [e.loss for e in of_kind(events, Step)]
    return mean(losses[-5:]) < factor * mean(losses[:5])


def topic_rows(n: int, seed: int) -> list[tuple[str, list[str]]]:
    """A review and its topics: two positive words make "praise", two negative words "complaint", the word "story"
    makes "plot"; each independently, so a row has none, some or all of them."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words, labels = rng.sample(TOPIC_FILLER, rng.randint(2, 5)), []
        if rng.random() < 0.5:
            words += rng.sample(POSITIVE_WORDS, 2)
            labels.append("praise")
        if rng.random() < 0.5:
            words += rng.sample(NEGATIVE_WORDS, 2)
            labels.append("complaint")
        if rng.random() < 0.4:
            words.append("story")
            labels.append("plot")
        rng.shuffle(words)
        rows.append((" ".join(words), labels))
    return rows


def rated_rows(n: int, seed: int) -> list[tuple[str, float]]:
    """A review and a score around 50: ten points up per positive word, ten down per negative word, some noise."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        n_pos, n_neg = rng.randint(0, 3), rng.randint(0, 3)
        words = rng.sample(FILLER_WORDS, rng.randint(2, 5)) + rng.sample(POSITIVE_WORDS, n_pos)
        words += rng.sample(NEGATIVE_WORDS, n_neg)
        rng.shuffle(words)
        rows.append((" ".join(words), round(50 + 10 * (n_pos - n_neg) + rng.gauss(0, 2), 2)))
    return rows


PAIR_WORDS = {True: ("great", "loved", "fun"), False: ("awful", "boring", "dull")}
PAIR_ANSWERS = ("neither", "one", "both")


def pair_rows(n: int, seed: int) -> list[tuple[str, str, str]]:
    """Two one-word texts, each positive or negative, labelled by how many of the two are positive: either text
    alone tells at most half of the answers."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        rows.append((rng.choice(PAIR_WORDS[a]), rng.choice(PAIR_WORDS[b]), PAIR_ANSWERS[a + b]))
    return rows


# ---------------------------------------------------------------------------------------------- shared data, runs


@pytest.fixture(scope="module")
def topics_csv(tmp_path_factory) -> Path:
    """200 reviews with their topics joined by " | " (spaces around the separator; no topic is an empty cell)."""
    rows = [(text, " | ".join(labels)) for text, labels in topic_rows(200, seed=1)]
    return write_csv(tmp_path_factory.mktemp("topics") / "topics.csv", ["review", "topics"], rows)


@pytest.fixture(scope="module")
def topics_data(topics_csv):
    return load_data(DataSpec(path=str(topics_csv)), seed=0)


@pytest.fixture(scope="module")
def mlp_topics_run(tmp_path_factory, topics_data):
    config = TrainConfig(model="mlp", epochs=15, batch_size=16, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    events = run_to_end(config, topics_data)
    return events, Path(started_of(events).run_dir)


@pytest.fixture(scope="module")
def bert_topics_run(tmp_path_factory, tiny_bert_dir, topics_data):
    # BCE on this tiny random BERT stalls at 5e-3 (every label always on); 1e-3 learns the topics
    config = TrainConfig(
        model=str(tiny_bert_dir),
        epochs=10,
        lr=1e-3,
        batch_size=8,
        patience=0,
        output=str(tmp_path_factory.mktemp("runs")),
    )
    events = run_to_end(config, topics_data)
    return events, Path(started_of(events).run_dir)


@pytest.fixture(scope="module")
def rated_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("rated") / "rated.csv", ["review", "target"], rated_rows(200, seed=3))


@pytest.fixture(scope="module")
def rated_data(rated_csv):
    return load_data(DataSpec(path=str(rated_csv)), seed=0)


@pytest.fixture(scope="module")
def mlp_rated_run(tmp_path_factory, rated_data):
    config = TrainConfig(model="mlp", epochs=15, batch_size=16, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    events = run_to_end(config, rated_data)
    return events, Path(started_of(events).run_dir)


@pytest.fixture(scope="module")
def bert_rated_run(tmp_path_factory, tiny_bert_dir, rated_data):
    config = TrainConfig(
        model=str(tiny_bert_dir),
        epochs=10,
        lr=5e-3,
        batch_size=8,
        patience=0,
        output=str(tmp_path_factory.mktemp("runs")),
    )
    events = run_to_end(config, rated_data)
    return events, Path(started_of(events).run_dir)


@pytest.fixture(scope="module")
def pairs_csv(tmp_path_factory) -> Path:
    header = ["premise", "hypothesis", "label"]
    return write_csv(tmp_path_factory.mktemp("pairs") / "pairs.csv", header, pair_rows(240, seed=4))


@pytest.fixture(scope="module")
def pairs_data(pairs_csv):
    return load_data(DataSpec(path=str(pairs_csv), text_column="premise", text_pair_column="hypothesis"), seed=0)


@pytest.fixture(scope="module")
def mlp_pairs_run(tmp_path_factory, pairs_data):
    config = TrainConfig(model="mlp", epochs=20, batch_size=16, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    events = run_to_end(config, pairs_data)
    return events, Path(started_of(events).run_dir)


@pytest.fixture(scope="module")
def bert_pairs_run(tmp_path_factory, tiny_bert_dir, pairs_data):
    config = TrainConfig(
        model=str(tiny_bert_dir),
        epochs=10,
        lr=2e-3,
        batch_size=8,
        patience=0,
        output=str(tmp_path_factory.mktemp("runs")),
    )
    events = run_to_end(config, pairs_data)
    return events, Path(started_of(events).run_dir)


def load(tmp_path: Path, header: list[str], rows, **spec) -> PreparedData:
    return load_data(DataSpec(path=str(write_csv(tmp_path / "data.csv", header, rows)), **spec), seed=0)


def label_sets(data) -> list[set[str]]:
    """Each row's labels (train then validation) as names."""
    rows = data.train["label"][:] + data.validation["label"][:]
    return [{name for name, on in zip(data.labels.names, row) if on} for row in rows]


# ---------------------------------------------------------------------------------------------- multi-label: reading


def test_a_pipe_separated_column_is_proposed_as_multi_label_with_its_reason(topics_data, topics_csv):
    cells = [row["topics"] for row in read_csv_rows(topics_csv)]

    assert topics_data.task == Task.MULTI_LABEL
    assert "'topics'" in topics_data.task_reason and "'|'" in topics_data.task_reason
    assert topics_data.labels.names == TOPICS  # " praise" and "praise " are one label: spaces are trimmed
    assert len(topics_data.train) + len(topics_data.validation) == 200  # rows with an empty cell are kept
    assert not any(note.startswith("Dropped") for note in topics_data.notes)
    assert sum(not labels for labels in label_sets(topics_data)) == sum(not cell for cell in cells) > 0
    assert topics_data.summary()["task"] == "multi-label"


def test_semicolons_are_found_as_the_separator(tmp_path):
    rows = [(text, ";".join(labels)) for text, labels in topic_rows(60, seed=2)]

    data = load(tmp_path, ["review", "topics"], rows)

    assert data.task == Task.MULTI_LABEL and "';'" in data.task_reason
    assert data.labels.names == TOPICS


def test_commas_split_labels_only_when_the_user_names_the_comma(tmp_path):
    rows = [(text, ", ".join(labels)) for text, labels in topic_rows(60, seed=2)]

    guessed = load(tmp_path, ["review", "topics"], rows)
    named = load(tmp_path, ["review", "topics"], rows, label_separator=",")

    assert guessed.task == Task.SINGLE_LABEL  # a comma is common inside one label: never split unasked
    assert "praise, complaint" in guessed.labels.names
    assert named.task == Task.MULTI_LABEL and "','" in named.task_reason
    assert named.labels.names == TOPICS


def test_a_cell_holding_only_the_separator_is_a_row_without_labels(tmp_path):
    rows = [(text, "|".join(labels)) for text, labels in topic_rows(60, seed=2)]
    rows[3], rows[8] = (rows[3][0], "|"), (rows[8][0], " | ")

    data = load(tmp_path, ["review", "topics"], rows)

    assert data.labels.names == TOPICS  # no "" or " " label
    assert len(data.train) + len(data.validation) == 60
    by_text = dict(zip(data.train["text"][:] + data.validation["text"][:], label_sets(data)))
    assert by_text[rows[3][0]] == set() and by_text[rows[8][0]] == set()


@pytest.mark.parametrize(
    "on, off",
    [("1", "0"), ("true", "false"), ("yes", "no"), ("Yes", "")],
    ids=["1/0", "true/false", "yes/no", "Yes/empty"],
)
def test_several_zero_one_columns_given_together_are_one_multi_label_row(tmp_path, on, off):
    source = topic_rows(60, seed=2)
    rows = [(text, on if "praise" in labels else off, on if "complaint" in labels else off) for text, labels in source]

    data = load(tmp_path, ["review", "praise", "complaint"], rows, label_columns=("praise", "complaint"))

    assert data.task == Task.MULTI_LABEL
    assert "2 label columns" in data.task_reason
    assert data.labels.names == ("praise", "complaint")  # the columns' order
    by_text = dict(zip(data.train["text"][:] + data.validation["text"][:], label_sets(data)))
    assert all(by_text[text] == set(labels) - {"plot"} for text, labels in source)


def test_label_columns_also_come_as_one_comma_separated_string(tmp_path):
    rows = [(text, int("praise" in labels), int("plot" in labels)) for text, labels in topic_rows(60, seed=2)]

    data = load(tmp_path, ["review", "praise", "plot"], rows, label_columns="praise, plot")

    assert data.task == Task.MULTI_LABEL and data.labels.names == ("praise", "plot")
    assert data.columns.labels == ("praise", "plot")


def test_a_zero_one_column_with_another_value_names_the_column_and_the_line(tmp_path):
    rows = [(text, int("praise" in labels), int("complaint" in labels)) for text, labels in topic_rows(60, seed=2)]
    rows[7] = (rows[7][0], rows[7][1], "maybe")  # the 8th data row: line 9 of the file

    with pytest.raises(ValueError, match="'complaint'") as error:
        load(tmp_path, ["review", "praise", "complaint"], rows, label_columns="praise,complaint")

    assert "'maybe'" in str(error.value)
    assert "line 9" in str(error.value), str(error.value)


def test_several_label_columns_with_the_single_label_task_are_refused(tmp_path):
    rows = [(text, int("praise" in labels), int("complaint" in labels)) for text, labels in topic_rows(60, seed=2)]

    with pytest.raises(ValueError, match="multi-label"):
        load(tmp_path, ["review", "praise", "complaint"], rows, label_columns="praise,complaint", task="single-label")


def test_the_user_can_override_the_proposed_task(tmp_path):
    rows = [(text, "|".join(labels)) for text, labels in topic_rows(60, seed=2)]

    data = load(tmp_path, ["review", "topics"], rows, task="single-label")

    assert data.task == Task.SINGLE_LABEL
    assert "single-label" in data.task_reason and "multi-label" in data.task_reason  # chosen, and what was detected
    assert "praise|complaint" in data.labels.names


def test_a_label_on_two_or_three_rows_is_kept_on_both_sides_of_the_split(tmp_path):
    source = topic_rows(200, seed=1)
    rare = {10: "twist", 120: "twist", 50: "cameo", 90: "cameo", 130: "cameo"}  # no row holds both
    rows = [(text, "|".join(labels + ([rare[i]] if i in rare else []))) for i, (text, labels) in enumerate(source)]
    path = write_csv(tmp_path / "rare.csv", ["review", "topics"], rows)

    for seed in range(10):
        data = load_data(DataSpec(path=str(path)), seed=seed)
        for j, name in enumerate(data.labels.names):
            assert any(row[j] for row in data.train["label"][:]), (seed, name)
            assert any(row[j] for row in data.validation["label"][:]), (seed, name)


def test_rare_labels_that_share_a_row_are_still_on_both_sides_of_the_split(tmp_path):
    source = topic_rows(200, seed=1)
    rare = {10: ["twist"], 50: ["twist", "cameo"], 90: ["cameo"], 130: ["cameo"]}
    rows = [(text, "|".join(labels + rare.get(i, []))) for i, (text, labels) in enumerate(source)]
    path = write_csv(tmp_path / "rare.csv", ["review", "topics"], rows)

    one_sided = []
    for seed in range(20):
        data = load_data(DataSpec(path=str(path)), seed=seed)
        for j, name in enumerate(data.labels.names):
            sides = [sum(row[j] for row in part["label"][:]) for part in (data.train, data.validation)]
            if 0 in sides:
                one_sided.append((seed, name, sides))

    assert one_sided == []  # each of these labels has 2 or 3 rows and can be split, whatever the seed


def test_a_label_seen_once_trains(tmp_path):
    source = topic_rows(80, seed=5)
    rows = [(text, "|".join(labels + (["once"] if i == 7 else []))) for i, (text, labels) in enumerate(source)]
    data = load(tmp_path, ["review", "topics"], rows)

    events = run_to_end(TrainConfig(model="mlp", epochs=2, patience=0, output=str(tmp_path / "runs")), data)

    assert "once" in data.labels.names
    assert isinstance(events[-1], Finished)
    assert set(events[-1].metrics) == MULTI_LABEL_HEADLINE
    assert all(math.isfinite(v) for v in events[-1].metrics.values())
    assert "once" in Predictor.load(started_of(events).run_dir).predict("great story").probabilities


# ---------------------------------------------------------------------------------------------- multi-label: training


def test_mlp_learns_the_topics(mlp_topics_run):
    events, _ = mlp_topics_run
    finished = events[-1]

    assert isinstance(finished, Finished)
    assert losses_fall(events, 0.6)
    assert set(finished.metrics) == MULTI_LABEL_HEADLINE
    # saying every topic every time scores a micro-F1 of about 0.64 here
    assert finished.metrics["f1_micro"] > 0.85
    assert finished.metrics["hamming_loss"] < 0.15
    for evaluated in of_kind(events, Evaluated):
        assert {"f1_micro", "threshold"} <= set(evaluated.scores)
        assert 0 < evaluated.scores["threshold"] < 1


def test_run_json_records_the_multi_label_task(mlp_topics_run):
    _, run_dir = mlp_topics_run
    record = run_record(run_dir)

    assert set(record["task"]) == {"name", "thresholds", "separator"}
    assert record["task"]["name"] == "multi-label" and record["task"]["separator"] == "|"
    assert set(record["task"]["thresholds"]) == set(TOPICS)  # one per label, chosen on the validation rows
    assert all(0 < t < 1 for t in record["task"]["thresholds"].values())
    assert record["labels"] == list(TOPICS)
    assert set(record["metrics"]) == MULTI_LABEL_HEADLINE


def test_multi_label_prediction_gives_the_labels_over_the_threshold(mlp_topics_run):
    _, run_dir = mlp_topics_run
    predictor = Predictor.load(run_dir)
    thresholds = run_record(run_dir)["task"]["thresholds"]
    texts = ["the film great wonderful story", "a film was awful and dull", "it was so", "superb fun and terrible mess"]

    answers = [p.to_dict() for p in predictor.predict(texts)]

    for answer in answers:
        assert set(answer) == {"labels", "probabilities", "thresholds"}
        assert answer["thresholds"] == pytest.approx(thresholds)
        assert set(answer["probabilities"]) == set(TOPICS)
        assert answer["labels"] == [name for name in TOPICS if answer["probabilities"][name] >= thresholds[name]]
    assert [set(a["labels"]) for a in answers] == [{"praise", "plot"}, {"complaint"}, set(), {"praise", "complaint"}]
    single = predictor.predict(texts[0])  # one text, one answer
    assert single.labels == tuple(answers[0]["labels"])
    assert single.probabilities == pytest.approx(answers[0]["probabilities"], abs=1e-6)


def test_multi_label_predict_csv_writes_the_labels_and_each_probability(mlp_topics_run, topics_csv, tmp_path):
    _, run_dir = mlp_topics_run
    predictor = Predictor.load(run_dir)
    output = tmp_path / "out.csv"

    count = predictor.predict_file(topics_csv, output)

    rows = read_csv_rows(output)
    assert count == len(rows) == 200
    assert set(rows[0]) == {"review", "topics", "predicted_labels", "p_complaint", "p_plot", "p_praise"}
    expected = predictor.predict([row["review"] for row in rows[:20]])
    for row, prediction in zip(rows, expected):
        assert row["predicted_labels"] == "|".join(prediction.labels)
        assert float(row["p_plot"]) == pytest.approx(prediction.probabilities["plot"], abs=1e-5)
    right = sum(
        set(filter(None, row["predicted_labels"].split("|")))
        == {t.strip() for t in row["topics"].split("|") if t.strip()}
        for row in rows
    )
    assert right > 150


def test_evaluate_run_gives_the_multi_label_report(mlp_topics_run):
    events, run_dir = mlp_topics_run

    report = evaluate_run(run_dir)

    assert report["task"] == "multi-label"
    assert MULTI_LABEL_HEADLINE <= set(report)
    assert report["f1_micro"] == pytest.approx(events[-1].metrics["f1_micro"])
    assert set(report["per_label"]) == set(TOPICS)
    assert report["thresholds"] == pytest.approx(run_record(run_dir)["task"]["thresholds"])
    assert isinstance(report["misclassified"], list)
    for row in report["misclassified"]:
        assert {"text", "true", "predicted", "wrong_labels"} <= set(row)
        assert set(filter(None, row["true"].split("|"))) != set(filter(None, row["predicted"].split("|")))


def test_evaluate_run_on_a_labelled_csv_reads_the_separated_cells(mlp_topics_run, topics_csv):
    _, run_dir = mlp_topics_run
    cells = [row["topics"] for row in read_csv_rows(topics_csv)]

    report = evaluate_run(run_dir, topics_csv)

    assert report["data"] == "topics.csv"
    for name in TOPICS:
        assert report["per_label"][name]["support"] == sum(name in cell for cell in cells)
    assert report["f1_micro"] > 0.85


def test_a_row_without_true_labels_counts_only_the_predicted_ones_as_wrong():
    predictor = SimpleNamespace(task=Task.MULTI_LABEL)
    predicted = Prediction(
        Task.MULTI_LABEL,
        "praise",
        0.9,
        {"praise": 0.9, "plot": 0.1},
        ("praise",),
        thresholds={"praise": 0.5, "plot": 0.5},
    )

    rows = rows_to_look_at(predictor, ["great"], [""], [predicted], torch.tensor([[0.0, 0.0]]))

    assert rows[0]["wrong_labels"] == 1


def test_tiny_bert_learns_the_topics(bert_topics_run):
    events, run_dir = bert_topics_run

    assert isinstance(events[-1], Finished)
    assert losses_fall(events, 0.8)
    assert set(events[-1].metrics) == MULTI_LABEL_HEADLINE
    assert events[-1].metrics["f1_micro"] > 0.8  # every topic every time: about 0.64
    assert run_record(run_dir)["task"]["name"] == "multi-label"


def test_tiny_bert_multi_label_folder_loads_with_a_plain_pipeline(bert_topics_run):
    from transformers import pipeline

    _, run_dir = bert_topics_run
    texts = ["the film great wonderful story", "a film was awful and dull", "it was so", "superb fun and terrible mess"]

    classifier = pipeline("text-classification", model=str(run_dir), top_k=None, device="cpu")
    from_pipeline = [{out["label"]: out["score"] for out in outputs} for outputs in classifier(texts)]
    from_predictor = [p.probabilities for p in Predictor.load(run_dir).predict(texts)]

    for piped, predicted in zip(from_pipeline, from_predictor):
        assert set(piped) == set(TOPICS)
        assert piped == pytest.approx(predicted, abs=1e-4)  # sigmoid per label, not softmax over them
    assert sum(from_pipeline[0].values()) > 1.2  # independent probabilities: two topics on at once


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


# ---------------------------------------------------------------------------------------------- text pairs


def test_a_text_pair_column_reaches_the_data(pairs_data):
    assert pairs_data.columns.text == "premise" and pairs_data.columns.text_pair == "hypothesis"
    assert {"text", "text_pair", "label"} <= set(pairs_data.train.column_names)
    assert pairs_data.train["text_pair"][:] != pairs_data.train["text"][:]
    assert pairs_data.summary()["text_pair_column"] == "hypothesis"


def test_the_detected_text_column_is_not_the_pair_column(tmp_path):
    rows = [(f"the film was {a}", f"{b} and the story was really very so", label) for a, b, label in pair_rows(60, 4)]

    data = load(tmp_path, ["premise", "hypothesis", "label"], rows, text_pair_column="hypothesis")

    assert (data.columns.text, data.columns.text_pair) == ("premise", "hypothesis")


def test_a_pair_column_empty_in_every_row_is_refused_in_one_sentence(tmp_path):
    rows = [(a, "", label) for a, _, label in pair_rows(60, seed=4)]

    with pytest.raises(ValueError, match="'hypothesis'") as error:
        load(tmp_path, ["premise", "hypothesis", "label"], rows, text_column="premise", text_pair_column="hypothesis")

    message = str(error.value)
    assert "empty in every row" in message
    assert "\n" not in message and len(re.findall(r"[.!?](?:\s|$)", message)) == 1, message


PAIR_CASES = [("great", "fun", "both"), ("great", "awful", "one"), ("great", "dull", "one")]
PAIR_CASES += [("dull", "boring", "neither"), ("awful", "loved", "one"), ("loved", "loved", "both")]


@pytest.mark.parametrize("run", ["mlp_pairs_run", "bert_pairs_run"])
def test_a_label_that_needs_both_texts_is_learnt(run, request):
    events, run_dir = request.getfixturevalue(run)
    predictor = Predictor.load(run_dir)

    assert isinstance(events[-1], Finished)
    assert events[-1].metrics["accuracy"] >= 0.9  # either text alone: at most 0.5
    answers = predictor.predict([a for a, _, _ in PAIR_CASES], pairs=[b for _, b, _ in PAIR_CASES])
    assert [p.label for p in answers] == [label for _, _, label in PAIR_CASES]
    # one pair as two strings; the second text changes the answer for the same first text
    assert predictor.predict("great", pairs="loved").label == "both"
    assert predictor.predict("great", pairs="boring").label == "one"
    assert run_record(run_dir)["columns"]["text_pair"] == "hypothesis"


def test_tiny_bert_pair_folder_loads_with_a_plain_pipeline(bert_pairs_run):
    from transformers import pipeline

    _, run_dir = bert_pairs_run
    classifier = pipeline("text-classification", model=str(run_dir), top_k=None, device="cpu")
    predictor = Predictor.load(run_dir)

    for a, b, _ in PAIR_CASES[:3]:
        piped = {out["label"]: out["score"] for out in classifier({"text": a, "text_pair": b})}
        predicted = predictor.predict(a, pairs=b).probabilities
        assert piped == pytest.approx(predicted, abs=1e-4)


def test_a_label_with_enough_validation_rows_gets_its_own_threshold_and_a_rare_one_the_shared_one():
    from workbench.tasks import OWN_THRESHOLD_ROWS, best_threshold, label_thresholds

    rows = 4 * OWN_THRESHOLD_ROWS
    truth = torch.zeros(rows, 2)
    truth[: rows // 2, 0] = 1  # "common": half the rows, found at 0.2
    truth[:2, 1] = 1  # "rare": two rows, at 0.9; its absences lie at 0.6, so on its own it would want 0.65
    probabilities = torch.full((rows, 2), 0.05)
    probabilities[: rows // 2, 0] = 0.2
    probabilities[:, 1] = 0.6
    probabilities[:2, 1] = 0.9

    common, rare = label_thresholds(probabilities, truth)

    assert common == best_threshold(probabilities[:, :1], truth[:, :1])  # enough rows: its own
    assert rare == best_threshold(probabilities, truth) != best_threshold(probabilities[:, 1:], truth[:, 1:])


@pytest.mark.parametrize(
    "fixture, task, words",
    [
        ("bert_topics_run", "multi-label", "labels at or above their thresholds"),
        ("bert_rated_run", "regression", "in the target's own unit"),
    ],
)
def test_the_model_card_and_config_name_the_task(fixture, task, words, request, tmp_path):
    from workbench import hub

    run_dir = request.getfixturevalue(fixture)[1]
    folder = hub.prepare_upload(run_dir, tmp_path / "upload", repo_id="someone/model")
    card = (folder / "README.md").read_text()
    config = json.loads((folder / "config.json").read_text())

    assert f"| task | {task} |" in card and words in card and f"- {task}" in card  # the table, the text, the tags
    assert config["problem_type"] == {"multi-label": "multi_label_classification", "regression": "regression"}[task]
