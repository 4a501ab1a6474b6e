"""Which precision a CPU gets: bf16 only where its instructions make it fast, and only for models large enough to
gain from it; the CPU's features are faked, so each case runs on any machine."""

import contextlib

import pytest
import torch

from workbench import devices

CPU = torch.device("cpu")


def fake_cpu(monkeypatch, machine: str, avx512_bf16: bool = False, amx: bool = False, onednn_bf16: bool = True):
    monkeypatch.setattr(devices.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn_bf16, raising=False)


def test_an_avx512_cpu_without_its_bf16_instructions_trains_in_full_precision(monkeypatch):
    fake_cpu(monkeypatch, "x86_64", avx512_bf16=False, amx=False, onednn_bf16=True)  # oneDNN would emulate bf16

    assert not devices.native_bf16(CPU)


@pytest.mark.parametrize("avx512_bf16, amx", [(True, False), (False, True)], ids=["AVX512-BF16", "AMX"])
def test_an_x86_cpu_with_bf16_instructions_gets_bf16(monkeypatch, avx512_bf16, amx):
    fake_cpu(monkeypatch, "x86_64", avx512_bf16=avx512_bf16, amx=amx, onednn_bf16=False)

    assert devices.native_bf16(CPU)


@pytest.mark.parametrize("onednn_bf16", [True, False])
def test_another_cpu_takes_onednns_answer(monkeypatch, onednn_bf16):
    fake_cpu(monkeypatch, "aarch64", onednn_bf16=onednn_bf16)

    assert devices.native_bf16(CPU) is onednn_bf16


def test_predicting_on_a_bf16_cpu_uses_bf16_for_a_large_model_and_full_precision_for_a_small_one(monkeypatch):
    fake_cpu(monkeypatch, "x86_64", avx512_bf16=True)
    large = torch.nn.Linear(2300, 2300)  # 5.3 M parameters, over devices.SMALL_MODEL
    small = torch.nn.Linear(10, 2)

    with devices.fast_matmuls(CPU, large):
        assert torch.is_autocast_enabled("cpu")
    assert isinstance(devices.fast_matmuls(CPU, small), contextlib.nullcontext)
