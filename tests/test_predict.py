"""Tests for workbench.predict: predictions come back in the order asked (whatever the batching does), a CSV gets
its predictions written beside the original columns, and no cell of that CSV can run as a spreadsheet formula."""

import csv
from pathlib import Path

import pytest
from engine_helpers import SENTIMENT_TEXTS as TEXTS

from workbench.predict import Prediction, Predictor, neutralise_formula


@pytest.fixture(scope="module")
def bert_predictor(bert_text_run) -> Predictor:
    return Predictor.load(bert_text_run[1])


@pytest.fixture(scope="module")
def mlp_predictor(mlp_digits_run) -> Predictor:
    return Predictor.load(mlp_digits_run[1])


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def test_a_list_predicts_the_same_as_each_text_alone(bert_predictor):
    together = bert_predictor.predict(TEXTS)
    alone = [bert_predictor.predict(text) for text in TEXTS]

    assert [p.label for p in together] == [p.label for p in alone]
    for batched, single in zip(together, alone):
        assert batched.probabilities == pytest.approx(single.probabilities, abs=1e-5)
    # the texts differ in length and sentiment, so a mix-up of the order could not go unnoticed
    assert [p.label for p in together] == [
        "negative",
        "positive",
        "negative",
        "positive",
        "negative",
        "positive",
        "negative",
        "positive",
    ]


def test_a_prediction_holds_a_distribution_over_the_labels(bert_predictor):
    prediction = bert_predictor.predict("the film was great")

    assert isinstance(prediction, Prediction)
    assert set(prediction.probabilities) == {"negative", "positive"}
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert prediction.score == max(prediction.probabilities.values())
    assert prediction.probabilities[prediction.label] == prediction.score
    assert prediction.to_dict() == {
        "label": prediction.label,
        "score": prediction.score,
        "probabilities": prediction.probabilities,
    }


def test_empty_list_predicts_nothing(bert_predictor):
    assert bert_predictor.predict([]) == []


def test_mlp_on_numbers_needs_every_feature(mlp_predictor, digits_data):
    features = digits_data.validation["features"][:3]

    predictions = mlp_predictor.predict([""] * 3, features)

    assert [p.label for p in predictions] == [mlp_predictor.predict("", [f]).label for f in features]
    with pytest.raises(ValueError, match="px0, px1"):
        mlp_predictor.predict([""], [[1.0, 2.0]])


def test_predict_csv_adds_label_confidence_and_probabilities(bert_predictor, tmp_path):
    source = tmp_path / "new.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "source"])
        for i, text in enumerate(TEXTS):
            writer.writerow([i, text, "web"])
    output = tmp_path / "out" / "predicted.csv"
    output.parent.mkdir()

    count = bert_predictor.predict_file(source, output)

    header, rows = read_csv_rows(output)
    assert count == len(rows) == len(TEXTS)
    assert header == ["id", "review", "source", "predicted_label", "confidence", "p_negative", "p_positive"]
    assert [r["review"] for r in rows] == TEXTS  # the rows in their original order, cells untouched
    assert [r["id"] for r in rows] == [str(i) for i in range(len(TEXTS))]
    assert [r["predicted_label"] for r in rows] == [p.label for p in bert_predictor.predict(TEXTS)]
    for row in rows:
        probabilities = {"negative": float(row["p_negative"]), "positive": float(row["p_positive"])}
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert float(row["confidence"]) == pytest.approx(probabilities[row["predicted_label"]], abs=1e-6)
    assert [p.name for p in output.parent.iterdir()] == ["predicted.csv"]  # no temporary file left beside it


def test_predict_csv_without_the_text_column_names_it(bert_predictor, tmp_path):
    source = tmp_path / "wrong.csv"
    source.write_text("comment,label\ngreat fun,positive\n")

    with pytest.raises(ValueError, match="lacks column\\(s\\) review") as caught:
        bert_predictor.predict_file(source, tmp_path / "out.csv")
    assert "comment" in str(caught.value)
    assert not (tmp_path / "out.csv").exists()


def test_predict_csv_neutralises_formulas_but_keeps_numbers(bert_predictor, tmp_path):
    source = tmp_path / "hostile.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "note", "amount"])
        writer.writerow(['=HYPERLINK("http://evil","great")', "+cmd|' /C calc'!A0", "-1.5"])
        writer.writerow(["great fun", "@SUM(A1:A9)", "-2+3"])
        writer.writerow(["awful boring mess", "plain", "42"])

    bert_predictor.predict_file(source, tmp_path / "out.csv")

    _, rows = read_csv_rows(tmp_path / "out.csv")
    assert rows[0]["review"] == '\'=HYPERLINK("http://evil","great")'
    assert rows[0]["note"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["amount"] == "-1.5"  # a negative number is data
    assert rows[1]["note"] == "'@SUM(A1:A9)"
    assert rows[1]["amount"] == "'-2+3"  # starts like a number, is a formula
    assert (rows[2]["note"], rows[2]["amount"]) == ("plain", "42")


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "+1"),
        ("-1.5", "-1.5"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_neutralise_formula(cell, expected):
    assert neutralise_formula(cell) == expected


def test_feature_inputs_start_at_the_training_means(mlp_predictor, digits_data):
    """A form of feature values starts where the training rows lie, not at 0 (a 0 far from them is a strange row)."""
    rows = digits_data.train["features"]
    means = [sum(row[i] for row in rows) / len(rows) for i in range(len(mlp_predictor.feature_names))]

    assert mlp_predictor.feature_defaults == pytest.approx(means, rel=1e-5)
    assert max(means) > 5  # the digits' pixels lie far from 0, so the test could not pass on zeros
