"""The sentence-encoder family ("setfit"): a sentence-transformers encoder (the bundled MiniLM, all-mpnet-base-v2
when its packages are installed, any sentence-transformers folder or Hub id) and a linear head over its embeddings.
Two modes: `frozen` embeds every text once (cached for the process, so a second run on the same texts starts at
once) and fits only the head, in seconds; `contrastive` first fine-tunes the encoder as SetFit does
(`contrastive.py`: a copy on the training rows, which the validation rows score, and one on every labelled row,
which is saved), then embeds and fits the head alike. The head (`head.py`) reads the embedding and, in frozen mode,
the text's TF-IDF bag of words, and is fitted to convergence by a solver during the build (the bundle says
`fitted`), so the training loop only scores it on the validation rows and saves it, with the tasks' losses and
reports as for BERT. The build reports how far it is (preparing.py): it can take minutes.

A run folder holds the head (`model.safetensors`), `encoder.json` (with the bag's vocabulary and idf weights), and
either a reference to an offline encoder (frozen mode on the bundled MiniLM or the installed mpnet) or the encoder
itself in `encoder/` (safetensors).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader

from .. import encoders, preparing
from ..config import SETFIT
from ..data import ModelInputs, list_names
from ..runs import atomic_write_json, atomic_write_with
from ..tasks import rules_for
from . import contrastive
from .base import FamilyDefaults, ModelBundle, OnnxModule, parameter_count
from .embeddings import load_encoder, pair_features
from .head import C, Fitted, Head, HeadExplainer, bag_matrix, dense_rows, fitted_head
from .mlp import MAX_VOCABULARY, Featurizer

FROZEN, CONTRASTIVE = "frozen", "contrastive"
MODES = (FROZEN, CONTRASTIVE)
# of the time budget, for fine-tuning the encoder (both copies); embedding and the head take the rest. At 16 rows per
# class of three classes, SetFit's whole pass over the pairs takes about 185 s on 2 cores for both copies together.
CONTRASTIVE_SHARE = 0.8
# Auto's rule between the modes (benchmarks/encoder_routes.py, docs/encoders.md): up to this many training rows per
# class contrastive fine-tuning was measured above the frozen encoder (rated tweets, 5 draws each: 8 and 16 rows per
# class; BBC News: 8); on longer texts at 64 and more it was not measured, so the frozen encoder (which reads the
# words too) stays there.
CONTRASTIVE_ROWS_PER_CLASS = 16
# ...and on short texts up to this many, where it was also measured above fine-tuning the MiniLM and SetFit's own
# run (rated tweets, 14 words on average, 64 drawn rows per class: 51 training rows, 3 draws: 0.768 against 0.740 and
# 0.761); at 102 the two were level (0.766 against 0.760) with fine-tuning four times faster, which won on the whole
# set (1,120 rows per class).
SHORT_TEXT_WORDS = 30
SHORT_TEXT_CONTRASTIVE_ROWS_PER_CLASS = 64
ENCODER_FOLDER, SETTINGS_FILE = "encoder", "encoder.json"
OWNED_NAMES = {SETFIT, "encoder", "sentence-encoder"}
# measured on the 2-core CPU (benchmarks/encoder_routes.py): seconds to embed one drug review (about 90 words)
EMBED_SECONDS = {encoders.MINILM: 0.02, encoders.MPNET: 0.1}


def words_per_text(data: Any) -> float:
    """The training texts' mean length in words (a text pair counts both texts)."""
    columns = [c for c in ("text", "text_pair") if c in data.train.column_names]
    words = sum(len(text.split()) for column in columns for text in data.train[column])
    return words / max(1, len(data.train))


def rows_per_class(data: Any) -> float:
    """The training rows per class (single-label) or the labelled rows per label (multi-label)."""
    if data.task.value == "multi-label":
        return sum(sum(row) for row in data.train["label"]) / max(1, len(data.labels))
    return len(data.train) / max(1, len(data.labels))


def auto_mode(data: Any, encoder: str) -> str:
    """Contrastive fine-tuning of the MiniLM on few rows per class of a single-label task (more of them when the
    texts are short), where it was measured to pay for its minutes; the frozen encoder otherwise (mpnet's steps are
    five times slower, so within the budget it would take a fifth of the steps: not measured)."""
    if data.task.value != "single-label" or encoder != encoders.MINILM:
        return FROZEN
    short = words_per_text(data) <= SHORT_TEXT_WORDS
    most = SHORT_TEXT_CONTRASTIVE_ROWS_PER_CLASS if short else CONTRASTIVE_ROWS_PER_CLASS
    return CONTRASTIVE if rows_per_class(data) <= most else FROZEN


