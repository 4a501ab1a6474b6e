"""The contrastive loop of the sentence-encoder family (models/contrastive.py): every pair within a batch of texts,
weighed as SetFit's oversampling weighs its pairs, SetFit's trainer settings and step count, and the steps re-fitted
to the time left."""

import pytest
import torch


def test_contrastive_steps_are_refitted_to_the_time_left_after_a_slow_first_step(tiny_encoder_dir, monkeypatch):
    from sentence_transformers import SentenceTransformer

    from workbench.models import contrastive

    clock = {"now": 0.0, "steps": 0}

    def timed_loss(encoder, texts, targets):  # the first step takes 10 s (warming up), every later one 1 s
        clock["steps"] += 1
        clock["now"] += 10.0 if clock["steps"] == 1 else 1.0
        return sum(p.sum() for p in encoder.parameters()) * 0.0

    monkeypatch.setattr(contrastive, "batch_loss", timed_loss)
    encoder = SentenceTransformer(str(tiny_encoder_dir), device="cpu")
    labels = [i % 2 for i in range(40)]  # 53 steps planned, as SetFit would take

    result = contrastive.fine_tune(encoder, ["a text"] * 40, labels, 20.0, 0, clock=lambda: clock["now"])

    assert result.steps == 11 and clock["steps"] == 11  # 10 s left after the first step, at 1 s a step
    assert result.seconds == 20.0


def test_contrastive_optimizer_follows_setfit_trainer(tiny_encoder_dir):
    from sentence_transformers import SentenceTransformer
    from transformers import get_linear_schedule_with_warmup

    from workbench.budget import linear_schedule
    from workbench.models.contrastive import decay_groups

    encoder = SentenceTransformer(str(tiny_encoder_dir), device="cpu")
    decayed, kept = decay_groups(encoder)
    names = {id(p): n for n, p in encoder.named_parameters()}
    assert kept["weight_decay"] == 0.0 and decayed["weight_decay"] == 0.01
    assert all("bias" in names[id(p)] or "LayerNorm" in names[id(p)] for p in kept["params"])
    assert not any("bias" in names[id(p)] for p in decayed["params"])
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    theirs = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=3, num_training_steps=20)
    for done in range(20):  # the factor of each step, as transformers' scheduler gives it before that step
        assert linear_schedule(done, 3, 20) == pytest.approx(theirs.get_last_lr()[0])
        optimizer.step()
        theirs.step()


def test_contrastive_steps_are_as_many_as_setfit_oversampling_takes():
    from workbench.models import contrastive

    # 10 similar pairs (self-pairs included: 6 + 3 + 1), 11 dissimilar (3*2 + 3*1 + 2*1), the larger kind: 22 pairs
    assert contrastive.setfit_steps([0, 0, 0, 1, 1, 2]) == 2  # in batches of 16 pairs
    assert contrastive.setfit_steps([0, 0, 0, 1, 1, 2], max_pairs=16) == 1
    labels = [i % 3 for i in range(2500)]  # counted in slices of 1,024 rows, each pair once
    # 834 rows of class 0 and 833 of the others: 348,195 + 2 * 347,361 similar, 2,083,333 dissimilar pairs
    assert contrastive.setfit_steps(labels, max_pairs=10**7) == 260_417  # 2 * 2,083,333 / 16, rounded up
    with pytest.raises(ValueError, match="two different labels"):
        contrastive.setfit_steps([1, 1, 1])


def test_label_similarity_is_the_class_match_or_the_labels_shared():
    from workbench.models.contrastive import similarity_matrix

    assert similarity_matrix([0, 1, 0], [0, 1]).tolist() == [[1, 0], [0, 1], [1, 0]]
    multi = [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert similarity_matrix(multi, multi).tolist() == [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]]


def test_contrastive_loss_weighs_similar_and_dissimilar_pairs_of_a_batch_alike(monkeypatch):
    from workbench.models import contrastive

    embeddings = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0]])  # cosines: 0.6 (a, b), 0 (a, c), 0.8 (b, c)
    monkeypatch.setattr(contrastive, "embed_with_grad", lambda encoder, texts: embeddings)
    targets = contrastive.similarity_matrix([0, 0, 1], [0, 0, 1])
    # the one similar pair's error (1 - 0.6)^2 weighs half; the two dissimilar pairs' mean (0 + 0.8^2) / 2 the other
    assert contrastive.batch_loss(None, ["a", "b", "c"], targets).item() == pytest.approx(0.5 * 0.16 + 0.5 * 0.32)
    alike = contrastive.similarity_matrix([0, 0, 0], [0, 0, 0])  # one kind only: its mean alone
    assert contrastive.batch_loss(None, ["a", "b", "c"], alike).item() == pytest.approx((0.16 + 1 + 0.04) / 3)


def test_contrastive_batches_hold_every_row_once_an_epoch():
    from workbench.models.contrastive import TEXT_BATCH, text_batches

    batches = text_batches(TEXT_BATCH + 8, seed=0)
    epochs = [next(batches) + next(batches) for _ in range(2)]
    assert all(sorted(epoch) == list(range(TEXT_BATCH + 8)) for epoch in epochs)
    assert epochs[0] != epochs[1]  # shuffled anew
    lone = text_batches(TEXT_BATCH + 1, seed=0)  # an epoch's lone last row is left out: one text has no pair
    assert all(len(next(lone)) == TEXT_BATCH for _ in range(3))
