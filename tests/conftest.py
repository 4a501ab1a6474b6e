"""Shared fixtures: a tiny random BERT saved as a model folder and as a sentence-transformers folder, a learnable
synthetic sentiment CSV, the digits CSV, and trained runs that several test files read (trained once per session to
keep the suite fast)."""

import os

# Set before transformers, datasets or evaluate are imported (they read them at import time): the suite never
# reaches the Hugging Face Hub, and a test that would have to is a failing test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path

import pytest
from engine_helpers import VOCAB, trained_run, write_digits_csv, write_sentiment_csv


def save_tiny_bert(folder: Path, layers: int, positions: int) -> Path:
    """A random 32-wide BERT over the test vocabulary, with its tokenizer, saved as a model folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    # transformers 5 silently ignores `vocab_file=` here (every word becomes [UNK]); `vocab=` takes the file.
    tokenizer = BertTokenizerFast(vocab=str(vocab_file))
    assert tokenizer.unk_token_id not in tokenizer("Great film")["input_ids"], "the tiny vocabulary did not load"
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=positions,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def default_install(monkeypatch):
    """The encoders of the default install (the bundled MiniLM alone), whatever extras this machine has: auto's
    routes depend on them."""
    from workbench import encoders

    monkeypatch.setattr(encoders, "mpnet_part_files", lambda: None)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), layers=2, positions=128)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A 1-layer tiny BERT with mean pooling and normalisation, saved as a sentence-transformers folder."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st_modules

    folder = tmp_path_factory.mktemp("tiny-encoder")
    bert = save_tiny_bert(folder / "bert", layers=1, positions=64)
    transformer = st_modules.Transformer(str(bert), max_seq_length=32)
    modules = [transformer, st_modules.Pooling(32, pooling_mode="mean"), st_modules.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(folder / "st"))
    return folder / "st"


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


@pytest.fixture(scope="session")
def mlp_digits_run(tmp_path_factory, digits_data):
    """(events, run folder) of an MLP trained on the digits subset."""
    return trained_run(tmp_path_factory, digits_data, model="mlp", epochs=8, patience=0)


@pytest.fixture(scope="session")
def bert_text_run(tmp_path_factory, tiny_bert_dir, text_data):
    """(events, run folder) of the tiny random BERT fine-tuned on the sentiment CSV."""
    return trained_run(
        tmp_path_factory, text_data, model=str(tiny_bert_dir), epochs=8, lr=5e-3, batch_size=8, patience=0
    )
