"""Text pairs, from the CSV to the answer: a second text column read with the first (question/answer,
claim/evidence), refused in one sentence when empty, learnt by the MLP and the tiny BERT when the label needs both
texts, and given back by a plain `transformers.pipeline` as the Predictor gives it."""

import re
from pathlib import Path

import pytest
from engine_helpers import trained_run
from task_helpers import load, pair_rows, run_record, write_csv

from workbench.config import DataSpec
from workbench.data import load_data
from workbench.events import Finished
from workbench.predict import Predictor


@pytest.fixture(scope="module")
def pairs_csv(tmp_path_factory) -> Path:
    header = ["premise", "hypothesis", "label"]
    return write_csv(tmp_path_factory.mktemp("pairs") / "pairs.csv", header, pair_rows(240, seed=4))


@pytest.fixture(scope="module")
def pairs_data(pairs_csv):
    return load_data(DataSpec(path=str(pairs_csv), text_column="premise", text_pair_column="hypothesis"), seed=0)


@pytest.fixture(scope="module")
def mlp_pairs_run(tmp_path_factory, pairs_data):
    return trained_run(tmp_path_factory, pairs_data, model="mlp", epochs=20, batch_size=16, patience=0)


@pytest.fixture(scope="module")
def bert_pairs_run(tmp_path_factory, tiny_bert_dir, pairs_data):
    return trained_run(
        tmp_path_factory, pairs_data, model=str(tiny_bert_dir), epochs=10, lr=2e-3, batch_size=8, patience=0
    )


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
