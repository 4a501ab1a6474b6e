"""Tests for workbench.export: a run exported to ONNX (fp32 or int8) answers as its PyTorch model does, the
Predictor runs it in ONNX Runtime (and never calls PyTorch's forward), the folder still loads with a plain
`transformers.pipeline`, a stale or damaged export is ignored, a missing package is one sentence, and the CLI's
`export` prints its result as JSON. Each test exports a copy of a shared run, so other test files never see it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from engine_helpers import SENTIMENT_TEXTS as TEXTS
from safetensors.torch import load_file, save_file

from workbench import export, hub, runs
from workbench.data import ModelInputs
from workbench.models import family_of_kind
from workbench.models.bert import BertScorer
from workbench.models.bert_onnx import OnnxBertScorer
from workbench.models.mlp import MLPScorer, OnnxMLPScorer
from workbench.predict import Predictor

OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / run_dir.name))


def pytorch_predictor(run_dir: Path) -> Predictor:
    record = runs.read_run(run_dir)
    return Predictor(record, family_of_kind(record.model.kind).load(run_dir))


@pytest.fixture(scope="module")
def bert_fp32(bert_text_run, tmp_path_factory) -> Path:
    run_dir = copy_run(bert_text_run[1], tmp_path_factory.mktemp("fp32"))
    export.export_run(run_dir)
    return run_dir


@pytest.fixture(scope="module")
def bert_int8(bert_text_run, tmp_path_factory) -> Path:
    run_dir = copy_run(bert_text_run[1], tmp_path_factory.mktemp("int8"))
    export.export_run(run_dir, quantize="int8")
    return run_dir


@pytest.fixture(scope="module")
def validation_texts(text_data) -> list[str]:
    return TEXTS + list(text_data.validation["text"])


def test_fp32_export_answers_as_pytorch_does(bert_fp32, validation_texts):
    onnx, pytorch = Predictor.load(bert_fp32), pytorch_predictor(bert_fp32)
    assert isinstance(onnx.scorer, OnnxBertScorer) and isinstance(pytorch.scorer, BertScorer)

    ours, theirs = onnx.predict(validation_texts), pytorch.predict(validation_texts)
    assert [p.label for p in ours] == [p.label for p in theirs]
    for a, b in zip(ours, theirs):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-4)
    assert onnx.predict(TEXTS[1]).label == "positive"  # one text alone, as the Predict tab sends it


def test_the_graph_reads_the_second_text_of_a_pair_as_pytorch_does(bert_fp32):
    """Token types of 1 (the pair's second text) go through the fused embedding as through PyTorch's."""
    inputs = ModelInputs(TEXTS, list(reversed(TEXTS)), [[] for _ in TEXTS])
    ours = Predictor.load(bert_fp32).scorer.logits(inputs)
    theirs = pytorch_predictor(bert_fp32).scorer.logits(inputs)
    assert torch.allclose(ours, theirs, atol=1e-4)
    assert not torch.allclose(ours, Predictor.load(bert_fp32).scorer.logits(ModelInputs(TEXTS, None, inputs.features)))


def test_the_last_layer_for_the_first_token_alone_gives_the_same_logits(bert_text_run):
    """The exported graph computes the last layer for the first token only: the head reads nothing else."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from workbench.models.bert_onnx import FirstTokenLayer, first_token_head

    run_dir = bert_text_run[1]
    model = AutoModelForSequenceClassification.from_pretrained(run_dir, attn_implementation="eager").eval()
    batch = AutoTokenizer.from_pretrained(run_dir)(TEXTS, padding=True, return_tensors="pt")  # padded rows too
    with torch.inference_mode():
        whole = model(**batch).logits
        first = first_token_head(model)(**batch).logits
    assert isinstance(model.base_model.encoder.layer[-1], FirstTokenLayer)
    assert torch.allclose(whole, first, atol=1e-5)


def test_int8_export_is_smaller_and_keeps_the_labels(bert_fp32, bert_int8, validation_texts):
    fp32, int8 = runs.read_run(bert_fp32).export, runs.read_run(bert_int8).export
    assert fp32["quantization"] is None and int8["quantization"] == "int8"
    assert int8["bytes"] < fp32["bytes"] == (bert_fp32 / "model.onnx").stat().st_size
    assert fp32["inputs"] == ["input_ids", "attention_mask", "token_type_ids"] and fp32["fused"] and int8["fused"]

    onnx = Predictor.load(bert_int8)
    assert isinstance(onnx.scorer, OnnxBertScorer)
    ours, theirs = onnx.predict(validation_texts), pytorch_predictor(bert_int8).predict(validation_texts)
    same = sum(a.label == b.label for a, b in zip(ours, theirs)) / len(ours)
    assert same >= 0.95, same
    assert max(abs(a.score - b.score) for a, b in zip(ours, theirs)) < 0.1


def test_the_predictor_never_calls_pytorch_on_an_exported_run(bert_fp32, monkeypatch):
    from transformers import BertForSequenceClassification

    def refuse(*args, **kwargs):
        raise AssertionError("PyTorch's forward ran although the run has a current ONNX export")

    monkeypatch.setattr(BertForSequenceClassification, "forward", refuse)
    assert [p.label for p in Predictor.load(bert_fp32).predict(TEXTS[:2])] == ["negative", "positive"]


def test_the_exported_folder_still_loads_with_a_plain_pipeline(bert_int8):
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(bert_int8), device=-1)
    answers = classifier(TEXTS)
    assert [a["label"] for a in answers] == [p.label for p in pytorch_predictor(bert_int8).predict(TEXTS)]


