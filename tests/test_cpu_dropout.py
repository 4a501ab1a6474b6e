"""The CPU's cheaper dropout is dropout: it drops a share p, scales the rest by 1/(1-p), repeats with the seed,
passes gradients through the same mask, and is the identity in eval mode."""

import pytest
import torch
from torch import nn

from workbench.models.cpu_dropout import CpuDropout, random_int16, use_cpu_dropout


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_it_drops_a_share_p_and_scales_the_rest(p):
    x = torch.ones(64, 128, 32)

    y = CpuDropout(p).train()(x)

    kept = y != 0
    assert abs(1 - kept.float().mean().item() - p) < 0.01  # 262,144 draws: a standard error near 0.001
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / (1 - p)))


def test_its_draws_use_all_sixteen_bits_and_follow_the_seed():
    torch.manual_seed(0)
    values = random_int16(torch.Size([100_000]))
    torch.manual_seed(0)

    assert torch.equal(values, random_int16(torch.Size([100_000])))
    assert values.min() == -32768 and values.max() == 32767
    assert abs(values.float().mean().item()) < 400  # uniform: mean 0, standard error about 60


def test_gradients_pass_through_the_kept_elements_only():
    x = torch.randn(8, 16, requires_grad=True)

    y = CpuDropout(0.25).train()(x)
    y.sum().backward()

    assert torch.equal(x.grad != 0, y != 0)
    assert torch.allclose(x.grad[y != 0], torch.full_like(x.grad[y != 0], 1 / 0.75))


def test_in_eval_it_is_the_identity_and_bf16_stays_bf16_and_unbiased():
    x = (1 + torch.rand(256, 1024)).bfloat16()

    y = CpuDropout(0.1).train()(x)

    kept = y != 0
    assert CpuDropout(0.1).eval()(x) is x
    assert y.dtype == torch.bfloat16
    # each kept value times 1/0.9, rounded once: the scale itself in bf16 (1.109) would make them 0.16% low
    assert abs((y[kept].float() / x[kept].float()).mean().item() - 1 / 0.9) < 0.0005
    assert torch.equal(CpuDropout(1.0).train()(x), torch.zeros_like(x))


def test_only_dropouts_that_drop_are_replaced():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1), nn.Sequential(nn.Dropout(0.2), nn.Dropout(0.0)))

    assert use_cpu_dropout(model) == 2
    assert [type(m).__name__ for m in model.modules()][1:] == [
        "Linear",
        "CpuDropout",
        "Sequential",
        "CpuDropout",
        "Dropout",
    ]
    assert model[2][0].p == 0.2
