"""The sentence-encoder family's head: a linear layer over the text's sentence embedding and its TF-IDF bag of
words and word pairs, fitted to convergence as an L2-regularised logistic regression (scikit-learn's
`LogisticRegression(C=1)` objective, with the workbench's class weights) by full-batch L-BFGS.

Why both inputs: the embedding carries what a sentence means, the bag the exact words of the domain (a drug's
name, "spotting"); on the drug reviews the two together scored higher than either alone with both encoders, and
steadier (docs/encoders.md). Why a solver and not the epochs of the training loop: the objective is convex, so its
optimum is one model whatever the seed, while epochs chosen on a hundred validation rows moved the test macro-F1
by 0.05 from seed to seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from .mlp import Featurizer

C = 1.0  # the inverse L2 strength, scikit-learn's default (SetFit's head uses it too); not tuned to any set
MAX_ITERATIONS = 500


class Head(nn.Module):
    """`output(embeddings) + words(bag)`: a linear layer on the embedding and, where the run has a bag of words,
    one on its TF-IDF vector (no bias of its own)."""

    def __init__(self, n_in: int, n_outputs: int, n_words: int = 0):
        super().__init__()
        self.output = nn.Linear(n_in, n_outputs)
        self.words = nn.Linear(n_words, n_outputs, bias=False) if n_words else None

    def forward(self, embeddings: torch.Tensor, words: torch.Tensor | None = None) -> torch.Tensor:
        logits = self.output(embeddings)
        if self.words is None or words is None:
            return logits
        if words.is_sparse:
            return logits + torch.sparse.mm(words, self.words.weight.t())
        return logits + self.words(words)

    @torch.no_grad()
    def scale_outputs(self, std: float, mean: float) -> None:
        """Answer `output * std + mean` (a regression's target unit): both layers' weights scaled, the bias moved."""
        self.output.weight.mul_(std)
        self.output.bias.mul_(std).add_(mean)
        if self.words is not None:
            self.words.weight.mul_(std)


def fit_bag(rows: dict[str, list]) -> Featurizer:
    """The TF-IDF bag of the training texts (and of the pairs' second texts), the MLP family's featurizer with no
    numeric columns."""
    return Featurizer.fit(rows["text"], [], rows.get("text_pair"))


def bag_matrix(bag: Featurizer, rows: dict[str, Any]) -> torch.Tensor:
    """The rows' TF-IDF vectors as one sparse (rows, terms) matrix: a few hundred rows by 20,000 terms dense
    would be tens of MB for a few thousand non-zeros."""
    text_rows = bag.encode_texts(rows["text"], rows.get("text_pair"))
    cells = [(r, column, value) for r, row in enumerate(text_rows) for column, value in row]
    indices = torch.tensor([[r for r, _, _ in cells], [c for _, c, _ in cells]], dtype=torch.long).view(2, -1)
    values = torch.tensor([v for _, _, v in cells], dtype=torch.float32)
    return torch.sparse_coo_tensor(indices, values, (len(text_rows), bag.size), check_invariants=True).coalesce()


class Fitted(NamedTuple):
    head: Head
    bag: Featurizer | None  # None: a head on the embedding alone
    words: torch.Tensor | None  # the rows' TF-IDF vectors (sparse), kept for the training loader
    iterations: int


def fitted_head(
    embeddings: torch.Tensor, rows: dict[str, list], loss: Callable, n_outputs: int, words: bool = True
) -> Fitted:
    """A head fitted on the rows' embeddings and, with `words`, on a bag of their words."""
    if not words:
        head = Head(embeddings.shape[1], n_outputs)
        return Fitted(head, None, None, fit_head(head, embeddings, None, torch.tensor(rows["label"]), loss))
    bag = fit_bag(rows)
    words = bag_matrix(bag, rows)
    head = Head(embeddings.shape[1], n_outputs, bag.size)
    iterations = fit_head(head, embeddings, words, torch.tensor(rows["label"]), loss)
    return Fitted(head, bag, words, iterations)


def dense_rows(matrix: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return matrix.index_select(0, index).to_dense()


def fit_head(
    head: Head,
    embeddings: torch.Tensor,
    words: torch.Tensor | None,
    labels: torch.Tensor,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> int:
    """Fit the head to the minimum of `loss + |W|^2 / (2 C n)` (n: the loss's terms; the biases are not
    penalised, as in scikit-learn); returns the L-BFGS iterations taken. Deterministic: the start is zero."""
    for parameter in head.parameters():
        nn.init.zeros_(parameter)
    embeddings = embeddings.clone()  # out of inference mode (the encoder's), so autograd may keep it
    penalised = [head.output.weight] + ([head.words.weight] if head.words is not None else [])
    strength = 1.0 / (2 * C * labels.numel())
    optimizer = torch.optim.LBFGS(
        head.parameters(), lr=1, max_iter=MAX_ITERATIONS, history_size=20, line_search_fn="strong_wolfe"
    )

    def objective() -> torch.Tensor:
        optimizer.zero_grad()
        value = loss(head(embeddings, words), labels) + strength * sum((w * w).sum() for w in penalised)
        value.backward()
        return value

    with torch.enable_grad():
        optimizer.step(objective)
    return int(optimizer.state[head.output.weight].get("n_iter", 0))  # L-BFGS keeps its state on the first


class HeadExplainer:
    """Why the head answers as it does, in two parts that add up to the change from no text at all: the encoder's
    share (integrated gradients through encoder and embedding head, as for BERT, with the bag empty) and the words'
    share (attributions on the TF-IDF vector with the embedding as it is, as for the MLP), summed per word."""

    def __init__(self, encoder_part: Any, head: Head, bag: Featurizer, embed: Callable[[str, str | None], Any]):
        self.encoder_part, self.head, self.bag, self.embed = encoder_part, head, bag, embed

    def attribute(
        self, text: str, pair: str | None, features: Sequence[float], score: Callable, method: str
    ) -> tuple[list[Any], dict[str, float]]:
        from ..explain import MLPExplainer

        words, _ = self.encoder_part.attribute(text, pair, features, score, method)
        words_only = WordsOnly(self.head, self.embed(text, pair))
        bag_words, _ = MLPExplainer(words_only, self.bag, []).attribute(text, pair, [], score, method)
        return merge_words(words, bag_words), {}


class WordsOnly(nn.Module):
    """The head as a function of the bag's vector alone, the embedding held at the text's own."""

    def __init__(self, head: Head, embedding: torch.Tensor):
        super().__init__()
        self.head, self.embedding = head, embedding

    def forward(self, bag_vector: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding.expand(len(bag_vector), -1), bag_vector)


def merge_words(words: list[Any], extra: list[Any]) -> list[Any]:
    """`words` with each of `extra`'s scores added to the word it overlaps (a word of its own where none does)."""
    from ..explain import Word

    merged = list(words)
    for item in extra:
        at = next(
            (i for i, w in enumerate(merged) if w.part == item.part and w.start < item.end and item.start < w.end),
            None,
        )
        if at is None:
            merged.append(item)
        else:
            w = merged[at]
            merged[at] = Word(w.start, w.end, w.score + item.score, w.part)
    return sorted(merged, key=lambda w: (w.part, w.start))
