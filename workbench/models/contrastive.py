"""Contrastive fine-tuning of a sentence encoder, SetFit's objective in a cheaper loop: each step embeds a batch of
training texts and scores every pair among them against its target (1 for the same class; for multi-label, the share
of labels the two rows have in common), training the encoder so that the cosine of two embeddings meets it
(CosineSimilarityLoss, mean squared error), the similar and the dissimilar pairs weighing half each, as SetFit's
"oversampling" makes them. SetFit's step embeds 32 texts for 16 sampled pairs; the same 32 texts hold 496 pairs,
and on 64 rows per class that reached a better encoder than SetFit's whole pass in a sixth of its time
(docs/encoders.md). On a CPU steps are slow, so their number is fitted to a time limit, and re-fitted as they are
timed; without one the run takes as many steps as SetFit would.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from .. import preparing
from ..budget import linear_schedule
from .cpu_dropout import use_cpu_dropout

TEXT_BATCH = 32  # texts a step: as many as SetFit's default batch of 16 pairs embeds
SETFIT_PAIR_BATCH = 16  # SetFit's default batch of pairs, for counting the steps its run would take
# 5e-5 measured above SetFit's 2e-5 for this loop (64 rows per class of the rated tweets, 3 draws: 0.773 against
# 0.750 macro-F1), which takes far fewer steps than SetFit's pass
BODY_LR = 5e-5
WEIGHT_DECAY = 0.01  # SetFit's l2_weight, applied as transformers' Trainer does: not to biases or norms
MAX_GRAD_NORM = 1.0  # the gradient clipping of SetFit's trainer (transformers' default)
WARMUP = 0.1  # SetFit's warmup proportion
TIMED_STEPS = 3  # steps taken before the rest are fitted into the time limit (and re-fitted at every step)
MAX_SETFIT_PAIRS = 50_000  # enough for a few thousand rows; the time limit usually ends the run much sooner
SIMILAR = 0.5  # a pair at or above this target is one of the similar pairs
COUNTED_ROWS = 1024  # rows whose pairs are counted at once, so counting a large file stays small in memory


class ContrastiveResult(NamedTuple):
    rows: int
    steps: int
    seconds: float


def similarity_matrix(left: Sequence[Any], right: Sequence[Any]) -> torch.Tensor:
    """How alike the labels of every row of `left` and every row of `right` are: 1 for the same class, 0 for
    different ones; for multi-label rows (0/1 per label), the share of their labels they have in common (Jaccard),
    1 for two rows with no label."""
    a, b = torch.tensor(left, dtype=torch.float32), torch.tensor(right, dtype=torch.float32)
    if a.ndim == 1:
        return (a[:, None] == b[None, :]).float()
    both = a @ b.T
    either = a.sum(1)[:, None] + b.sum(1)[None, :] - both
    return torch.where(either > 0, both / either.clamp(min=1), torch.ones_like(both))


def setfit_steps(labels: Sequence[Any], max_pairs: int = MAX_SETFIT_PAIRS) -> int:
    """The steps SetFit's default run takes on these rows: its "oversampling" makes as many similar pairs (rows with
    themselves included, as its combinations with replacement do) as dissimilar ones, each kind as many as the
    larger, in batches of 16 pairs."""
    similar = dissimilar = 0
    for start in range(0, len(labels), COUNTED_ROWS):
        targets = similarity_matrix(labels[start : start + COUNTED_ROWS], labels)
        upper = torch.ones_like(targets, dtype=torch.bool).triu(start)  # each pair once, self-pairs included
        similar += int(((targets >= SIMILAR) & upper).sum())
        dissimilar += int(((targets < SIMILAR) & upper).sum())
    if not similar or not dissimilar:
        raise ValueError("Contrastive fine-tuning needs at least two different labels among the training rows.")
    each = min(max(similar, dissimilar), max_pairs // 2)
    return math.ceil(2 * each / SETFIT_PAIR_BATCH)


def text_batches(rows: int, seed: int) -> Iterator[list[int]]:
    """Batches of row indices without end: every row once an epoch, in a new shuffled order each time; a lone last
    row is left for the next epoch (one text has no pair)."""
    rng = random.Random(seed)
    while True:
        order = list(range(rows))
        rng.shuffle(order)
        for start in range(0, rows, TEXT_BATCH):
            batch = order[start : start + TEXT_BATCH]
            if len(batch) > 1:
                yield batch


def fine_tune(
    encoder: Any,
    texts: Sequence[str],
    labels: Sequence[Any],
    seconds: float | None,
    seed: int,
    rows: str = "the training rows",
    clock: Callable[[], float] = time.monotonic,
) -> ContrastiveResult:
    """Train the encoder for as many steps as SetFit's run would take, or fewer when the `seconds` given would run
    out first; the encoder is left in eval mode."""
    planned = total = setfit_steps(labels)
    if next(encoder.parameters()).device.type == "cpu":
        use_cpu_dropout(encoder)  # the same dropout with cheaper masks: with the fused AdamW, 3-8% faster steps
    optimizer = torch.optim.AdamW(decay_groups(encoder), lr=BODY_LR, fused=True)
    warmup = math.ceil(WARMUP * planned)
    started = first_done = clock()
    encoder.train()
    step = 0
    for step, batch in enumerate(text_batches(len(texts), seed), start=1):
        if step > total:
            break
        for group in optimizer.param_groups:
            group["lr"] = BODY_LR * linear_schedule(step - 1, warmup, total)
        preparing.report(f"Fine-tuning the encoder on pairs from {rows} (steps)", step - 1, total)
        batch_labels = [labels[i] for i in batch]
        loss = batch_loss(encoder, [texts[i] for i in batch], similarity_matrix(batch_labels, batch_labels))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), MAX_GRAD_NORM)
        optimizer.step()
        optimizer.zero_grad()
        now = clock()
        first_done = now if step == 1 else first_done
        if seconds is not None and step >= TIMED_STEPS:
            # re-planned at every step from the steps after the first (which warms up and is slow), so one slow
            # step early on does not cut the run short; the schedule decays to zero at the planned end
            per_step = (now - first_done) / (step - 1)
            total = min(planned, max(step, int((seconds - (first_done - started)) / per_step) + 1))
            warmup = math.ceil(WARMUP * total)  # as transformers rounds a fractional warmup: up
    encoder.eval()
    return ContrastiveResult(rows=len(texts), steps=min(step, total), seconds=round(clock() - started, 2))


def decay_groups(encoder: Any) -> list[dict[str, Any]]:
    """The weights decayed, and the biases and norms (the one-dimensional parameters) not, as transformers' Trainer
    (and so SetFit) groups them."""
    weights = [p for p in encoder.parameters() if p.requires_grad]
    return [
        {"params": [p for p in weights if p.ndim >= 2], "weight_decay": WEIGHT_DECAY},
        {"params": [p for p in weights if p.ndim < 2], "weight_decay": 0.0},
    ]


def batch_loss(encoder: Any, texts: list[str], targets: torch.Tensor) -> torch.Tensor:
    """CosineSimilarityLoss over every pair of the batch's texts: the squared gap between each pair's cosine and its
    target, averaged over the similar and over the dissimilar pairs, the two means weighing half each (one alone
    where the batch holds only one kind)."""
    embeddings = F.normalize(embed_with_grad(encoder, texts), dim=-1)
    targets = targets.to(embeddings.device)
    pairs = torch.ones_like(targets, dtype=torch.bool).triu(1)  # each pair once, a text with itself left out
    errors = ((embeddings @ embeddings.T - targets) ** 2)[pairs]
    similar = targets[pairs] >= SIMILAR
    means = [errors[kind].mean() for kind in (similar, ~similar) if kind.any()]
    return sum(means) / len(means)


def embed_with_grad(encoder: Any, texts: list[str]) -> torch.Tensor:
    features = encoder.preprocess(texts)  # token tensors, and a "modality" tag the encoder reads as it is
    device = next(encoder.parameters()).device
    moved = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
    return encoder(moved)["sentence_embedding"]