def test_new_weights_make_the_export_stale(bert_text_run, tmp_path):
    run_dir = copy_run(bert_text_run[1], tmp_path)
    export.export_run(run_dir)
    weights = load_file(str(run_dir / "model.safetensors"))
    weights = {name: tensor + 0.01 if name.startswith("classifier") else tensor for name, tensor in weights.items()}
    save_file(weights, str(run_dir / "model.safetensors"), metadata={"format": "pt"})

    assert isinstance(Predictor.load(run_dir).scorer, BertScorer)
    assert export.export_status(run_dir) == "out of date: export again"
    assert "ONNX" not in hub.model_card(run_dir)
    assert "model.onnx" not in {p.name for p in hub.prepare_upload(run_dir, tmp_path / "upload").iterdir()}

    export.export_run(run_dir)  # exporting again makes it current
    assert isinstance(Predictor.load(run_dir).scorer, OnnxBertScorer)


def test_a_copied_folder_keeps_its_export(bert_fp32, tmp_path):
    """Copied without its times (as an unzipped download may be): the weights' hash tells it is the same model."""
    copied = Path(shutil.copytree(bert_fp32, tmp_path / bert_fp32.name, copy_function=shutil.copyfile))
    assert (copied / "model.safetensors").stat().st_mtime_ns != (bert_fp32 / "model.safetensors").stat().st_mtime_ns

    assert isinstance(Predictor.load(copied).scorer, OnnxBertScorer)
    assert export.export_status(copied).startswith("ONNX, fp32 weights, ")
    card = hub.model_card(copied)
    assert "## ONNX" in card and "`input_ids`, `attention_mask`, `token_type_ids`" in card
    assert "model.onnx" in {p.name for p in hub.prepare_upload(copied, tmp_path / "upload").iterdir()}


def test_a_damaged_onnx_file_falls_back_to_pytorch(bert_fp32, tmp_path):
    run_dir = copy_run(bert_fp32, tmp_path)
    size = (run_dir / "model.onnx").stat().st_size
    (run_dir / "model.onnx").write_bytes(b"\0" * size)  # the size it was written with, the content gone

    predictor = Predictor.load(run_dir)
    assert isinstance(predictor.scorer, BertScorer) and predictor.predict("great").label == "positive"
    (run_dir / "model.onnx").write_bytes(b"short")
    assert export.current_export(runs.read_run(run_dir)) is None


def test_without_onnxruntime_export_is_one_sentence_and_prediction_uses_pytorch(bert_fp32, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "installed", lambda name: name != "onnxruntime")

    needs = r"^Exporting to ONNX needs onnxruntime, which this Python lacks: pip install onnx onnxruntime"
    with pytest.raises(ValueError, match=needs):
        export.export_run(copy_run(bert_fp32, tmp_path))
    assert isinstance(Predictor.load(bert_fp32).scorer, BertScorer)


def test_unknown_format_or_quantization_is_one_sentence(bert_fp32):
    with pytest.raises(ValueError, match="exports to onnx, not 'tflite'"):
        export.export_run(bert_fp32, format="tflite")
    with pytest.raises(ValueError, match="Quantization 'int4' is not offered"):
        export.export_run(bert_fp32, quantize="int4")


def test_mlp_export_answers_as_pytorch_does(mlp_digits_run, digits_data, tmp_path):
    run_dir = copy_run(mlp_digits_run[1], tmp_path)
    info = export.export_run(run_dir)
    assert info.inputs == ("features",) and info.describe().startswith("ONNX, fp32 weights")

    onnx, pytorch = Predictor.load(run_dir), pytorch_predictor(run_dir)
    assert isinstance(onnx.scorer, OnnxMLPScorer) and isinstance(pytorch.scorer, MLPScorer)
    features = digits_data.validation["features"]
    texts = [""] * len(features)
    ours, theirs = onnx.predict(texts, features), pytorch.predict(texts, features)
    assert [p.label for p in ours] == [p.label for p in theirs]
    for a, b in zip(ours, theirs):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)


def test_cli_export_prints_the_export_and_refuses_a_missing_run(bert_text_run, tmp_path):
    run_dir = copy_run(bert_text_run[1], tmp_path)
    command = [sys.executable, "-m", "workbench", "export", "--run", str(run_dir), "--quantize", "int8"]
    done = subprocess.run(command, capture_output=True, text=True, env=OFFLINE_ENV, timeout=300)

    assert done.returncode == 0, done.stderr[-2000:]
    # no exporter or quantizer notices on the terminal; ONNX Runtime's optimizer only remarks that the test's tiny
    # vocabulary is smaller than its position table (a real vocabulary is larger)
    assert [line for line in done.stderr.splitlines() if not line.startswith("word_embedding_table")] == []
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["format"] == "onnx" and result["quantization"] == "int8" and result["file"] == "model.onnx"
    assert result["bytes"] == (run_dir / "model.onnx").stat().st_size
    assert runs.read_run(run_dir).export == {k: v for k, v in result.items() if k != "run_dir"}

    missing = subprocess.run(
        [sys.executable, "-m", "workbench", "export", "--run", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        env=OFFLINE_ENV,
        timeout=300,
    )
    assert missing.returncode == 1 and missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr


def test_the_export_packages_are_an_optional_extra():
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    extra = {name.split(">")[0].split("=")[0] for name in project["optional-dependencies"]["export"]}
    assert extra == set(export.PACKAGES)
    assert not extra & {name.split(">")[0].split("=")[0] for name in project["dependencies"]}


def test_an_exported_run_still_explains_through_its_pytorch_model(bert_fp32):
    from workbench.explain import explain

    predictor = Predictor.load(bert_fp32)
    assert isinstance(predictor.scorer, OnnxBertScorer)
    explanation = explain(predictor, "the film was great and fun", method="gradient").to_dict()
    assert [w["word"] for w in explanation["words"]] == ["the", "film", "was", "great", "and", "fun"]
