"""Scoring the validation rows during training, across processes: each process scores a share of whole batches,
and the outputs are gathered once at the end."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object
from torch.utils.data import DataLoader

from .devices import synchronize
from .tasks import TaskRules


def logits_of(output: Any) -> torch.Tensor:
    return output if isinstance(output, torch.Tensor) else output.logits


def shard_batches(loader: DataLoader, accelerator: Accelerator) -> DataLoader:
    """This process's share of the evaluation batches: whole batches dealt out in turn, so every row is scored by
    exactly one process. (accelerate's sharding pads the last batches with repeated rows and trims them again
    only for equal-sized batches; the BERT loader's batches are sorted by length and vary in size.)"""
    if accelerator.num_processes == 1:
        return loader
    batches = list(loader.batch_sampler)[accelerator.process_index :: accelerator.num_processes]
    return DataLoader(loader.dataset, batch_sampler=batches, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory)


def predict_loader(
    model: torch.nn.Module,
    loader: Any,
    accelerator: Accelerator,
    rules: TaskRules,
    autocast: Callable[[], Any] = contextlib.nullcontext,
) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Mean (unweighted) loss, the logits and the labels of this process's share of the rows, on the CPU, gathered
    across processes once at the end (the shares differ in size, which a per-batch gather cannot take)."""
    model = accelerator.unwrap_model(model)  # no DDP: processes may run different numbers of batches
    model.eval()
    total_loss, all_logits, all_labels = 0.0, [], []
    with torch.inference_mode():
        for batch in loader:
            batch = {k: v.to(accelerator.device, non_blocking=True) for k, v in batch.items()}
            labels = batch.pop("labels")
            with autocast():
                logits = logits_of(model(**batch)).float()
            total_loss += rules.loss(logits, labels, weighted=False).item() * len(labels)
            all_logits.append(logits.cpu())
            all_labels.append(labels.cpu())
    model.train()
    shares = [(total_loss, all_logits, all_labels)]
    if accelerator.num_processes > 1:
        shares = gather_object(shares)
    logits = torch.cat([t for share in shares for t in share[1]])
    labels = torch.cat([t for share in shares for t in share[2]])
    return sum(share[0] for share in shares) / max(len(labels), 1), logits, labels


def evaluation_estimate(
    model: torch.nn.Module,
    loader: Any,
    device: torch.device,
    autocast: Callable[[], Any],
    clock: Callable[[], float],
) -> float:
    """What scoring all of `loader` will take, before it has been done once: the first batch (the longest rows come
    first) scored and timed, scaled by the padded size of all the batches."""
    sizes = [sum(v.numel() for k, v in batch.items() if k != "labels") for batch in loader]
    if not sizes:
        return 0.0
    first = {k: v.to(device) for k, v in next(iter(loader)).items() if k != "labels"}
    began = clock()
    model.eval()
    with torch.inference_mode(), autocast():
        model(**first)
    synchronize(device)
    model.train()
    return (clock() - began) * sum(sizes) / sizes[0]
