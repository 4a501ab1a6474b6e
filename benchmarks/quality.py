"""Quality with default settings on small, imbalanced, real data: the drug reviews (600 training rows, 379 test
rows, 3 classes, neutral 9%). Each contender trains on the training rows only (the workbench holds back 20% of them
for its own validation) and is scored on the test rows.

    python benchmarks/quality.py [--set drug|tweets] [--auto] [--bert] [--bert-fp32] [--trainer]
    python benchmarks/quality.py --seeds 3      # the defaults over seeds 0..2 against TF-IDF on the same rows

Always: TF-IDF (1-2 grams) + balanced logistic regression (the classic baseline), on all 600 training rows and on
the 480 the workbench trains on (its split), and the workbench MLP.
--set tweets: 4,200 rated tweets as three classes instead (task_data.py: 3,360 training / 840 test rows), a few
thousand short texts; --auto: the workbench with the model on auto (what a new user gets);
--bert: the workbench's default BERT fine-tuning; --bert-fp32: the same in full precision (where the CPU would use
bf16 autocast), to see whether bf16 costs quality; --trainer: transformers `Trainer` with the common defaults
(lr 5e-5, 3 epochs, batch 16, max length 128) on the same bundled BERT. Prints one JSON line with macro-F1,
accuracy and seconds for each, and our macro-F1 over each peer's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import report, timed
from drug_reviews import write_csvs
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from task_data import tweet_classes_csvs

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import started_of
from workbench.metrics.report import evaluate_run
from workbench.train import train

DATA = Path(__file__).resolve().parent / ".data"


def read(path: Path) -> tuple[list[str], list[str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def scores(truth: list[str], predicted: list[str]) -> dict[str, float]:
    return {
        "f1_macro": round(f1_score(truth, predicted, average="macro"), 4),
        "accuracy": round(accuracy_score(truth, predicted), 4),
    }


def workbench_split(train_csv: Path, seed: int = 42) -> tuple[list[str], list[str]]:
    """The training rows the workbench keeps after holding back its validation rows."""
    data = load_data(DataSpec(str(train_csv), text_column="text", label_columns="label"), seed=seed)
    return list(data.train["text"]), [data.labels.names[i] for i in data.train["label"]]


def tfidf_pipeline():
    """The classic baseline: TF-IDF of 1-2 grams and a balanced logistic regression."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(class_weight="balanced", max_iter=2000),
    )


def tfidf_logistic(train_csv: Path, test_csv: Path, same_rows_as_workbench: bool = False, seed: int = 42) -> dict:
    (x, y), (x_test, y_test) = read(train_csv), read(test_csv)
    if same_rows_as_workbench:
        x, y = workbench_split(train_csv, seed)
    model = tfidf_pipeline()
    seconds, _ = timed(lambda: model.fit(x, y))
    return {**scores(y_test, list(model.predict(x_test))), "seconds": round(seconds, 1)}


def workbench(model: str, train_csv: Path, test_csv: Path, folder: str, cpu_bf16: bool = True, seed: int = 42) -> dict:
    """A run as the app makes it: the seed chooses the validation rows and the training's randomness."""
    data = load_data(DataSpec(str(train_csv), text_column="text", label_columns="label"), seed=seed)
    config = TrainConfig(model=model, output=folder, cpu_bf16=cpu_bf16, seed=seed)
    seconds, events = timed(lambda: list(train(config, data)))
    report_ = evaluate_run(started_of(events).run_dir, test_csv)
    return {
        "f1_macro": round(report_["f1_macro"], 4),
        "accuracy": round(report_["accuracy"], 4),
        "seconds": round(seconds, 1),
        "steps": events[-1].step,
        "model": started_of(events).model,
    }


