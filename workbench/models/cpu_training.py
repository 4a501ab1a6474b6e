"""The same fine-tuning, computed the CPU's cheaper way: dropout masks drawn 16 bits an element, and attention that
stays in bf16 between its two matrix products. Neither changes the weights, the config or what `save_pretrained`
writes; only the modules a run trains with.

Why, from PyTorch's profiler on MiniLM training steps of drug reviews (batch 16, bf16 autocast, this project's CPU):
- dropout's `bernoulli_` draws one random number per element: 5 ms for one layer's hidden states (125 tokens) against
  0.1 ms for multiplying them, about a tenth of a step for the 13 hidden dropouts. One 64-bit draw here gives the
  keep-or-drop decisions of four elements (each a 16-bit number against p's threshold, p rounded to 1/65,536).
- the eager attention under autocast adds the fp32 padding mask to bf16 scores, so softmax and its gradient run on
  an fp32 copy of every batch x heads x length^2 score and are cast back for the product with the values: those
  casts were the largest cost outside the matrix products. Here the scores stay in the values' precision (PyTorch's
  softmax accumulates in fp32 inside the kernel either way; autocast rounded the weights to bf16 for the product too).
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, eager_mask

LEVELS = 1 << 16  # one decision per 16-bit number
CPU_ATTENTION = "workbench_cpu"


class CpuDropout(nn.Module):
    """`nn.Dropout(p)` in training and identity in eval, with the mask drawn 16 bits an element."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.threshold = round(p * LEVELS) - LEVELS // 2  # int16 values below it are dropped: a share p of them

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = random_int16(x.shape) >= self.threshold
        return x * keep.to(x.dtype).mul_(1 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def random_int16(shape: torch.Size) -> torch.Tensor:
    """Uniform int16 values from the default generator (so a seed repeats them), four from each 64-bit draw."""
    n = shape.numel()
    draws = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(1 << 63), None)  # all 64 bits random
    return draws.view(torch.int16)[:n].view(shape)


def use_cpu_dropout(model: nn.Module) -> int:
    """Replace every `nn.Dropout` that drops by a `CpuDropout` of the same p; returns how many."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout and child.p > 0:
                setattr(parent, name, CpuDropout(child.p))
                replaced += 1
    return replaced


def cpu_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' eager attention with the scores kept in the values' precision instead of autocast's fp32 round
    trip."""
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    dtype = value.dtype
    with torch.autocast("cpu", enabled=False):
        scores = torch.matmul(query.to(dtype) * scaling, key.to(dtype).transpose(2, 3))
        if attention_mask is not None and attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(dtype).min)
        elif attention_mask is not None:
            scores = scores + attention_mask.to(dtype)
        weights = torch.softmax(scores, dim=-1)
        if dropout and module.training:  # not in the engine's CPU runs, which build the model without it
            weights = nn.functional.dropout(weights, p=dropout)
        output = torch.matmul(weights, value)
    return output.transpose(1, 2).contiguous(), weights


AttentionInterface.register(CPU_ATTENTION, cpu_attention)
AttentionMaskInterface.register(CPU_ATTENTION, eager_mask)  # padding as eager's additive mask (none: no mask at all)


def for_cpu_training(model: nn.Module) -> nn.Module:
    """The model with the cheaper dropout, and the cheaper attention where its class takes transformers' attention
    functions (BERT, RoBERTa, DistilBERT...; others keep the eager one). Built without attention dropout."""
    use_cpu_dropout(model)
    if getattr(model, "is_backend_compatible", lambda: False)():
        model.set_attn_implementation(CPU_ATTENTION)
    return model
