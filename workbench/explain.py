"""Why a run gave its answer: each word of the text with how much it pushed toward a label (or the value), and for
a model that reads numeric columns, each column's push. Attributions come from Captum (the well-kept library for
them), on the model's input: BERT's word-piece embeddings, merged back into the words of the text; the MLP's input
vector, whose columns are words, word pairs and numbers.

Methods (measured against each other in benchmarks/explain_faithfulness.py, figures in docs/benchmarks.md):
`integrated-gradients` (Captum's, from an all-padding text or an all-zero input, 8 steps in one batch; the default:
deleting the words it ranks first drops the label's probability 5x more than deleting random words, in under 1 s
for a 128-token text), `occlusion` (each word left out in turn: as faithful, 4-6x slower) and `gradient` (gradient
x input, one backward pass: fast, but no better than random words on a fine-tuned BERT). What is explained is the
label's log-probability (single-label), the label's log-odds (multi-label) or the value (regression).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .config import DEFAULT_EXPLAIN_METHOD, EXPLAIN_METHODS
from .labels import Task

GRADIENT, INTEGRATED_GRADIENTS, OCCLUSION = METHODS = EXPLAIN_METHODS
DEFAULT_METHOD = DEFAULT_EXPLAIN_METHOD
IG_STEPS = 8  # 16 steps were no more faithful (0.41 against 0.39 mean drop) and twice as slow
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Word:
    """A word of the text (part 0) or of the pair's second text (part 1): where it is, and its push."""

    start: int
    end: int
    score: float
    part: int = 0


@dataclass
class Explanation:
    target: str  # the label explained, or "value"
    output: float  # the model's probability of that label, or the value
    method: str
    text: str
    pair: str | None
    words: list[Word]
    features: dict[str, float] = field(default_factory=dict)  # numeric columns' pushes (the MLP)
    seconds: float = 0.0

    def top_words(self, k: int = 10) -> list[tuple[str, float]]:
        """The k words that pushed hardest, either way, with their scores."""
        ranked = sorted(self.words, key=lambda w: -abs(w.score))[:k]
        return [(self.word_text(w), w.score) for w in ranked]

    def word_text(self, word: Word) -> str:
        return (self.text if word.part == 0 else self.pair or "")[word.start : word.end]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "output": self.output,
            "method": self.method,
            "words": [{"word": self.word_text(w), "score": w.score, "part": w.part} for w in self.words],
            "features": self.features,
            "seconds": round(self.seconds, 4),
        }

    def shaded(self, part: int = 0) -> list[tuple[str, float | None]]:
        """The text as (piece, shade) for display: words shaded in [-1, 1] by their push, the gaps unshaded."""
        text = self.text if part == 0 else self.pair or ""
        words = sorted((w for w in self.words if w.part == part), key=lambda w: w.start)
        scale = max((abs(w.score) for w in self.words), default=0.0) or 1.0
        pieces: list[tuple[str, float | None]] = []
        at = 0
        for word in words:
            if word.start > at:
                pieces.append((text[at : word.start], None))
            pieces.append((text[word.start : word.end], round(word.score / scale, 4)))
            at = word.end
        if at < len(text):
            pieces.append((text[at:], None))
        return pieces


def target_score(task: Task, target: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """What is explained, from the model's raw outputs: log p(label), the label's log-odds, or the value."""
    if task == Task.SINGLE_LABEL:
        return lambda logits: torch.log_softmax(logits.float(), dim=-1)[:, target]
    return lambda logits: logits.float()[:, target]


def check_method(method: str) -> str:
    method = (method or DEFAULT_METHOD).strip().lower()
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got '{method}').")
    return method


# ---------------------------------------------------------------------------------------------- BERT


