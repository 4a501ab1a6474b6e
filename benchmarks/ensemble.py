"""Would an ensemble lift the fine-tuned BERT on a few thousand rows? Issue 12's idea, measured before building it:
the workbench's defaults (model on auto, which fine-tunes the bundled MiniLM on this set, 5-minute budget) and two
cheap partners trained on the same training rows, their class probabilities averaged as `(1 - w) * bert + w *
partner` with `w` chosen on the workbench's own validation rows (grid of 0.05), then scored on the test rows:

- `head`: the sentence-encoder family's fitted head (frozen bundled MiniLM embeddings and TF-IDF words, head.py),
  fitted on the training rows only, so that the validation rows choose `w` honestly;
- `tfidf`: TF-IDF (1-2 grams) + balanced logistic regression.

    python benchmarks/ensemble.py [--seeds 42,1]    # the rated tweets as three classes (task_data.py); default seed 42

One JSON line per seed: each model's test macro-F1, each ensemble's chosen weight, its validation and test macro-F1,
its gain over the BERT alone, and the test macro-F1 at every weight (what the best weight would have given).
"""

from __future__ import annotations

import sys
import tempfile

import common  # noqa: F401  (offline settings first)
import numpy as np
import torch
from common import report, timed
from quality import read, tfidf_pipeline
from sklearn.metrics import f1_score
from task_data import tweet_classes_csvs

from workbench import encoders
from workbench.config import DataSpec, TrainConfig
from workbench.data import ModelInputs, load_data
from workbench.events import started_of
from workbench.models.embeddings import embed, load_encoder
from workbench.models.head import bag_matrix, fitted_head
from workbench.predict import Predictor
from workbench.train import train

WEIGHTS = [round(w, 2) for w in np.arange(0, 1.001, 0.05)]


def probabilities(logits: torch.Tensor) -> np.ndarray:
    return torch.softmax(torch.as_tensor(logits).float(), -1).numpy()


def macro_f1(truth: np.ndarray, p: np.ndarray) -> float:
    return round(float(f1_score(truth, p.argmax(1), average="macro")), 4)


def bert_probabilities(data, seed: int, texts: list[list[str]]) -> tuple[float, list[np.ndarray]]:
    """The workbench's defaults trained on `data`; its probabilities on each list of texts."""
    with tempfile.TemporaryDirectory() as folder:
        seconds, events = timed(lambda: list(train(TrainConfig(model="auto", output=folder, seed=seed), data)))
        scorer = Predictor.load(started_of(events).run_dir).scorer
        return seconds, [probabilities(scorer.logits(ModelInputs(t, None, [[]] * len(t)))) for t in texts]


def head_probabilities(train_texts: list[str], labels: list[int], n: int, texts: list[list[str]]) -> list[np.ndarray]:
    """The engine's own embedding (and cache) of the bundled MiniLM, the head fitted on the training rows."""
    encoder = load_encoder(encoders.MINILM)
    rows = {"text": train_texts, "label": labels}
    fitted = fitted_head(embed(encoder, train_texts, encoders.MINILM), rows, torch.nn.functional.cross_entropy, n)
    with torch.no_grad():
        return [
            probabilities(fitted.head(embed(encoder, t, encoders.MINILM), bag_matrix(fitted.bag, {"text": t})))
            for t in texts
        ]


def tfidf_probabilities(train_texts: list[str], labels: list[int], texts: list[list[str]]) -> list[np.ndarray]:
    model = tfidf_pipeline().fit(train_texts, labels)
    return [model.predict_proba(t) for t in texts]


def ensemble(bert: list[np.ndarray], partner: list[np.ndarray], y_val: np.ndarray, y_test: np.ndarray) -> dict:
    """The partner's weight chosen on the validation rows (the smallest weight among equals), scored on the test."""
    (bert_val, bert_test), (partner_val, partner_test) = bert, partner
    on_validation = [macro_f1(y_val, (1 - w) * bert_val + w * partner_val) for w in WEIGHTS]
    on_test = {w: macro_f1(y_test, (1 - w) * bert_test + w * partner_test) for w in WEIGHTS}
    w = WEIGHTS[int(np.argmax(on_validation))]
    return {
        "weight": w,
        "validation_f1": max(on_validation),
        "test_f1": on_test[w],
        "gain_over_bert": round(on_test[w] - on_test[0.0], 4),
        "test_f1_by_weight": on_test,
    }


def one_seed(seed: int) -> None:
    train_csv, test_csv = tweet_classes_csvs()
    data = load_data(DataSpec(str(train_csv), text_column="text", label_columns="label"), seed=seed)
    names = list(data.labels.names)
    train_texts, labels = list(data.train["text"]), list(data.train["label"])
    test_texts, test_names = read(test_csv)
    texts = [list(data.validation["text"]), test_texts]
    y_val, y_test = np.array(data.validation["label"]), np.array([names.index(v) for v in test_names])
    bert_seconds, bert = bert_probabilities(data, seed, texts)
    head_seconds, head = timed(lambda: head_probabilities(train_texts, labels, len(names), texts))
    tfidf = tfidf_probabilities(train_texts, labels, texts)
    report(
        "ensemble",
        set="tweets",
        seed=seed,
        train_rows=len(train_texts),
        validation_rows=len(y_val),
        test_rows=len(y_test),
        bert={"test_f1": macro_f1(y_test, bert[1]), "seconds": round(bert_seconds, 1)},
        head={"test_f1": macro_f1(y_test, head[1]), "seconds": round(head_seconds, 1)},
        tfidf={"test_f1": macro_f1(y_test, tfidf[1])},
        bert_with_head=ensemble(bert, head, y_val, y_test),
        bert_with_tfidf=ensemble(bert, tfidf, y_val, y_test),
    )


if __name__ == "__main__":
    seeds = sys.argv[sys.argv.index("--seeds") + 1] if "--seeds" in sys.argv else "42"
    for seed in seeds.split(","):
        one_seed(int(seed))
