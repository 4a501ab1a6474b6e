"""Tests for workbench.explain: each method's pushes agree with a hand-computed case on a tiny MLP; integrated
gradients add up to the change of the explained score (on the MLP and on a tiny BERT); word pieces are merged back
into the words of the text; on a small trained run, deleting the words ranked first drops the label's probability
more than deleting as many random words; a wrong label or method is one sentence; the CLI prints the JSON."""

import json
import os
import random
import statistics
import subprocess
import sys

import pytest
import torch
from engine_helpers import sentiment_text

from workbench.events import started_of
from workbench.explain import METHODS, MLPExplainer, explain, target_score
from workbench.labels import Task
from workbench.models.mlp import MLP, Bag, Featurizer
from workbench.predict import Predictor


def hand_made_mlp() -> MLPExplainer:
    """Words `good` (column 1) and `bad` (column 2) after one numeric column (column 0); ReLU kept active, so the
    class-1 logit is 2*n + 3*good - 4*bad + 1 and the class-0 logit is 0."""
    featurizer = Featurizer(Bag({"good": 0, "bad": 1}, [1.0, 1.0]), means=[10.0], stds=[2.0])
    model = MLP(3, 2, hidden=1)
    with torch.no_grad():
        model.hidden.weight.copy_(torch.tensor([[2.0, 3.0, -4.0]]))
        model.hidden.bias.fill_(10.0)  # large enough that the ReLU passes everything here
        model.output.weight.copy_(torch.tensor([[0.0], [1.0]]))
        model.output.bias.copy_(torch.tensor([0.0, -9.0]))
    return MLPExplainer(model, featurizer, ["n"])


@pytest.mark.parametrize("method", METHODS)
def test_mlp_pushes_match_the_hand_computed_case(method):
    """`good bad` with n = 12: TF-IDF weights 1/sqrt(2) each, n standardised to 1. The class-1 logit is linear in
    the inputs here, so every method gives each input its weight times its value: good +3/sqrt(2), bad -4/sqrt(2),
    n +2 (occlusion too: leaving one input out removes exactly its part)."""
    words, numbers = hand_made_mlp().attribute("good bad", None, [12.0], target_score(Task.MULTI_LABEL, 1), method)

    assert [(w.start, w.end) for w in words] == [(0, 4), (5, 8)]
    assert [w.score for w in words] == pytest.approx([3 / 2**0.5, -4 / 2**0.5], rel=1e-3)
    assert numbers == pytest.approx({"n": 2.0}, rel=1e-3)


def test_a_repeated_word_shares_its_push_among_its_occurrences():
    words, _ = hand_made_mlp().attribute("good good bad", None, [10.0], target_score(Task.MULTI_LABEL, 1), "gradient")
    assert words[0].score == pytest.approx(words[1].score) and words[0].score > 0 > words[2].score


def test_tiny_bert_integrated_gradients_add_up_and_pieces_become_words(bert_text_run, monkeypatch):
    monkeypatch.setattr("workbench.explain.IG_STEPS", 64)  # completeness holds as the steps grow; 8 approximate it
    predictor = Predictor.load(bert_text_run[1])
    text = "the film was wonderful and superb"
    explanation = explain(predictor, text, method="integrated-gradients")

    assert [explanation.word_text(w) for w in explanation.words] == text.split()
    score = target_score(Task.SINGLE_LABEL, list(predictor.labels).index(explanation.target))
    tokenizer, model = predictor.scorer.tokenizer, predictor.scorer.model
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    padding = torch.where(torch.isin(ids, torch.tensor(tokenizer.all_special_ids)), ids, tokenizer.pad_token_id)
    with torch.no_grad():
        change = float(score(model(input_ids=ids).logits) - score(model(input_ids=padding).logits))
    total = sum(w.score for w in explanation.words)
    assert total == pytest.approx(change, rel=0.1, abs=0.05)  # completeness, within 64 steps' error


@pytest.fixture(scope="module")
def mlp_text_run(tmp_path_factory, text_data) -> Predictor:
    from engine_helpers import run_to_end

    from workbench.config import TrainConfig

    config = TrainConfig(model="mlp", epochs=10, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    return Predictor.load(started_of(run_to_end(config, text_data)).run_dir)


@pytest.mark.parametrize("method", METHODS)
def test_deleting_the_top_words_drops_the_label_more_than_random_words(mlp_text_run, method):
    """The deletion test on a small trained run (an MLP on reviews whose labels hang on their sentiment words)."""
    rng = random.Random(3)
    texts = [sentiment_text(rng, label) for label in ["positive", "negative"] * 6]
    top_drops, random_drops = [], []
    for text in texts:
        explanation = explain(mlp_text_run, text, method=method)
        words = sorted(explanation.words, key=lambda w: w.start)
        ranked = sorted(range(len(words)), key=lambda i: -words[i].score)
        for drops, drop in ((top_drops, ranked[:2]), (random_drops, rng.sample(range(len(words)), 2))):
            kept = " ".join(explanation.word_text(w) for i, w in enumerate(words) if i not in drop)
            drops.append(explanation.output - mlp_text_run.predict(kept).probabilities[explanation.target])
    assert statistics.mean(top_drops) > 2 * max(statistics.mean(random_drops), 0.01)


def test_the_explained_label_can_be_chosen_and_a_wrong_one_is_named(bert_text_run):
    predictor = Predictor.load(bert_text_run[1])
    toward = explain(predictor, "a wonderful film", target="negative")
    assert toward.target == "negative"
    assert toward.output == pytest.approx(predictor.predict("a wonderful film").probabilities["negative"])
    with pytest.raises(ValueError, match="This run has no label 'neutral'; its labels are: negative, positive."):
        explain(predictor, "a wonderful film", target="neutral")
    with pytest.raises(ValueError, match="method must be one of gradient, integrated-gradients, occlusion"):
        explain(predictor, "a wonderful film", method="lime")


def test_the_shaded_text_keeps_every_character_and_shades_only_words(bert_text_run):
    explanation = explain(Predictor.load(bert_text_run[1]), "Great, fun film!")
    pieces = explanation.shaded()
    assert "".join(piece for piece, _ in pieces) == "Great, fun film!"
    assert all(-1 <= shade <= 1 for _, shade in pieces if shade is not None)
    assert {piece for piece, shade in pieces if shade is None} <= {", ", " ", "!"}


def test_the_cli_prints_the_explanation(bert_text_run):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
    command = [sys.executable, "-m", "workbench", "explain", "--run", str(bert_text_run[1]), "--text", "a dull mess"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    explanation = json.loads(result.stdout.splitlines()[-1])
    assert explanation["method"] == "integrated-gradients"
    assert [w["word"] for w in explanation["words"]] == ["a", "dull", "mess"]
