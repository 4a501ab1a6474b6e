"""Shared fixtures: a tiny random BERT saved as a model folder, a learnable synthetic sentiment CSV, the digits
CSV, and trained runs that several test files read (trained once per session to keep the suite fast)."""

import os

# Set before transformers, datasets or evaluate are imported (they read them at import time): the suite never
# reaches the Hugging Face Hub, and a test that would have to is a failing test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import csv
import random
from pathlib import Path

import pytest

POSITIVE_WORDS = ["great", "fun", "wonderful", "loved", "brilliant", "charming", "delightful", "superb"]
NEGATIVE_WORDS = ["awful", "boring", "mess", "terrible", "dull", "hated", "poor", "waste"]
FILLER_WORDS = ["the", "film", "was", "and", "a", "movie", "it", "this", "story", "really", "so", "very", "i"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(POSITIVE_WORDS + NEGATIVE_WORDS + FILLER_WORDS))


def sentiment_text(rng: random.Random, label: str) -> str:
    """A short review: filler words with two or three words of the label's sentiment mixed in; lengths vary."""
    words = POSITIVE_WORDS if label == "positive" else NEGATIVE_WORDS
    chosen = rng.sample(FILLER_WORDS, rng.randint(2, 8)) + rng.sample(words, rng.randint(2, 3))
    rng.shuffle(chosen)
    return " ".join(chosen)


def write_sentiment_csv(path: Path, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for i in range(rows):
            label = "positive" if i % 2 == 0 else "negative"
            writer.writerow([sentiment_text(rng, label), label])
    return path


def write_digits_csv(path: Path, per_class: int | None = None) -> Path:
    """scikit-learn's digits as px0..px63 plus `digit`; `per_class` keeps the first rows of each digit."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    taken: dict[int, int] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"px{i}" for i in range(64)] + ["digit"])
        for row, target in zip(digits.data, digits.target):
            if per_class is not None and taken.get(int(target), 0) >= per_class:
                continue
            taken[int(target)] = taken.get(int(target), 0) + 1
            writer.writerow([int(v) for v in row] + [int(target)])
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    # transformers 5 silently ignores `vocab_file=` here (every word becomes [UNK]); `vocab=` takes the file.
    tokenizer = BertTokenizerFast(vocab=str(vocab_file))
    assert tokenizer.unk_token_id not in tokenizer("Great film")["input_ids"], "the tiny vocabulary did not load"
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def text_csv(tmp_path_factory) -> Path:
    return write_sentiment_csv(tmp_path_factory.mktemp("text") / "reviews.csv", rows=90, seed=7)


@pytest.fixture(scope="session")
def digits_csv(tmp_path_factory) -> Path:
    """A stratified subset (60 of each digit, 600 rows): enough for the MLP to learn well, quick to read."""
    return write_digits_csv(tmp_path_factory.mktemp("digits") / "digits.csv", per_class=60)


@pytest.fixture(scope="session")
def digits_data(digits_csv):
    from workbench.config import DataSpec
    from workbench.data import load_data

    return load_data(DataSpec(path=str(digits_csv)), seed=0)


@pytest.fixture(scope="session")
def text_data(text_csv):
    from workbench.config import DataSpec
    from workbench.data import load_data

    return load_data(DataSpec(path=str(text_csv)), seed=0)


def run_to_end(config, data, should_stop=None) -> list:
    from workbench.train import never, train

    return list(train(config, data, should_stop or never))


@pytest.fixture(scope="session")
def mlp_digits_run(tmp_path_factory, digits_data):
    """(events, run folder) of an MLP trained on the digits subset."""
    from workbench.config import TrainConfig

    config = TrainConfig(model="mlp", epochs=8, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    events = run_to_end(config, digits_data)
    return events, Path(events[0].run_dir)


@pytest.fixture(scope="session")
def bert_text_run(tmp_path_factory, tiny_bert_dir, text_data):
    """(events, run folder) of the tiny random BERT fine-tuned on the sentiment CSV."""
    from workbench.config import TrainConfig

    config = TrainConfig(model=str(tiny_bert_dir), epochs=8, lr=5e-3, batch_size=8, patience=0,
                         output=str(tmp_path_factory.mktemp("runs")))
    events = run_to_end(config, text_data)
    return events, Path(events[0].run_dir)
