"""Where training runs: the device, its precision and memory, and this process's place among several.

The same code serves a laptop's CPU, one GPU (bf16, or fp16 where bf16 is missing, with pinned memory and
non-blocking copies) and several GPUs or machines under `accelerate launch` (data parallel, one process each).
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import time
from collections.abc import Iterator

import accelerate.optimizer
import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import DataLoaderConfiguration
from accelerate.utils.imports import is_lomo_available

from . import trackers
from .config import TrainConfig
from .deployment import env_flag


def parameter_count(model: torch.nn.Module) -> int:
    """The model's size, which decides its threads and precision here (and is shown beside every model)."""
    return sum(p.numel() for p in model.parameters())


def _cache_lomo_lookup() -> None:
    """accelerate's optimizer wrapper asks importlib twice per step whether the LOMO optimiser is installed, a
    noticeable share of a small model's step (docs/benchmarks.md); installed packages do not change mid-run."""
    if not hasattr(accelerate.optimizer.is_lomo_available, "cache_info"):
        accelerate.optimizer.is_lomo_available = functools.cache(is_lomo_available)


def cpu_processes() -> bool:
    """Whether this process must use the CPU although accelerate may look for a GPU.

    Several processes without CUDA train on the CPU over gloo, but accelerate picks that only when told it is on
    the CPU, and `accelerate launch --cpu` starts a single process (several need MPI). So a launch of several
    processes (`accelerate launch --multi_gpu`, i.e. torchrun) on a machine without CUDA counts as CPU processes.
    """
    if env_flag("ACCELERATE_USE_CPU"):
        return True
    return not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1


def process_state() -> PartialState:
    """This process's place among those `accelerate launch` started (one, unless launched so); the CLI asks it
    whether it is the main process, the one that prints."""
    return PartialState(cpu=cpu_processes())


def make_accelerator(config: TrainConfig) -> Accelerator:
    """One accelerator per run: mixed precision and non-blocking copies of pinned batches on a GPU, and the
    experiment trackers the run reports to (none unless asked for; a missing package is refused here)."""
    trackers.require_packages(config.report_to)
    _cache_lomo_lookup()
    on_cpu = cpu_processes()
    on_gpu = torch.cuda.is_available() and not on_cpu
    return Accelerator(
        cpu=on_cpu,
        mixed_precision=mixed_precision() if on_gpu else "no",
        gradient_accumulation_steps=config.grad_accumulation,
        dataloader_config=DataLoaderConfiguration(non_blocking=on_gpu),
        log_with=list(config.report_to) or None,
        project_dir=config.output if config.report_to else None,  # trackers.start sets the run's own folder
    )


def mixed_precision() -> str:
    """bf16 on a GPU that has it, fp16 on an older GPU, full precision on the CPU."""
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def device_summary() -> str:
    """The device training will use, in words, for the page and the CLI."""
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return (
            f"GPU: {props.name} ({props.total_memory / 2**30:.0f} GiB, {mixed_precision()}), "
            f"{torch.cuda.device_count()} device(s)"
        )
    precision = "bf16 autocast for BERT" if native_bf16(torch.device("cpu")) else "full precision"
    return f"CPU ({os.cpu_count()} cores, {precision}); no GPU found"


def describe_device(accelerator: Accelerator) -> str:
    """The device of a run, as recorded in its run.json: `cpu`, `cuda (NVIDIA H100)`, plus the process count."""
    device = str(accelerator.device)
    if accelerator.device.type == "cuda":
        device = f"cuda ({torch.cuda.get_device_name(accelerator.device)})"
    return device if accelerator.num_processes == 1 else f"{device} x {accelerator.num_processes} processes"


# parameters; below this one CPU thread beats several (no sync on tiny matrices), and bf16 has nothing to speed up
SMALL_MODEL = 5_000_000


@contextlib.contextmanager
def cpu_threads_for(model: torch.nn.Module, device: torch.device) -> Iterator[None]:
    """Run a small model on one CPU thread: its matrices are too small to split, and on a busy machine the
    threads' hand-offs cost more than the work (docs/benchmarks.md)."""
    small = device.type == "cpu" and parameter_count(model) < SMALL_MODEL
    before = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a GPU runs behind Python), so that a clock read after it is true."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


X86_MACHINES = ("x86_64", "amd64", "i386", "i686")


def native_bf16(device: torch.device) -> bool:
    """Whether this device multiplies bf16 matrices in hardware (a recent GPU; a CPU with AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        if platform.machine().lower() in X86_MACHINES:
            # oneDNN calls bf16 "supported" on any AVX-512 CPU, where it is emulated: on one without AVX512-BF16,
            # 35.1 GFLOP/s against fp32's 122.9 (1024x1024 matmuls, quiet; docs/benchmarks.md). Only the instructions
            # make it fast.
            return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # e.g. an ARM CPU with its BF16 extension
    except (AttributeError, RuntimeError):
        return False


def training_precision(accelerator: Accelerator, model: torch.nn.Module, cpu_bf16: bool) -> str:
    """The precision a run trains in: accelerate's on a GPU; on a CPU with bf16 hardware, bf16 autocast for models
    large enough to gain from it (weights, gradients and optimiser state stay fp32, only the matmuls run in bf16),
    full precision otherwise."""
    device = accelerator.device
    if device.type != "cpu":
        return accelerator.mixed_precision
    return "bf16" if cpu_bf16 and native_bf16(device) and parameter_count(model) >= SMALL_MODEL else "no"


def training_device() -> torch.device:
    """The device a run here trains on, a CUDA GPU or the CPU, known before an accelerator is made."""
    return torch.device("cuda" if torch.cuda.is_available() and not cpu_processes() else "cpu")


def matmul_gflops(dtype: torch.dtype, device: torch.device = torch.device("cpu")) -> float:
    """GFLOP/s of a 1024 x 1024 matmul on `device` in `dtype`, the best of 20 after a warm-up: the machine's peak for
    what costs most in training (the benchmarks compare against it). Its own random numbers: auto calls it after
    the run's seed is set, and the model must start the same whether auto or the user named it."""
    numbers = torch.Generator().manual_seed(0)
    a, b = (torch.randn(1024, 1024, generator=numbers).to(device, dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(20):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * 1024**3 / best / 1e9


@functools.cache
def training_matmul_gflops() -> float:
    """`matmul_gflops` on the training device in the precision BERT trains in there (bf16 where the hardware has
    it): how auto scales the base models' measured costs to this machine (models/catalog.py). About 0.2 s on a
    2-core CPU, once a process."""
    device = training_device()
    return matmul_gflops(torch.bfloat16 if native_bf16(device) else torch.float32, device)


def autocast_on_cpu(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Our own bf16 autocast on the CPU. Not accelerate's `mixed_precision`: a process has one accelerator state
    and it refuses a second precision, while the app trains BERT (bf16) and MLPs (fp32) in the same process."""
    if device.type == "cpu" and precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def fast_matmuls(device: torch.device, model: torch.nn.Module) -> contextlib.AbstractContextManager:
    """bf16 autocast where the hardware has it and the model is large enough to gain from it: faster, with the
    labels of full precision (docs/benchmarks.md); elsewhere full precision."""
    if native_bf16(device) and (device.type != "cpu" or parameter_count(model) >= SMALL_MODEL):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
