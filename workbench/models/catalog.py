"""The models a user can choose without a network, each with its size and what it costs: the Train tab's model list
and `python -m workbench models` show this table. The costs were measured on this project's 2-core CPU
(benchmarks/base_models.py: the drug reviews, about 110 tokens a text, batch 16), so they are a guide; a machine of
its own speed scales them all alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import encoders
from ..config import AUTO, MLP, SETFIT
from .encoder import EMBED_SECONDS

# seconds of fine-tuning per 1,000 training rows of the drug reviews (benchmarks/base_models.py, load average 1.9)
FINE_TUNE_SECONDS_PER_1000_ROWS = {encoders.MINILM: 105.0, encoders.MPNET: 765.0}
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
        choices.append(ModelChoice(name, what, encoders.PARAMETERS[name], FINE_TUNE_SECONDS_PER_1000_ROWS[name]))
    choices.append(ModelChoice(MLP, "TF-IDF words and numbers, trained from scratch (size from the data)"))
    choices.append(ModelChoice(HUB_EXAMPLE, "or any Hub model id: needs a network", offline=False))
    return choices
