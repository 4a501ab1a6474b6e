"""The models a user can choose without a network, each with its size and what it costs: the Train tab's model list
and `python -m workbench models` show this table, and auto reads the costs to tell whether a larger model's epochs
fit a time budget (`fine_tune_epochs`). The costs were measured on this project's 2-core CPU
(benchmarks/base_models.py), so they are a guide; another machine's are scaled by its measured matmul speed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .. import encoders
from ..config import AUTO, MLP, SETFIT
from .encoder import EMBED_SECONDS

TOKEN_SAMPLE_ROWS = 2000  # the rows tokenised to learn the data's mean length (the first ones: no draw to repeat)
VALIDATION_ROW_COST = 1 / 3  # scoring a validation row runs the forward pass alone, about a third of a training row
# the smallest factor a cost is scaled by on a faster machine: a GPU's matmuls are hundreds of times this CPU's, but a
# small model's steps there are bound by other costs (no GPU measured yet; there the scale only has to say "fits")
FASTEST_SCALE = 0.05


@dataclass(frozen=True)
class FineTuneCost:
    """Seconds of fine-tuning per 1,000 training rows, as a part per token of the rows' mean length and a part
    that every row costs whatever its length (the optimiser's step, a step's fixed overheads)."""

    per_token: float
    fixed: float

    def seconds_per_1000_rows(self, tokens: float) -> float:
        return self.fixed + self.per_token * tokens


# Fitted to `python benchmarks/base_models.py` on this project's 2-core CPU (AMD EPYC with AVX512-BF16, bf16
# autocast, batch 16, steady state, 2026-12-01): the MiniLM 10.0 s per 1,000 rated tweets (20.5 tokens a row) and
# 32.1-35.4 s per 1,000 drug reviews (111 tokens); all-mpnet-base-v2 56.7 and 219.6 s. That machine's 1024 x 1024
# bf16 matmul ran at REFERENCE_GFLOPS (devices.training_matmul_gflops); another machine's costs scale by its own.
FINE_TUNE_COSTS = {
    encoders.MINILM: FineTuneCost(per_token=0.265, fixed=4.3),
    encoders.MPNET: FineTuneCost(per_token=1.80, fixed=19.8),
}
REFERENCE_GFLOPS = 400.0
LISTED_TOKENS = 111  # the model list shows each model's cost per 1,000 rows of this length (the drug reviews)
HUB_EXAMPLE = "bert-base-uncased"


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model list: the name --model takes, what it is, its parameters and its measured cost."""

    name: str
    what: str
    parameters: int | None = None
    seconds_per_1000_rows: float | None = None
    offline: bool = True

    def label(self) -> str:
        """The entry as the Train tab lists it: name, size and cost in a line."""
        size = f" · {self.parameters / 1e6:.0f} M parameters" if self.parameters else ""
        cost = f" · ~{self.seconds_per_1000_rows:.0f} s per 1,000 rows" if self.seconds_per_1000_rows else ""
        return f"{self.name}: {self.what}{size}{cost}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def mean_tokens(rows: Any) -> float:
    """The mean tokens a row of these training rows gives the bundled MiniLM's tokenizer (a text pair counts both
    texts), as truncated on the CPU: what a fine-tuning step's cost follows."""
    from transformers import AutoTokenizer

    from .bert import CPU_MAX_LENGTH, bundled_model_path

    sample = rows.select(range(min(len(rows), TOKEN_SAMPLE_ROWS)))
    pairs = list(sample["text_pair"]) if "text_pair" in sample.column_names else None
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    encoded = tokenizer(list(sample["text"]), pairs, truncation=True, max_length=CPU_MAX_LENGTH)["input_ids"]
    return sum(map(len, encoded)) / max(1, len(encoded))


def fine_tune_epochs(name: str, data: Any, seconds: float, tokens: float) -> float:
    """About how many epochs of fine-tuning the offline model `name` fit in `seconds` on this machine, each one
    training on the training rows and scoring the validation rows, whose mean length is `tokens`."""
    from ..devices import training_matmul_gflops

    scale = max(FASTEST_SCALE, REFERENCE_GFLOPS / training_matmul_gflops())
    rows = len(data.train) + VALIDATION_ROW_COST * len(data.validation)
    epoch = FINE_TUNE_COSTS[name].seconds_per_1000_rows(tokens) * scale * rows / 1000
    return seconds / max(epoch, 1e-9)


def model_choices() -> list[ModelChoice]:
    """auto, the sentence-encoder family, each installed offline model to fine-tune (strongest first), the MLP,
    and an example of a Hub id (which needs a network)."""
    encoder = encoders.default_encoder()
    choices = [
        ModelChoice(AUTO, "chosen from the data"),
        ModelChoice(
            SETFIT,
            f"{encoder} embeddings and TF-IDF words, a head fitted in seconds",
            encoders.PARAMETERS[encoder],
            1000 * EMBED_SECONDS[encoder],  # embedding once is the cost: the head is then fitted in seconds
        ),
    ]
    for name in encoders.installed_encoder_names():
        what = "fine-tune the bundled MiniLM" if name == encoders.MINILM else f"fine-tune {name}"
        cost = FINE_TUNE_COSTS[name].seconds_per_1000_rows(LISTED_TOKENS)
        choices.append(ModelChoice(name, what, encoders.PARAMETERS[name], cost))
    choices.append(ModelChoice(MLP, "TF-IDF words and numbers, trained from scratch (size from the data)"))
    choices.append(ModelChoice(HUB_EXAMPLE, "or any Hub model id: needs a network", offline=False))
    return choices