def mode_for(config: Any, data: Any) -> str:
    """The mode asked for, or on auto (none asked for) the one `auto_mode` takes for this data."""
    encoder = encoders.canonical_name(getattr(config, "encoder", None))
    mode = (getattr(config, "setfit_mode", None) or auto_mode(data, encoder)).lower()
    if mode not in MODES:
        raise ValueError(f"setfit_mode must be {' or '.join(MODES)} (got '{mode}').")
    return mode


def _loader(
    embeddings: torch.Tensor,
    words: torch.Tensor | None,
    labels: list,
    batch_size: int,
    generator: torch.Generator | None,
) -> DataLoader:
    targets = torch.tensor(labels)

    def collate(indices: list[int]) -> dict[str, torch.Tensor]:
        index = torch.tensor(indices)
        batch = {"embeddings": embeddings[index], "labels": targets[index]}
        return batch if words is None else {**batch, "words": dense_rows(words, index)}

    return DataLoader(
        range(len(labels)),
        batch_size=batch_size,
        shuffle=generator is not None,
        collate_fn=collate,
        generator=generator,
    )


def build(data: Any, config: Any, generator: torch.Generator) -> ModelBundle:
    """Load the encoder, fine-tune it first in contrastive mode, embed the rows once and make the head."""
    if not data.has_text:
        raise ValueError(
            f"The sentence encoder needs a text column, but this data has only numeric features "
            f"({list_names(data.columns.features)}); choose the MLP ('mlp') for it."
        )
    mode, name = mode_for(config, data), encoders.canonical_name(getattr(config, "encoder", None))
    if mode == CONTRASTIVE and data.task.value == "regression":
        raise ValueError("Contrastive fine-tuning needs classes; for a number to predict, use setfit_mode frozen.")
    preparing.report(f"Loading the sentence encoder {name}")
    encoder = final_encoder = load_encoder(name)
    train, validation = data.train.to_dict(), data.validation.to_dict()
    every_row = {key: train[key] + validation[key] for key in ("text", "text_pair", "label") if key in train}
    info: dict[str, Any] = {"encoder": name, "mode": mode}
    if mode == CONTRASTIVE:
        encoder, final_encoder, info["contrastive"] = fine_tuned_twice(encoder, train, every_row, config)
    cache_key = name if mode == FROZEN and name in encoders.PARAMETERS else None  # an offline encoder never changes
    x_train = pair_features(encoder, train, cache_key, "Embedding the training rows")
    x_validation = pair_features(encoder, validation, cache_key, "Embedding the validation rows")
    preparing.report("Fitting the head")
    loss = rules_for(data, config.class_weights).loss
    # after contrastive fine-tuning the embedding alone: its classes are apart, and the words only added noise
    words = mode == FROZEN
    fitted = fitted_head(x_train, train, loss, data.n_outputs, words)
    # The validation rows score the head fitted without them; then the head is fitted again on every labelled row
    # and that one is saved: a fifth more rows, and no dependence on which rows the seed held back.
    x_every_row = (
        torch.cat([x_train, x_validation])
        if final_encoder is encoder
        else pair_features(final_encoder, every_row, None, "Embedding every labelled row with the final encoder")
    )
    every_row_loss = rules_for(data, config.class_weights, every_row["label"]).loss
    final = fitted_head(x_every_row, every_row, every_row_loss, data.n_outputs, words)
    saved = {"mode": mode, "encoder": name, "pairs": "text_pair" in train, "inputs": x_train.shape[1]}
    saved.update({"bag": final.bag.to_dict()} if final.bag else {})
    info["head"] = head_record(fitted)

    def save(trained: nn.Module, folder: Path) -> None:
        save_run(trained, final_encoder if trained is final.head else encoder, saved, folder)

    return ModelBundle(
        model=fitted.head,
        train_loader=_loader(x_train, fitted.words, train["label"], config.batch_size, generator),
        eval_loader=_loader(
            x_validation, bag_matrix(fitted.bag, validation) if fitted.bag else None, validation["label"], 256, None
        ),
        save=save,
        name=SETFIT,
        info={**info, "parameters": parameter_count(fitted.head), "inputs": x_train.shape[1]},
        fitted=True,
        final=final.head,
    )


