"""SetFit's contrastive fine-tuning of a sentence encoder, in one small loop: pairs of training texts labelled
similar (same class; for multi-label, the share of labels they have in common) or not, sampled as SetFit's default
"oversampling" does (as many similar as dissimilar pairs, each kind drawn until the larger kind is covered once),
and the encoder trained so that the cosine of the two embeddings meets that target (CosineSimilarityLoss, mean
squared error). On a CPU that is slow, so the number of steps is fitted to a time limit, and re-fitted as the steps
are timed.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from .. import preparing
from ..budget import linear_schedule

PAIR_BATCH = 16  # SetFit's default batch of pairs
BODY_LR = 2e-5  # SetFit's default learning rate for the encoder
WEIGHT_DECAY = 0.01  # SetFit's l2_weight, applied as transformers' Trainer does: not to biases or norms
MAX_GRAD_NORM = 1.0  # the gradient clipping of SetFit's trainer (transformers' default)
WARMUP = 0.1  # SetFit's warmup proportion
TIMED_STEPS = 3  # steps taken before the rest are fitted into the time limit (and re-fitted at every step)
MAX_PAIRS = 50_000  # enough for a few thousand rows; the time limit usually ends the run much sooner


class ContrastiveResult(NamedTuple):
    pairs: int
    steps: int
    seconds: float


def similarity(a: Any, b: Any) -> float:
    """How alike two rows' labels are: 1 for the same class, 0 for different ones; for multi-label rows (0/1 per
    label), the share of their labels they have in common (Jaccard), 1 for two rows with no label."""
    if isinstance(a, int | float):
        return float(a == b)
    both = sum(1 for x, y in zip(a, b) if x and y)
    either = sum(1 for x, y in zip(a, b) if x or y)
    return both / either if either else 1.0


def sample_pairs(labels: Sequence[Any], seed: int, max_pairs: int = MAX_PAIRS) -> list[tuple[int, int, float]]:
    """SetFit's "oversampling": every similar and dissimilar pair (rows with themselves included as similar, as
    SetFit's combinations with replacement do), the smaller kind repeated until both are as many as the larger."""
    keys = [tuple(x) if isinstance(x, list | tuple) else x for x in labels]
    similar, dissimilar = [], []
    for i, j in itertools.combinations_with_replacement(range(len(keys)), 2):
        target = similarity(keys[i], keys[j])
        (similar if target >= 0.5 else dissimilar).append((i, j, target))
    rng = random.Random(seed)
    rng.shuffle(similar)
    rng.shuffle(dissimilar)
    if not similar or not dissimilar:
        raise ValueError("Contrastive fine-tuning needs at least two different labels among the training rows.")
    each = min(max(len(similar), len(dissimilar)), max_pairs // 2)
    pairs = [similar[k % len(similar)] for k in range(each)] + [dissimilar[k % len(dissimilar)] for k in range(each)]
    rng.shuffle(pairs)
    return pairs


def fine_tune(
    encoder: Any,
    texts: Sequence[str],
    labels: Sequence[Any],
    seconds: float | None,
    seed: int,
    rows: str = "the training rows",
    epochs: int = 1,
    clock: Callable[[], float] = time.monotonic,
) -> ContrastiveResult:
    """Train the encoder on sampled pairs for `epochs` passes (SetFit's default: 1), or fewer steps when the
    `seconds` given would run out first; the encoder is left in eval mode."""
    pairs = sample_pairs(labels, seed)
    batches = [pairs[i : i + PAIR_BATCH] for i in range(0, len(pairs), PAIR_BATCH)] * epochs
    optimizer = torch.optim.AdamW(decay_groups(encoder), lr=BODY_LR)
    planned = total = len(batches)
    warmup = math.ceil(WARMUP * planned)
    started = first_done = clock()
    encoder.train()
    step = 0
    for step, batch in enumerate(batches, start=1):
        if step > total:
            break
        for group in optimizer.param_groups:
            group["lr"] = BODY_LR * linear_schedule(step - 1, warmup, total)
        preparing.report(f"Fine-tuning the encoder on pairs from {rows} (steps)", step - 1, total)
        loss = pair_loss(encoder, texts, batch)
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
    return ContrastiveResult(pairs=len(pairs), steps=min(step, total), seconds=round(clock() - started, 2))


def decay_groups(encoder: Any) -> list[dict[str, Any]]:
    """The weights decayed, and the biases and norms (the one-dimensional parameters) not, as transformers' Trainer
    (and so SetFit) groups them."""
    weights = [p for p in encoder.parameters() if p.requires_grad]
    return [
        {"params": [p for p in weights if p.ndim >= 2], "weight_decay": WEIGHT_DECAY},
        {"params": [p for p in weights if p.ndim < 2], "weight_decay": 0.0},
    ]


def pair_loss(encoder: Any, texts: Sequence[str], batch: list[tuple[int, int, float]]) -> torch.Tensor:
    """CosineSimilarityLoss: the squared gap between each pair's cosine and its target."""
    left = embed_with_grad(encoder, [texts[i] for i, _, _ in batch])
    right = embed_with_grad(encoder, [texts[j] for _, j, _ in batch])
    targets = torch.tensor([t for _, _, t in batch], device=left.device)
    return F.mse_loss(F.cosine_similarity(left, right), targets)


def embed_with_grad(encoder: Any, texts: list[str]) -> torch.Tensor:
    features = encoder.preprocess(texts)  # token tensors, and a "modality" tag the encoder reads as it is
    device = next(encoder.parameters()).device
    moved = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
    return encoder(moved)["sentence_embedding"]
