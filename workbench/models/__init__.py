"""Model families of the workbench: the from-scratch MLP (`mlp.py`) and BERT-family classifiers (`bert.py`).

Each family turns `PreparedData` into a `ModelBundle`: the `nn.Module`, data loaders that yield dicts of
tensors the module takes as keyword arguments, and a `save` that writes the weights into a run folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from torch import nn
from torch.utils.data import DataLoader


@dataclass
class ModelBundle:
    model: nn.Module
    train_loader: DataLoader
    eval_loader: DataLoader
    save: Callable[[nn.Module, Path], None]  # writes weights and whatever else loading needs into the folder
    name: str
    info: dict[str, Any]  # recorded in the run (e.g. max_length, parameter count)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