def head_record(fitted: Fitted) -> dict[str, Any]:
    """What run.json says of the head the validation rows scored."""
    words = fitted.bag.size if fitted.bag else 0
    return {"solver": "L-BFGS", "C": C, "iterations": fitted.iterations, "words": words, "refitted": True}


def fine_tuned_twice(encoder: Any, train: dict, every_row: dict, config: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Two copies of the encoder fine-tuned SetFit's way: one on the training rows, whose head the validation rows
    then score honestly, and one on every labelled row, which is saved. SetFit trains on every row it is given, and
    on 8 and 16 rows per class the fifth held back cost about 0.01-0.05 macro-F1 (docs/encoders.md). The contrastive
    share of the time budget is split as their pairs are: by the square of their rows."""
    first_rows, all_rows = len(train["label"]), len(every_row["label"])
    share = first_rows**2 / (first_rows**2 + all_rows**2)
    seconds = config.time_budget * 60 * CONTRASTIVE_SHARE if config.time_budget else None
    first = copy.deepcopy(encoder)
    scored = contrastive.fine_tune(
        first, joined_texts(train), train["label"], seconds and seconds * share, config.seed, "the training rows"
    )
    final = contrastive.fine_tune(
        encoder,
        joined_texts(every_row),
        every_row["label"],
        seconds and seconds * (1 - share),
        config.seed,
        "every labelled row",
    )
    record = {"rows": final.rows, "steps": final.steps, "seconds": final.seconds, "scored": scored._asdict()}
    return first, encoder, record


def joined_texts(rows: dict[str, list]) -> list[str]:
    """What contrastive fine-tuning reads of a row: its text, or a pair's two texts joined."""
    if "text_pair" not in rows:
        return rows["text"]
    return [f"{a} {b}" for a, b in zip(rows["text"], rows["text_pair"])]


def stores_encoder(settings: dict[str, Any]) -> bool:
    """Whether the run folder keeps the encoder's weights: always once fine-tuned, and for any encoder that is not
    one of the offline ones (a folder may move, a Hub model change), so the run stays self-describing."""
    return settings["mode"] == CONTRASTIVE or settings["encoder"] not in (encoders.MINILM, encoders.MPNET)


def save_run(head: nn.Module, encoder: Any, settings: dict[str, Any], folder: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    record = {**settings, "outputs": head.output.out_features, "stored": stores_encoder(settings)}
    if record["stored"] and not (folder / ENCODER_FOLDER / "modules.json").is_file():
        with tempfile.TemporaryDirectory(dir=folder, prefix=".saving-") as scratch:
            encoder.save(str(Path(scratch) / ENCODER_FOLDER), safe_serialization=True)
            shutil.rmtree(folder / ENCODER_FOLDER, ignore_errors=True)
            (Path(scratch) / ENCODER_FOLDER).replace(folder / ENCODER_FOLDER)
    atomic_write_with(folder / "model.safetensors", lambda tmp: save_file(state, str(tmp)))
    atomic_write_json(folder / SETTINGS_FILE, record)


def load_run(folder: Path) -> tuple[Any, Head, dict[str, Any], Featurizer | None]:
    settings = json.loads((folder / SETTINGS_FILE).read_text())
    encoder = load_encoder(str(folder / ENCODER_FOLDER) if settings["stored"] else settings["encoder"])
    bag = Featurizer.from_dict(settings["bag"]) if "bag" in settings else None  # runs before the bag had none
    head = Head(settings["inputs"], settings["outputs"], bag.size if bag else 0)
    head.load_state_dict(load_file(str(folder / "model.safetensors")))
    return encoder, head.eval(), settings, bag


class EncoderClassifier(nn.Module):
    """Encoder and head as one model called with token ids, answering `.logits` as a transformers classifier
    does: the shape `explain.BertExplainer` attributes through."""

    def __init__(self, encoder: Any, head: Head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder[0].auto_model.get_input_embeddings()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> Any:
        features = {"input_ids": input_ids, "attention_mask": attention_mask, **extra}
        logits = self.head(self.encoder(features)["sentence_embedding"])
        return type("Output", (), {"logits": logits})()


class EncoderScorer:
    """A saved run: embeds the texts (and the pairs' second texts) and weighs their words, then applies the head."""

    def __init__(self, encoder: Any, head: Head, settings: dict[str, Any], bag: Featurizer | None):
        self.encoder, self.head, self.settings, self.bag = encoder, head, settings, bag
        self.device = next(encoder.parameters()).device
        self.head.to(self.device)
        self.key = None if settings["stored"] else settings["encoder"]  # an unchanged offline encoder: cached

    def rows(self, texts: list[str], pairs: list[str] | None) -> dict[str, list]:
        return {"text": texts, **({"text_pair": pairs or [""] * len(texts)} if self.settings["pairs"] else {})}

    @torch.inference_mode()
    def logits(self, inputs: ModelInputs) -> torch.Tensor:
        rows = self.rows(list(inputs.texts), list(inputs.pairs) if inputs.pairs is not None else None)
        embeddings = pair_features(self.encoder, rows, self.key).to(self.device)
        words = bag_matrix(self.bag, rows).to_dense().to(self.device) if self.bag is not None else None
        return self.head(embeddings, words).float().cpu()

    def embedding(self, text: str, pair: str | None) -> torch.Tensor:
        rows = self.rows([text], [pair or ""])
        return pair_features(self.encoder, rows, self.key).clone().to(self.device)  # a constant for autograd

    def explainer(self, feature_names: Any = ()) -> Any:
        if self.settings["pairs"]:
            raise ValueError(
                "Explanations are not available for a sentence-encoder run on text pairs (each text is embedded on "
                "its own); train BERT on the pairs to explain them."
            )
        from ..explain import BertExplainer

        encoder_part = BertExplainer(
            EncoderClassifier(self.encoder, self.head), self.encoder.tokenizer, self.encoder.max_seq_length
        )
        if self.bag is None:
            return encoder_part
        return HeadExplainer(encoder_part, self.head, self.bag, self.embedding)


def describe(name: str, mode: str, n_outputs: int) -> dict[str, Any]:
    name = encoders.canonical_name(name)
    parameters = encoders.PARAMETERS.get(name)
    dimension = 768 if name == encoders.MPNET else 384 if name == encoders.MINILM else None
    head = (dimension + 1) * n_outputs if dimension else None
    cost = EMBED_SECONDS.get(name)
    words = MAX_VOCABULARY * n_outputs if mode == FROZEN else 0
    parts = [(f"encoder: {name} ({'fine-tuned, then ' if mode == CONTRASTIVE else ''}frozen)", parameters or 0)]
    parts.append((f"head: Linear({dimension or 'd'} → {n_outputs})", head or 0))
    if words:
        parts.append((f"words: Linear(TF-IDF terms, at most {MAX_VOCABULARY:,} → {n_outputs})", words))
    fitted = (
        "the head, over the embedding and the text's TF-IDF words, is fitted as a logistic regression in seconds"
        if mode == FROZEN
        else "contrastive fine-tuning of the encoder on pairs of texts (SetFit's objective) takes most of the time "
        "budget, then a head over the embedding is fitted as a logistic regression"
    )
    return {
        "title": f"Sentence encoder + head ({name}, {mode})",
        "total": (parameters or 0) + (head or 0) + words,
        "parts": parts,
        "note": f"Each text is embedded once; {fitted}"
        + (f"; embedding takes about {cost} s a text on a 2-core CPU." if cost else "."),
    }


class EncoderFamily:
    """A sentence encoder with a trained head, the encoder frozen or contrastively fine-tuned first (SetFit)."""

    kind, title = "setfit", "Sentence encoder (SetFit)"
    defaults = FamilyDefaults(epochs=100, batch_size=16, patience=10, min_steps=400)
    needs_text = True
    reads_features = False
    is_transformers_model = False

    def owns(self, model_name: str) -> bool:
        return model_name.strip().lower() in OWNED_NAMES

    def default_lr(self, parameters: int) -> float:
        return 1e-2  # a linear head on normalised embeddings: logistic regression's scale of steps

    def build(self, data: Any, model_name: str, config: Any, generator: torch.Generator, on_gpu: bool) -> ModelBundle:
        return build(data, config, generator)

    def load(self, run_dir: Path) -> EncoderScorer:
        return EncoderScorer(*load_run(run_dir))

    def onnx_module(self, run_dir: Path) -> OnnxModule:
        raise ValueError("ONNX export is not available for sentence-encoder runs yet; they predict with PyTorch.")

    def load_onnx(self, run_dir: Path, session: Any) -> EncoderScorer:
        return self.load(run_dir)

    def describe(self, model_name: str, data: Any | None) -> dict[str, Any]:
        name = encoders.default_encoder()
        if data is None:
            return describe(name, FROZEN, 2)
        return describe(name, auto_mode(data, name), data.n_outputs)  # the mode auto takes for the data loaded
