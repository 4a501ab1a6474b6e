"""Model families of the workbench, in one table: the from-scratch MLP (`mlp.py`), the sentence encoder with a
head (`encoder.py`, SetFit's way) and BERT-family classifiers (`bert.py`). Each implements `ModelFamily` (`base.py`);
adding a family means its module and a row here. `choose_model` is what "auto" trains, `route_reason` says why."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..config import AUTO, BUNDLED_BERT, MLP, SETFIT, TrainConfig
from ..labels import Task
from .base import FamilyDefaults, ModelBundle, ModelFamily, Scorer, parameter_count
from .bert import BertFamily
from .catalog import fine_tune_epochs, mean_tokens
from .encoder import CONTRASTIVE, SHORT_TEXT_WORDS, EncoderFamily, auto_mode, rows_per_class, words_per_text
from .mlp import MLPFamily

# Asked in order: the MLP owns the name "mlp", the encoder family "setfit"; BERT owns every other name (the bundled
# model, a Hub id, a folder).
FAMILIES: tuple[ModelFamily, ...] = (MLPFamily(), EncoderFamily(), BertFamily())

# Auto's rule between the sentence encoder and fine-tuning BERT, from benchmarks/encoder_routes.py (docs/encoders.md):
# up to this many training rows per class (or per label), the fitted head on embeddings and words scored higher. With
# either encoder it won at 8-160 rows per class (drug reviews at 160: 0.539 with the MiniLM, 0.575 with mpnet, against
# fine-tuning's 0.441-0.515) and lost at 285 (BBC News: 0.960 against 0.976) and 1,120 (rated tweets: 0.760 / 0.784
# against 0.791); the boundary lies between 160 and 285.
ENCODER_ROWS_PER_CLASS = 200
# ...except on short texts (at most SHORT_TEXT_WORDS words on average), where fine-tuning already won at 26 and 51
# training rows per class (rated tweets, 14 words on average, 5 draws: 0.656 against the frozen MiniLM head's 0.617;
# 0.730 against the heads' 0.673 / 0.688), while on longer texts the head still won at 51 (BBC News, 60 words: 0.946
# / 0.957 against 0.942; drug reviews, 87: 0.461 against 0.422). The word boundary lies between 14 and 60; the rows
# boundary between 13 (where fine-tuning was erratic and below the head on the tweets) and 26. Contrastive
# fine-tuning of the MiniLM, where auto_mode takes it, comes before this rule: on short texts it won up to 51.
SHORT_TEXT_ROWS_PER_CLASS = 20
# the share of the time budget that embedding every training row may take before fine-tuning is the cheaper route
EMBEDDING_BUDGET_SHARE = 0.8
# Auto fine-tunes the strongest installed encoder (all-mpnet-base-v2 with the encoders extra) when about this many of
# its epochs fit the time budget (catalog.fine_tune_epochs), the bundled MiniLM otherwise. Measured with 5-minute
# budgets (docs/benchmarks.md): mpnet at 1.3-2.7 epochs scored above the MiniLM's 7-10 on three sets of a few
# thousand short texts (rated tweets 0.825-0.842 macro-F1 against 0.792-0.811, movie genres 0.456 micro-F1 against
# 0.438, the tweets' ratings RMSE 0.538 against 0.567-0.578), and at 0.9 of an epoch (28 steps) far below it (drug
# reviews, 0.445 against 0.538). 1.5 leaves room for the estimate's error. On few rows per class it was erratic (51
# rated tweets per class, two draws: 0.572 and 0.786 against the MiniLM's 0.680 and 0.768), so only beyond
# ENCODER_ROWS_PER_CLASS, where the measured wins lie.
MIN_FINE_TUNE_EPOCHS = 1.5


def family_for(model_name: str) -> ModelFamily:
    """The family a model name belongs to."""
    return next(family for family in FAMILIES if family.owns(model_name))


def family_of_kind(kind: str) -> ModelFamily:
    """The family recorded in a run folder (run.json's model.kind)."""
    for family in FAMILIES:
        if family.kind == kind:
            return family
    raise ValueError(f"This run was trained with a model family this workbench does not know ('{kind}').")


def _route(config: TrainConfig, data: Any) -> tuple[str, str]:
    """What auto trains, and why, in a sentence the Train tab shows."""
    if not data.has_text:
        return MLP, "the MLP, as the data has numeric columns and no text"
    if data.task == Task.REGRESSION:
        return _fine_tuning(config, data, "the encoder route was measured on classes, not on numbers")
    from .. import encoders
    from .encoder import EMBED_SECONDS

    per_class, name = rows_per_class(data), encoders.canonical_name(config.encoder)
    most = ENCODER_ROWS_PER_CLASS
    embedding = len(data.train) * 1.25 * EMBED_SECONDS.get(name, 0.1)  # the validation rows are a quarter more
    budget = config.time_budget * 60 if config.time_budget else None
    if per_class > most:
        return _fine_tuning(
            config,
            data,
            f"there are {per_class:.0f} training rows per class, more than the {most} up to which the sentence "
            f"encoder {name} scored higher (docs/encoders.md)",
        )
    if budget is not None and embedding > EMBEDDING_BUDGET_SHARE * budget:
        return _fine_tuning(
            config,
            data,
            f"embedding {len(data.train)} rows with {name} would take about {embedding:.0f} s, most of the "
            f"{budget:.0f} s budget",
        )
    words = words_per_text(data)
    if auto_mode(data, name) == CONTRASTIVE:
        return SETFIT, (
            f"the sentence encoder {name}, fine-tuned on pairs of the rows (SetFit's objective), then a head fitted "
            f"on its embeddings, as there are {per_class:.0f} training rows per class of {words:.0f} words on "
            "average: on so few, it scored above the other routes measured (docs/encoders.md)"
        )
    if data.task == Task.SINGLE_LABEL and words <= SHORT_TEXT_WORDS and per_class >= SHORT_TEXT_ROWS_PER_CLASS:
        return _fine_tuning(
            config,
            data,
            f"there are {per_class:.0f} training rows per class of short texts ({words:.0f} words on average): on "
            f"short texts fine-tuning scored higher than the frozen sentence encoder from {SHORT_TEXT_ROWS_PER_CLASS} "
            "rows per class (docs/encoders.md)",
        )
    return SETFIT, (
        f"the sentence encoder {name} with a head fitted on its embeddings and the words, as there are "
        f"{per_class:.0f} training rows per class, at most {most}, where it scored higher than fine-tuning "
        "(docs/encoders.md)"
    )


def _fine_tuning(config: TrainConfig, data: Any, why: str) -> tuple[str, str]:
    """BERT fine-tuning, and why: of the strongest installed encoder when MIN_FINE_TUNE_EPOCHS of its epochs fit the
    run's time budget, of the bundled MiniLM otherwise (or when the run has no budget: the fastest is the safe
    choice for a run of unbounded length)."""
    from .. import encoders

    larger = encoders.installed_encoder_names()[:-1]  # the strongest first; the bundled MiniLM, last, is the smallest
    if not larger:
        return BUNDLED_BERT, f"BERT fine-tuning, as {why}"
    if rows_per_class(data) <= ENCODER_ROWS_PER_CLASS:
        return BUNDLED_BERT, (
            f"BERT fine-tuning of the bundled MiniLM (a larger model only from {ENCODER_ROWS_PER_CLASS} rows per "
            f"class: on fewer, fine-tuning {larger[0]} was erratic), as {why}"
        )
    if not config.time_budget or config.epochs is not None:
        return (
            BUNDLED_BERT,
            f"BERT fine-tuning of the bundled MiniLM (the fastest, as the run has no time budget), as {why}",
        )
    minutes, tokens = config.time_budget, mean_tokens(data.train)
    for name in larger:
        epochs = fine_tune_epochs(name, data, minutes * 60, tokens)
        if epochs >= MIN_FINE_TUNE_EPOCHS:
            fit = f"about {epochs:.1f} epochs of it fit the {minutes:g}-minute budget"
            return name, f"BERT fine-tuning of {name} ({fit}), as {why}"
    return BUNDLED_BERT, (
        f"BERT fine-tuning of the bundled MiniLM (about {epochs:.1f} epochs of {name} would fit the {minutes:g}-minute "
        f"budget, under the {MIN_FINE_TUNE_EPOCHS} it takes), as {why}"
    )


def auto_choice(config: TrainConfig, data: Any) -> tuple[str, str]:
    """The model a run trains, and when auto chose it, why, as one sentence (empty when chosen by name)."""
    if config.model.lower() != AUTO:
        return config.model, ""
    model, why = _route(config, data)
    return model, f"Auto chose {why}."


def choose_model(config: TrainConfig, data: Any) -> str:
    """What "auto" trains: the MLP for numbers alone; for text, the sentence encoder on few labelled rows per
    class (fewer when the texts are short), BERT fine-tuning on more (`_route` has the rule)."""
    return auto_choice(config, data)[0]


def route_reason(config: TrainConfig, data: Any) -> str:
    """Why auto trains what it trains, as one sentence (empty when a model was chosen by name)."""
    return auto_choice(config, data)[1]


def with_family_defaults(config: TrainConfig, family: ModelFamily, train_rows: int) -> TrainConfig:
    """Fill the settings left empty with the defaults of the model family, scaled to the size of the data: on small
    data an epoch is a few steps, so the epochs grow until the run takes `min_steps` (and patience with them)."""
    defaults = family.defaults
    batch_size = config.batch_size or defaults.batch_size
    steps_per_epoch = math.ceil(train_rows / batch_size / config.grad_accumulation)
    epochs = config.epochs or max(defaults.epochs, math.ceil(defaults.min_steps / steps_per_epoch))
    patience = defaults.patience if epochs == defaults.epochs else max(defaults.patience, epochs // 4)
    return dataclasses.replace(
        config, batch_size=batch_size, epochs=epochs, patience=patience if config.patience is None else config.patience
    )


__all__ = [
    "FAMILIES",
    "FamilyDefaults",
    "ModelBundle",
    "ModelFamily",
    "Scorer",
    "auto_choice",
    "choose_model",
    "family_for",
    "family_of_kind",
    "parameter_count",
    "route_reason",
    "rows_per_class",
    "with_family_defaults",
]
