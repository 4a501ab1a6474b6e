"""The CPU's cheaper ways compute the same model: the dropout drops a share p, scales the rest by 1/(1-p), repeats
with the seed, passes gradients through the same mask, and is the identity in eval mode; the attention gives eager
attention's outputs and gradients, padding masked."""

import copy

import pytest
import torch
from torch import nn
from transformers import BertConfig, BertForSequenceClassification

from workbench.models.cpu_training import CPU_ATTENTION, CpuDropout, for_cpu_training, random_int16, use_cpu_dropout


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


def test_in_eval_it_is_the_identity_and_bf16_stays_bf16():
    x = torch.randn(4, 8, dtype=torch.bfloat16)

    assert CpuDropout(0.1).eval()(x) is x
    assert CpuDropout(0.1).train()(x).dtype == torch.bfloat16


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


def tiny_bert_pair() -> tuple[nn.Module, nn.Module]:
    config = BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.5,  # large enough weights that attending to padding would show in the outputs
        attn_implementation="eager",
    )
    torch.manual_seed(0)
    eager = BertForSequenceClassification(config)
    cheap = BertForSequenceClassification(copy.deepcopy(config))  # its own config: the attention is set there
    cheap.load_state_dict(eager.state_dict())
    return eager, for_cpu_training(cheap)


def padded_batch() -> dict[str, torch.Tensor]:
    input_ids = torch.randint(1, 50, (3, 12))
    attention_mask = torch.ones(3, 12, dtype=torch.long)
    attention_mask[1, 7:] = 0  # a shorter text's padding must not be attended to
    attention_mask[2, 3:] = 0
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def test_the_cpu_attention_gives_eager_attentions_outputs_and_gradients():
    eager, cheap = tiny_bert_pair()
    batch = padded_batch()

    assert (eager.config._attn_implementation, cheap.config._attn_implementation) == ("eager", CPU_ATTENTION)
    outputs = [model.train().bert(**batch).last_hidden_state for model in (eager, cheap)]
    for hidden in outputs:
        hidden.square().sum().backward()
    assert torch.allclose(outputs[0], outputs[1], atol=1e-4)
    grads = [model.bert.encoder.layer[0].attention.self.query.weight.grad for model in (eager, cheap)]
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4)


def test_the_cpu_attention_does_not_attend_to_padding():
    _, cheap = tiny_bert_pair()
    batch = padded_batch()
    shorter = {key: value[1:2, :7] for key, value in batch.items()}  # row 1 alone, without its padding

    with torch.no_grad():
        padded, alone = (cheap.eval().bert(**inputs).last_hidden_state for inputs in (batch, shorter))

    assert torch.allclose(padded[1, :7], alone[0], atol=1e-4)


def test_under_bf16_autocast_the_cpu_attention_is_as_close_to_fp32_as_eager_is():
    eager, cheap = tiny_bert_pair()
    batch = padded_batch()

    with torch.no_grad():
        exact = eager.eval().bert(**batch).last_hidden_state
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ours, eagers = (model.eval().bert(**batch).last_hidden_state.float() for model in (cheap, eager))

    assert (ours - exact).abs().max() < 2 * (eagers - exact).abs().max() + 1e-3  # bf16 rounding, as autocast
