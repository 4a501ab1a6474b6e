"""Model families of the workbench, in one table: the from-scratch MLP (`mlp.py`) and BERT-family classifiers
(`bert.py`). Each implements `ModelFamily` (`base.py`); adding a family means its module and a row here."""

from __future__ import annotations

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


__all__ = [
    "FAMILIES",
    "FamilyDefaults",
    "ModelBundle",
    "ModelFamily",
    "Scorer",
    "family_for",
    "family_of_kind",
    "parameter_count",
]
