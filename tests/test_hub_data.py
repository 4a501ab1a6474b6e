"""Tests for workbench.hub_data, offline: a dataset repository laid out as on the Hub (Parquet files and a README
card) is loaded by path, its class ids read as label names, a slice and the row limit hold, each wrong split, config
or unreachable name is one sentence, and `train --hub-dataset ... --eval-split ...` trains from it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from workbench.hub_data import HubDataset, fetch_hub_dataset
from workbench.tables import read_table

CARD = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: test
    path: data/test-*
---
# reviews and their topics
"""


def write_split(folder: Path, split: str, n: int) -> None:
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
            "topics": datasets.Sequence(datasets.ClassLabel(names=["food", "service"])),
        }
    )
    words = ["awful cold soup", "great kind staff"]
    rows = {
        "text": [f"{words[i % 2]} {i}" for i in range(n)],
        "label": [i % 2 for i in range(n)],
        "topics": [[[0], [1], [0, 1], []][i % 4] for i in range(n)],
    }
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(folder / "data" / f"{split}-00000.parquet"))


@pytest.fixture(scope="module")
def hub_repo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hub") / "reviews"
    (folder / "data").mkdir(parents=True)
    write_split(folder, "train", 60)
    write_split(folder, "test", 20)
    (folder / "README.md").write_text(CARD)
    return folder


def test_a_split_is_kept_as_parquet_with_label_names(hub_repo, tmp_path):
    path = fetch_hub_dataset(HubDataset(str(hub_repo), split="train"), tmp_path)
    table = read_table(path)

    assert path.name == "reviews-train.parquet"
    assert table.column_names == ["text", "label", "topics"]
    assert table["label"][:2] == ["negative", "positive"]
    assert table["topics"][:4] == ["food", "service", "food|service", "|"]  # a multi-label row's labels; none


def test_a_slice_takes_those_rows_and_the_limit_refuses_more(hub_repo, tmp_path):
    path = fetch_hub_dataset(HubDataset(str(hub_repo), split="train[10:25]"), tmp_path, max_rows=20)
    assert read_table(path)["text"][0].endswith(" 10") and len(read_table(path)) == 15
    with pytest.raises(ValueError, match=r"more than 20 rows, the limit here; ask for a slice such as train\[:20\]"):
        fetch_hub_dataset(HubDataset(str(hub_repo)), tmp_path, max_rows=20)


@pytest.mark.parametrize(
    "source, message",
    [
        (dict(split="validation"), "has no split 'validation'; its splits are: train, test."),
        (dict(config="plain"), "has no such configuration; its configurations are: default."),
        (dict(split="train[:"), "is not a split; give a name such as train, or a slice such as train"),
    ],
)
def test_a_wrong_split_or_config_names_the_choices(hub_repo, tmp_path, source, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        fetch_hub_dataset(HubDataset(str(hub_repo), **source), tmp_path)


def test_an_unreachable_hub_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(ValueError, match="Could not reach the Hugging Face Hub to load stanfordnlp/imdb"):
        fetch_hub_dataset(HubDataset("stanfordnlp/imdb"), tmp_path)
    with pytest.raises(ValueError, match="Give the name of a dataset"):
        fetch_hub_dataset(HubDataset("  "), tmp_path)


def test_the_cli_trains_on_a_hub_split_and_evaluates_on_another(hub_repo, tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "HF_DATASETS_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "workbench", "train", "--hub-dataset", str(hub_repo), "--eval-split", "test"]
    command += ["--label-column", "label", "--model", "mlp", "--epochs", "2", "--output", str(tmp_path / "runs")]
    result = subprocess.run(command, capture_output=True, text=True, env={**_base_env(), **env}, timeout=300)

    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads((Path(json.loads(result.stdout.splitlines()[-1])["run_dir"]) / "run.json").read_text())
    assert run["data"]["source"] == "reviews-train.parquet"
    assert (run["data"]["train_rows"], run["data"]["validation_rows"]) == (60, 20)
    assert sorted(run["labels"]) == ["negative", "positive"]


def test_the_cli_wants_one_source_of_data(tmp_path):
    command = [sys.executable, "-m", "workbench", "train", "--model", "mlp"]
    result = subprocess.run(command, capture_output=True, text=True, env=_base_env(), timeout=120)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: Give the data: a file with --data FILE, or a Hub dataset with --hub-dataset NAME."
    )


def _base_env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}


def test_a_name_the_hub_does_not_know_is_one_sentence(tmp_path, monkeypatch):
    def not_found(*args, **kwargs):
        raise datasets.exceptions.DatasetNotFoundError("Dataset 'nobody/nothing' doesn't exist on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", not_found)  # what the Hub answers, online, for an unknown name
    with pytest.raises(ValueError, match="There is no dataset nobody/nothing on the Hub, or it is private or gated"):
        fetch_hub_dataset(HubDataset("nobody/nothing"), tmp_path)
