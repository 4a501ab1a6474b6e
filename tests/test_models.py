"""The model-family table: a model name finds its family, a run folder's family loads it, and the Predictor tells
what its model reads without the caller asking which family it is."""

import json

import pytest
import torch

from workbench.config import BUNDLED_BERT, TrainConfig
from workbench.models import FAMILIES, family_for, family_of_kind
from workbench.models.cpu_dropout import CpuDropout
from workbench.predict import Predictor


@pytest.mark.parametrize(
    "name, kind",
    [("mlp", "mlp"), (" MLP ", "mlp"), (BUNDLED_BERT, "bert"), ("bert-base-uncased", "bert"), ("/models/mine", "bert")],
)
def test_a_model_name_finds_its_family(name, kind):
    assert family_for(name).kind == kind


def test_every_family_is_complete_and_named_once():
    kinds = [family.kind for family in FAMILIES]

    assert len(set(kinds)) == len(kinds)
    for family in FAMILIES:
        assert family.defaults.epochs >= 1 and family.defaults.batch_size >= 1 and family.title
        assert 0 < family.default_lr(1_000_000) < 1
        assert family_of_kind(family.kind) is family


def test_a_run_of_an_unknown_family_is_a_clear_error():
    with pytest.raises(ValueError, match="model family this workbench does not know"):
        family_of_kind("gpt")


def test_the_predictor_says_what_its_model_reads(mlp_digits_run, bert_text_run):
    mlp, bert = Predictor.load(mlp_digits_run[1]), Predictor.load(bert_text_run[1])

    assert mlp.feature_names == [f"px{i}" for i in range(64)] and not mlp.reads_text
    assert bert.feature_names == [] and bert.reads_text


def test_each_family_describes_its_model_for_the_data(digits_data, text_data, tiny_bert_dir):
    mlp = family_for("mlp").describe("mlp", digits_data)
    bert = family_for(str(tiny_bert_dir)).describe(str(tiny_bert_dir), text_data)

    assert mlp["parts"][0][0].startswith("hidden: Linear(64 → 256)")
    assert mlp["parts"][-1][0] == "output: Linear(256 → 10)"
    assert bert["parts"][-1] == ("classifier", 32 * 2 + 2)  # hidden size 32, two labels
    assert TrainConfig().model == "auto"  # the form and the CLI start from auto


@pytest.mark.parametrize("on_gpu", [False, True])
def test_bert_fine_tunes_without_attention_dropout_on_a_cpu_only(tiny_bert_dir, text_data, on_gpu):
    # a CPU has no fused attention kernel with dropout: the mask over every attention weight cost a fifth of a step
    config = TrainConfig(model=str(tiny_bert_dir), batch_size=8, max_length=32)
    bundle = family_for(str(tiny_bert_dir)).build(text_data, str(tiny_bert_dir), config, torch.Generator(), on_gpu)

    layer = bundle.model.bert.encoder.layer[0]
    assert layer.attention.self.dropout.p == (0.1 if on_gpu else 0.0)
    assert bundle.model.config._attn_implementation == ("sdpa" if on_gpu else "eager")  # the faster without dropout
    assert layer.output.dropout.p == 0.1  # the other dropouts stay, drawn the CPU's cheaper way there
    assert isinstance(layer.output.dropout, CpuDropout) is not on_gpu
    assert any(type(m) is torch.nn.Dropout and m.p > 0 for m in bundle.model.modules()) is on_gpu
    assert bundle.model.config.attention_probs_dropout_prob == 0.1  # what the saved config.json says
    assert bundle.info["attention_dropout"] is on_gpu  # and run.json records how it was trained


def test_a_saved_bert_run_keeps_the_pretrained_attention_dropout_in_its_config(bert_text_run):
    _, run_dir = bert_text_run

    assert json.loads((run_dir / "config.json").read_text())["attention_probs_dropout_prob"] == 0.1
    assert json.loads((run_dir / "run.json").read_text())["model"]["attention_dropout"] is False
