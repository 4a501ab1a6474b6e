"""What every model family provides, so that training, prediction, the CLI and the app never ask which family
they hold: `ModelFamily` (defaults, build, load, describe, what it can be shared as), the `ModelBundle` a build
returns for training, the `Scorer` a load returns for prediction, and the `OnnxModule` it hands `export.py` to write
the saved model as ONNX."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..devices import parameter_count  # noqa: F401  (re-exported: the families count their parameters with it)


@dataclass
class ModelBundle:
    """A model ready to train: the module, loaders that yield dicts of tensors it takes as keyword arguments, and
    a `save` that writes the weights (and whatever loading needs) into a run folder."""

    model: nn.Module
    train_loader: DataLoader
    eval_loader: DataLoader
    save: Callable[[nn.Module, Path], None]
    name: str
    info: dict[str, Any]  # recorded in the run (e.g. max_length, parameter count)
    fitted: bool = False  # the build fitted the model with a solver: the loop scores it once and saves it, no steps
    final: nn.Module | None = None  # saved in place of the scored model when the run finishes (refitted on all rows)


@dataclass(frozen=True)
class FamilyDefaults:
    """The settings a family trains with when they are left on auto. The epochs are an upper bound (the time budget
    and early stopping end runs sooner); on small data they grow until the run takes at least `min_steps` steps."""

    epochs: int
    batch_size: int
    patience: int
    min_steps: int


@dataclass
class OnnxModule:
    """A saved model ready for `torch.onnx.export`: a module whose positional inputs are `inputs` (example tensors,
    in order, named as the ONNX graph names them) and whose one output is the raw outputs the task reads (`logits`);
    `dynamic_axes` names the axes that vary per call (the batch; for BERT also the sequence); `fusions`, where
    given, are the arguments of ONNX Runtime's transformer optimizer (model_type, num_heads, hidden_size)."""

    module: nn.Module
    inputs: dict[str, torch.Tensor]
    dynamic_axes: dict[str, dict[int, str]]
    fusions: dict[str, Any] | None = None


class Scorer(Protocol):
    """A saved model loaded for prediction."""

    def logits(self, inputs: Any) -> torch.Tensor:
        """The model's raw outputs, one row per input row (`data.ModelInputs`); the task reads them."""

    def explainer(self, feature_names: Any = ()) -> Any:
        """What says why (`explain.BertExplainer`, `explain.MLPExplainer`): `attribute(text, pair, features,
        score, method)` -> (words, numeric columns' scores)."""


class ModelFamily(Protocol):
    """One kind of model. A family is registered in `models/__init__.py`; nothing else names it."""

    kind: str  # recorded in run.json as model.kind
    title: str  # the family's name for people
    defaults: FamilyDefaults
    needs_text: bool  # it reads the text column, so a CSV without one cannot train it
    reads_features: bool  # it reads the numeric feature columns
    is_transformers_model: bool  # its run folder loads with transformers.pipeline and can be pushed to the Hub

    def owns(self, model_name: str) -> bool:
        """Whether a model name (as typed in --model or the Train tab) belongs to this family."""

    def default_lr(self, parameters: int) -> float: ...

    def build(
        self, data: Any, model_name: str, config: Any, generator: torch.Generator, on_gpu: bool
    ) -> ModelBundle: ...

    def load(self, run_dir: Path) -> Scorer: ...

    def onnx_module(self, run_dir: Path) -> OnnxModule:
        """The saved model as a module to export to ONNX, with the same inputs and outputs as its scorer feeds."""

    def load_onnx(self, run_dir: Path, session: Any) -> Scorer:
        """A scorer that runs the folder's ONNX export in an `onnxruntime.InferenceSession` instead of PyTorch."""

    def describe(self, model_name: str, data: Any | None) -> dict[str, Any]:
        """The model's parts and their parameter counts, for the data (or an example when there is none yet)."""


def error_reason(error: Exception) -> str:
    """The first line of a loading error (or its type), short enough for a one-sentence message."""
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
