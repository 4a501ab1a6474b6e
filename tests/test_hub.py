"""Sharing a run on the Hugging Face Hub, checked without a network: the model card, the folder that would be
uploaded (a standard transformers model repo that `pipeline` loads), a clear refusal offline or for an MLP run,
and a token that never lands in a file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from workbench import hub, runs

TOKEN = "hf_not-a-real-token-0123456789"


@pytest.fixture
def bert_run(bert_text_run):
    return bert_text_run[1]


def test_the_card_has_hub_metadata_data_settings_metrics_and_usage(bert_run):
    import json

    text = hub.model_card(bert_run, repo_id="someone/reviews-bert")
    card = ModelCard(text)
    assert card.data.library_name == "transformers"
    assert card.data.pipeline_tag == "text-classification"
    assert "fine-tuning-workbench" in card.data.tags
    record = json.loads((bert_run / "run.json").read_text())
    metrics = json.loads((bert_run / "metrics.json").read_text())
    assert f"| training rows | {record['data']['train_rows']} |" in text
    assert "| label column | sentiment |" in text and "| text column | review |" in text
    assert f"| lr | {record['config']['lr']} |" in text
    assert f"| Accuracy | {metrics['accuracy']:.4f} |" in text
    assert f"On the {metrics['n']} held-back validation rows" in text
    assert 'pipeline("text-classification", model="someone/reviews-bert")' in text
    assert str(bert_run.parent) not in text  # no local paths in a public card


@pytest.mark.parametrize(
    "source, expected",
    [
        ("bundled-minilm", "sentence-transformers/all-MiniLM-L6-v2"),
        ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"),  # the offline copy of a Hub model
        ("bert-base-uncased", "bert-base-uncased"),
        ("google-bert/bert-base-cased", "google-bert/bert-base-cased"),
        ("/models/mine", None),
        ("./mine", None),
    ],
)
def test_base_model_is_named_only_when_it_is_a_hub_model(source, expected):
    record = runs.RunRecord.from_dict(Path("run"), {"model": {"name": "x", "kind": "bert", "source": source}})

    assert hub.base_model_id(record) == expected


def test_the_upload_folder_is_a_transformers_model_repo(bert_run, tmp_path):
    from transformers import pipeline

    folder = hub.prepare_upload(bert_run, tmp_path / "upload", repo_id="someone/reviews-bert")
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "tokenizer_config.json"} <= names
    assert names & {"tokenizer.json", "vocab.txt"}
    assert not names & {"run.json", "events.jsonl", "validation.parquet"}  # local paths and the user's rows stay home
    classifier = pipeline("text-classification", model=str(folder))
    assert classifier("great fun wonderful")[0]["label"] in {"positive", "negative"}


def test_an_mlp_run_is_refused_with_a_reason(mlp_digits_run, tmp_path):
    with pytest.raises(ValueError, match="not a transformers model"):
        hub.prepare_upload(mlp_digits_run[1], tmp_path / "upload")


def test_offline_push_says_so(bert_run, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="offline"):
        hub.push_run(bert_run, "someone/reviews-bert", token=TOKEN)


def test_a_bad_repo_id_is_refused(bert_run):
    with pytest.raises(ValueError, match="your-name/model-name"):
        hub.push_run(bert_run, "not a repo id!", token=TOKEN)


@pytest.fixture
def online(monkeypatch):
    """The Hub as if reachable: what would be created and uploaded is recorded instead."""
    from huggingface_hub import HfApi, constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create"] = (repo_id, kwargs, self.token)
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, repo_id, folder_path, **kwargs):
        calls["files"] = {p.name: p.read_bytes() for p in __import__("pathlib").Path(folder_path).iterdir()}
        calls["token"] = self.token

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return calls


def test_push_creates_the_repo_and_uploads_the_folder_with_the_token_kept_out_of_files(bert_run, online, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the token from the environment
    url = hub.push_run(bert_run, "someone/reviews-bert")
    assert url == "https://huggingface.co/someone/reviews-bert"
    assert online["create"][0] == "someone/reviews-bert" and online["token"] == TOKEN
    assert "README.md" in online["files"] and "model.safetensors" in online["files"]
    for name, content in online["files"].items():
        assert TOKEN.encode() not in content, name
    for path in bert_run.rglob("*"):
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path


def test_no_connection_is_a_clear_error_without_the_token(bert_run, online, monkeypatch):
    from huggingface_hub import HfApi

    def unreachable(self, repo_id, **kwargs):
        raise ConnectionError(f"cannot connect (Authorization: Bearer {TOKEN})")

    monkeypatch.setattr(HfApi, "create_repo", unreachable)
    with pytest.raises(ValueError, match="cannot be reached") as caught:
        hub.push_run(bert_run, "someone/reviews-bert", token=TOKEN)
    assert TOKEN not in str(caught.value)


def test_cli_push_offline_is_one_line_and_exit_status_1(bert_run, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "push", "--run", str(bert_run), "--repo-id", "someone/reviews-bert"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().startswith("error: The Hugging Face Hub cannot be reached")
    assert TOKEN not in result.stdout + result.stderr