class BertExplainer:
    """Attributions on a BERT-family model's word-piece embeddings, merged into the words of the text."""

    def __init__(self, model: Any, tokenizer: Any, max_length: int):
        self.model, self.tokenizer, self.max_length = model.float().eval(), tokenizer, max_length

    def attribute(
        self, text: str, pair: str | None, features: Sequence[float], score: Callable, method: str
    ) -> tuple[list[Word], dict[str, float]]:
        encoded = self.tokenizer(
            text, pair, truncation=True, max_length=self.max_length, return_offsets_mapping=True, return_tensors="pt"
        )
        device = next(self.model.parameters()).device  # the scorer's: a GPU where there is one
        ids, mask = encoded["input_ids"].to(device), encoded["attention_mask"].to(device)
        extra = (mask, encoded["token_type_ids"].to(device)) if "token_type_ids" in encoded else (mask,)
        word_of = self._word_index(encoded)

        def forward(input_ids: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
            named = dict(zip(("attention_mask", "token_type_ids"), args))
            return score(self.model(input_ids=input_ids, **named).logits)

        special = torch.tensor([w is None for w in word_of], device=device).unsqueeze(0)
        padding = torch.where(special, ids, torch.full_like(ids, self.tokenizer.pad_token_id or 0))
        token_scores = self._token_scores(forward, ids, padding, extra, word_of, method)
        return self._words(encoded, word_of, token_scores), {}

    def _token_scores(
        self, forward: Callable, ids: torch.Tensor, padding: torch.Tensor, extra: tuple, word_of: list, method: str
    ) -> list[float]:
        from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients

        embeddings = self.model.get_input_embeddings()
        if method == INTEGRATED_GRADIENTS:
            explainer = LayerIntegratedGradients(forward, embeddings)
            scores = explainer.attribute(
                ids, padding, additional_forward_args=extra, n_steps=IG_STEPS, internal_batch_size=IG_STEPS
            )
        elif method == GRADIENT:
            scores = LayerGradientXActivation(forward, embeddings).attribute(ids, additional_forward_args=extra)
        else:  # occlusion: each word's pieces replaced by padding together
            number = {key: n for n, key in enumerate(dict.fromkeys(w for w in word_of if w is not None), start=1)}
            groups = torch.tensor([[0 if w is None else number[w] for w in word_of]], device=ids.device)
            with torch.no_grad():
                scores = FeatureAblation(forward).attribute(
                    ids,
                    baselines=padding,
                    additional_forward_args=extra,
                    feature_mask=groups,
                    perturbations_per_eval=16,
                )
            return [float(s) for s in scores[0]]
        return [float(s) for s in scores.detach().sum(-1)[0]]

    def _word_index(self, encoded: Any) -> list[tuple[int, int] | None]:
        """Each token's word as (part, word number), None for the special tokens."""
        sequence = encoded.sequence_ids(0)
        return [None if w is None else (sequence[i], w) for i, w in enumerate(encoded.word_ids(0))]

    @staticmethod
    def _words(encoded: Any, word_of: list, token_scores: list[float]) -> list[Word]:
        """Word pieces merged into words: a word's span runs from its first piece to its last, its score is their
        sum (occlusion scores each piece of a word with the word's score: counted once)."""
        spans: dict[tuple[int, int], list] = {}
        for i, key in enumerate(word_of):
            if key is None:
                continue
            start, end = (int(x) for x in encoded["offset_mapping"][0][i])
            span = spans.setdefault(key, [start, end, [], key[0]])
            span[0], span[1] = min(span[0], start), max(span[1], end)
            span[2].append(token_scores[i])
        return [Word(s, e, _merge(scores), part) for s, e, scores, part in spans.values()]


def _merge(scores: list[float]) -> float:
    same = len(set(scores)) == 1 and len(scores) > 1  # occlusion's pieces of one word carry the word's score
    return scores[0] if same else sum(scores)


# ---------------------------------------------------------------------------------------------- MLP


class MLPExplainer:
    """Attributions on the MLP's input vector (standardised numbers, then TF-IDF words and word pairs), from an
    all-zero input: no words, every number at its training mean. A word's score is its own column's plus half of
    each word pair's it is in, shared among its occurrences."""

    def __init__(self, model: Any, featurizer: Any, feature_names: Sequence[str]):
        self.model, self.featurizer, self.feature_names = model.float().eval(), featurizer, list(feature_names)

    def attribute(
        self, text: str, pair: str | None, features: Sequence[float], score: Callable, method: str
    ) -> tuple[list[Word], dict[str, float]]:
        from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients

        pairs = [pair or ""] if self.featurizer.pair else None
        x = self.featurizer.transform([text], [list(features)], pairs).to(next(self.model.parameters()).device)
        forward = lambda inputs: score(self.model(inputs))  # noqa: E731
        if method == INTEGRATED_GRADIENTS:
            columns = IntegratedGradients(forward).attribute(x, torch.zeros_like(x), n_steps=IG_STEPS)
        elif method == GRADIENT:
            columns = InputXGradient(forward).attribute(x)
        else:
            present = x[0] != 0  # only the columns the row has are left out, each in turn (the rest are 0 already)
            mask = torch.zeros_like(x, dtype=torch.long)
            mask[0, present] = torch.arange(1, int(present.sum()) + 1)
            with torch.no_grad():
                columns = FeatureAblation(forward).attribute(
                    x, baselines=0.0, feature_mask=mask, perturbations_per_eval=64
                )
        columns = [float(c) for c in columns.detach()[0]]
        numbers = dict(zip(self.feature_names, columns[: len(self.featurizer.means)]))
        words = self._words(text, self.featurizer.text.vocabulary, columns, len(self.featurizer.means), 0)
        if self.featurizer.pair is not None:
            offset = len(self.featurizer.means) + len(self.featurizer.text.vocabulary)
            words += self._words(pair or "", self.featurizer.pair.vocabulary, columns, offset, 1)
        return words, numbers

    @staticmethod
    def _words(text: str, vocabulary: dict[str, int], columns: list[float], offset: int, part: int) -> list[Word]:
        found = list(WORD.finditer(text))
        lowered = [m.group().lower() for m in found]
        share = [0.0] * len(found)
        for n, term in [(1, w) for w in lowered] + [(2, f"{a} {b}") for a, b in zip(lowered, lowered[1:])]:
            if term not in vocabulary:
                continue
            where = [i for i in range(len(found) - n + 1) if " ".join(lowered[i : i + n]) == term]
            for i in where:
                for j in range(i, i + n):
                    share[j] += columns[offset + vocabulary[term]] / len(where) / n
        return [Word(m.start(), m.end(), s, part) for m, s in zip(found, share)]


# ---------------------------------------------------------------------------------------------- entry point


def explain(
    predictor: Any,
    text: str,
    pair: str | None = None,
    features: Sequence[float] | None = None,
    target: str | None = None,
    method: str = DEFAULT_METHOD,
) -> Explanation:
    """Why `predictor`'s run answers `text` as it does: toward `target` (a label; the predicted one by default)."""
    method = check_method(method)
    if not (text or "").strip() and not predictor.feature_names:
        raise ValueError("Type a text to explain.")
    features = list(features) if features is not None else predictor.feature_defaults
    prediction = predictor.predict([text], [features] if predictor.feature_names else None, [pair or ""])[0]
    index, name, output = _target(predictor, prediction, target)
    began = time.perf_counter()
    words, numbers = predictor.scorer.explainer(predictor.feature_names).attribute(
        text, pair if predictor.reads_pairs else None, features, target_score(predictor.task, index), method
    )
    return Explanation(name, output, method, text, pair, words, numbers, time.perf_counter() - began)


def _target(predictor: Any, prediction: Any, target: str | None) -> tuple[int, str, float]:
    if predictor.task == Task.REGRESSION:
        return 0, "value", float(prediction.value)
    labels = list(predictor.labels)
    if target:
        name = target
    elif predictor.task == Task.SINGLE_LABEL:
        name = prediction.label
    else:  # multi-label: the likeliest of the labels given (of all labels when none is)
        name = max(prediction.labels or labels, key=prediction.probabilities.get)
    if name not in labels:
        raise ValueError(f"This run has no label '{name}'; its labels are: {', '.join(labels)}.")
    return labels.index(name), name, float(prediction.probabilities[name])
