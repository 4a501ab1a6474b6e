"""A BERT-family run served from its ONNX export: the graph `torch.onnx.export` traces (logits alone, the last
layer computed for the first token only, which is all the classification head reads) and the scorer that runs the
exported file in ONNX Runtime, reading texts as `BertScorer` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from ..data import ModelInputs
from .base import OnnxModule
from .bert import BertFamily, BertScorer, encode, length_sorted_batches, model_max_length

ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # what the exported graph takes, as named
ONNX_BATCH = 8  # ONNX Runtime ran the MiniLM 5-13% faster in batches of 8 texts than of 32 (docs/benchmarks.md)


class LogitsOnly(torch.nn.Module):
    """A classifier called with its input tensors in the order `names` gives, answering its logits alone: the shape
    `torch.onnx.export` traces into a graph of the same inputs and outputs as `BertScorer` feeds and reads."""

    def __init__(self, model: PreTrainedModel, names: Sequence[str]):
        super().__init__()
        self.model, self.names = model, list(names)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, tensors))).logits


class FirstTokenLayer(torch.nn.Module):
    """The encoder's last layer computed for the first token alone, the only one the classification head reads
    (BERT's pooler, RoBERTa's head): its keys and values still come from every token, so the first token's output
    is the whole layer's, but the queries, attention output and feed-forward of the other tokens are not computed:
    14% of a 6-layer MiniLM's matrix products, which ran the export 9-14% faster with the same logits
    (docs/benchmarks.md)."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer

    @staticmethod
    def fits(layer: torch.nn.Module) -> bool:
        """A BERT-shaped layer (BERT, RoBERTa, ELECTRA...): other layouts export whole."""
        attention = getattr(layer, "attention", None)
        parts = (getattr(attention, "self", None), getattr(attention, "output", None))
        return all(parts) and hasattr(layer, "feed_forward_chunk") and hasattr(parts[0], "scaling")

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None, *_: Any, **__: Any):
        attention = self.layer.attention.self
        batch, first = hidden.shape[0], hidden[:, :1]
        heads, size = attention.num_attention_heads, attention.attention_head_size

        def split(states: torch.Tensor) -> torch.Tensor:
            return states.view(batch, -1, heads, size).transpose(1, 2)

        query, key, value = split(attention.query(first)), split(attention.key(hidden)), split(attention.value(hidden))
        scores = torch.matmul(query, key.transpose(2, 3)) * attention.scaling
        if attention_mask is not None:  # (batch, 1, 1 or tokens, tokens): the first query's row
            scores = scores + attention_mask[:, :, :1, :]
        context = torch.matmul(scores.softmax(dim=-1), value).transpose(1, 2).reshape(batch, 1, heads * size)
        return self.layer.feed_forward_chunk(self.layer.attention.output(context, first))


def first_token_head(model: PreTrainedModel) -> PreTrainedModel:
    """The model with its last layer computed for the first token alone, where the layer's layout allows it."""
    layers = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if isinstance(layers, torch.nn.ModuleList) and FirstTokenLayer.fits(layers[-1]):
        layers[-1] = FirstTokenLayer(layers[-1])
    return model


def onnx_module(run_dir: Path) -> OnnxModule:
    """The saved classifier, in fp32 on the CPU, to export; the batch and the sequence length stay free."""
    # eager attention: ONNX Runtime's transformer optimizer fuses its graph into one Attention node per layer (the
    # SDPA graph it leaves as a dozen nodes), which made the int8 model about twice as fast (docs/benchmarks.md)
    model = AutoModelForSequenceClassification.from_pretrained(
        run_dir, use_safetensors=True, trust_remote_code=False, attn_implementation="eager"
    ).float()
    tokenizer = AutoTokenizer.from_pretrained(run_dir, trust_remote_code=False)
    # two texts of different lengths, so the traced graph pads and masks as a real batch does
    example = tokenizer(["an example text to trace the model with", "a short one"], padding=True, return_tensors="pt")
    names = [name for name in ONNX_INPUTS if name in example]  # some families (DistilBERT) take no token types
    config = model.config
    return OnnxModule(
        LogitsOnly(first_token_head(model.eval()), names),
        {name: example[name] for name in names},
        {name: {0: "batch", 1: "sequence"} for name in names},
        fusions={"model_type": "bert", "num_heads": config.num_attention_heads, "hidden_size": config.hidden_size},
    )


class OnnxBertScorer:
    """`BertScorer`'s reading of texts (whole up to the model's limit, tokenized once, batched longest first), with
    the model run by an ONNX Runtime session of the run's export."""

    def __init__(self, session: Any, run_dir: Path):
        self.session, self.run_dir = session, run_dir
        self.pytorch: BertScorer | None = None  # for explanations only
        config = AutoConfig.from_pretrained(run_dir, trust_remote_code=False)
        self.tokenizer = AutoTokenizer.from_pretrained(run_dir, trust_remote_code=False)
        self.max_length, self.n_outputs = model_max_length(config, self.tokenizer), config.num_labels
        self.input_names = [node.name for node in session.get_inputs()]

    def logits(self, inputs: ModelInputs) -> torch.Tensor:
        out = torch.empty(len(inputs.texts), self.n_outputs)
        encoded = encode(self.tokenizer, inputs.texts, inputs.pairs, self.max_length)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        for batch in length_sorted_batches(lengths, ONNX_BATCH):
            rows = {name: [encoded[name][i] for i in batch] for name in self.input_names}
            feed = self.tokenizer.pad(rows, return_tensors="np")
            out[batch] = torch.from_numpy(self.session.run(["logits"], {k: feed[k] for k in self.input_names})[0])
        return out

    def explainer(self, feature_names: Any = ()) -> Any:
        # explaining takes gradients, which only the PyTorch model gives: loaded when first asked for, then kept
        if self.pytorch is None:
            self.pytorch = BertFamily().load(self.run_dir)
        return self.pytorch.explainer(feature_names)
