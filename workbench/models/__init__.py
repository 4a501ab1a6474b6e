"""Model families of the workbench, in one table: the from-scratch MLP (`mlp.py`) and BERT-family classifiers
(`bert.py`). Each implements `ModelFamily` (`base.py`); adding a family means its module and a row here."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..config import AUTO, BUNDLED_BERT, MLP, TrainConfig
from .base import FamilyDefaults, ModelBundle, ModelFamily, Scorer, parameter_count
from .bert import BertFamily
from .mlp import MLPFamily

# Asked in order: the MLP owns the name "mlp"; BERT owns every other name (the bundled model, a Hub id, a folder).
FAMILIES: tuple[ModelFamily, ...] = (MLPFamily(), BertFamily())


def family_for(model_name: str) -> ModelFamily:
    """The family a model name belongs to."""
    return next(family for family in FAMILIES if family.owns(model_name))


def family_of_kind(kind: str) -> ModelFamily:
    """The family recorded in a run folder (run.json's model.kind)."""
    for family in FAMILIES:
        if family.kind == kind:
            return family
    raise ValueError(f"This run was trained with a model family this workbench does not know ('{kind}').")


def choose_model(config: TrainConfig, data: Any) -> str:
    """What "auto" trains: the bundled BERT for data with a text column, the MLP for numbers alone."""
    if config.model.lower() != AUTO:
        return config.model
    return BUNDLED_BERT if data.has_text else MLP


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
    "choose_model",
    "family_for",
    "family_of_kind",
    "parameter_count",
    "with_family_defaults",
]