def trainer_defaults(train_csv: Path, test_csv: Path, folder: str) -> dict:
    """The standard route as most tutorials set it up."""
    import datasets
    import numpy as np
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from workbench.models.bert import bundled_model_path

    (x, y), (x_test, y_test) = read(train_csv), read(test_csv)
    names = sorted(set(y))
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    model = AutoModelForSequenceClassification.from_pretrained(bundled_model_path(), num_labels=len(names))
    encode = lambda texts, labels: datasets.Dataset.from_dict(  # noqa: E731
        {**tokenizer(texts, truncation=True, max_length=128), "labels": [names.index(v) for v in labels]}
    )
    args = TrainingArguments(
        output_dir=folder,
        learning_rate=5e-5,
        num_train_epochs=3,
        per_device_train_batch_size=16,
        save_strategy="no",
        report_to=[],
        seed=42,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=encode(x, y),
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    seconds, _ = timed(trainer.train)
    logits = trainer.predict(encode(x_test, y_test)).predictions
    return {**scores(y_test, [names[i] for i in np.argmax(logits, -1)]), "seconds": round(seconds, 1)}


def over_seeds(seeds: int, train_csv: Path, test_csv: Path) -> None:
    """The defaults (model on auto) on each seed, against TF-IDF + logistic regression on the same training rows:
    mean, min, max and spread of macro-F1, and whether every seed is at or above its peer."""
    ours, peers = [], []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(seeds):
            ours.append(workbench("auto", train_csv, test_csv, folder, seed=seed))
            peers.append(tfidf_logistic(train_csv, test_csv, same_rows_as_workbench=True, seed=seed))
    f1 = [r["f1_macro"] for r in ours]
    report(
        "quality_over_seeds",
        seeds=seeds,
        workbench_defaults=ours,
        tfidf_logistic_same_rows=peers,
        f1_mean=round(sum(f1) / len(f1), 4),
        f1_min=min(f1),
        f1_max=max(f1),
        f1_spread=round(max(f1) - min(f1), 4),
        worst_seed_at_or_above_peer=all(o["f1_macro"] >= p["f1_macro"] for o, p in zip(ours, peers)),
    )


def main() -> None:
    tweets = "--set" in sys.argv and sys.argv[sys.argv.index("--set") + 1] == "tweets"
    train_csv, test_csv = tweet_classes_csvs(DATA) if tweets else write_csvs(DATA)
    if "--seeds" in sys.argv:
        return over_seeds(int(sys.argv[sys.argv.index("--seeds") + 1]), train_csv, test_csv)
    results = {
        "tfidf_logistic": tfidf_logistic(train_csv, test_csv),
        "tfidf_logistic_480_rows": tfidf_logistic(train_csv, test_csv, same_rows_as_workbench=True),
    }
    with tempfile.TemporaryDirectory() as folder:
        results["workbench_mlp"] = workbench("mlp", train_csv, test_csv, folder)
        if "--auto" in sys.argv:
            results["workbench_auto"] = workbench("auto", train_csv, test_csv, folder)
        if "--bert" in sys.argv:
            results["workbench_bert"] = workbench("bundled-minilm", train_csv, test_csv, folder)
        if "--bert-fp32" in sys.argv:
            results["workbench_bert_fp32"] = workbench("bundled-minilm", train_csv, test_csv, folder, cpu_bf16=False)
        if "--trainer" in sys.argv:
            results["trainer_defaults"] = trainer_defaults(train_csv, test_csv, folder)
    ratios = {
        f"f1_{ours}_over_{peer}": round(results[ours]["f1_macro"] / max(result["f1_macro"], 1e-9), 2)
        for ours in ("workbench_auto", "workbench_bert", "workbench_mlp")
        if ours in results
        for peer, result in results.items()
        if not peer.startswith("workbench")
    }
    rows = {"train_rows": len(read(train_csv)[0]), "test_rows": len(read(test_csv)[0])}
    report("quality_tweets" if tweets else "quality_drug_reviews", **rows, **results, **ratios)


if __name__ == "__main__":
    main()
