"""How far the default BERT recipe can go on the drug reviews: after every epoch the test rows are scored beside the
validation rows, for a fixed number of epochs (no early stopping, no time budget), for each seed. The best test
macro-F1 over the epochs is what a perfect choice of epoch would reach; `chosen` is the epoch the validation rows
pick (the workbench's rule: the highest validation macro-F1, the earliest on a tie).

    python benchmarks/epoch_curves.py [EPOCHS] [SEED ...]      # defaults: 10 epochs, seeds 42 1 7

An analysis, not a product path: it wraps the training loop's per-epoch evaluation (a private method) to score the
test rows with the same loader code. About 5 minutes per seed on a 2-core CPU.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import report, timed
from drug_reviews import write_csvs
from torch.utils.data import DataLoader

import workbench.train as engine
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data, read_csv
from workbench.metrics import compute_headline_scores
from workbench.models.bert import length_sorted_batches

DATA = Path(__file__).resolve().parent / ".data"


def test_loader(loop: engine.TrainingRun, test_csv: Path) -> DataLoader:
    """The test rows tokenized like the validation rows: same tokenizer (the collator's), same max length."""
    collate = loop.bundle.eval_loader.collate_fn
    names = list(loop.labels)
    rows = read_csv(test_csv)  # the workbench's own reader, as for training
    encoded = rows.map(
        lambda b: {
            **collate.tokenizer(b["text"], truncation=True, max_length=loop.bundle.info["max_length"]),
            "labels": [names.index(label) for label in b["label"]],
        },
        batched=True,
        remove_columns=rows.column_names,
    )
    batches = length_sorted_batches([len(ids) for ids in encoded["input_ids"]], 32)
    return DataLoader(encoded, batch_sampler=batches, collate_fn=collate)


def curve(train_csv: Path, test_csv: Path, epochs: int, seed: int) -> dict:
    points: list[dict] = []
    evaluate_epoch = engine.TrainingRun.evaluate_epoch
    loaders: dict[str, DataLoader] = {}

    def evaluate_both(loop: engine.TrainingRun, epoch: float):
        evaluated = evaluate_epoch(loop, epoch)
        loader = loaders.setdefault("test", test_loader(loop, test_csv))
        _, predictions, references = engine.predict_loader(loop.model, loader, loop.accelerator, loop.autocast)
        test = compute_headline_scores(references, predictions, loop.labels)
        points.append(
            {
                "epoch": epoch,
                "val_f1": round(evaluated.f1_macro, 4),
                "val_loss": round(evaluated.loss, 4),
                "test_f1": round(test["f1_macro"], 4),
                "test_accuracy": round(test["accuracy"], 4),
            }
        )
        return evaluated

    engine.TrainingRun.evaluate_epoch = evaluate_both
    try:
        data = load_data(DataSpec(str(train_csv), text_column="text", label_columns="label"))
        with tempfile.TemporaryDirectory() as folder:
            config = TrainConfig(model="bundled-minilm", output=folder, epochs=epochs, patience=0, seed=seed)
            seconds, _ = timed(lambda: list(engine.train(config, data)))
    finally:
        engine.TrainingRun.evaluate_epoch = evaluate_epoch
    chosen = max(points, key=lambda p: p["val_f1"])  # max() keeps the first of equals, as the loop does
    best = max(points, key=lambda p: p["test_f1"])
    return {
        "seed": seed,
        "seconds": round(seconds),
        "chosen_epoch": chosen["epoch"],
        "chosen_test_f1": chosen["test_f1"],
        "chosen_test_accuracy": chosen["test_accuracy"],
        "best_test_f1": best["test_f1"],
        "best_test_epoch": best["epoch"],
        "epochs": points,
    }


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    seeds = [int(s) for s in sys.argv[2:]] or [42, 1, 7]
    train_csv, test_csv = write_csvs(DATA)
    curves = [curve(train_csv, test_csv, epochs, seed) for seed in seeds]
    report(
        "epoch_curves_drug_reviews",
        epochs=epochs,
        mean_chosen_test_f1=round(sum(c["chosen_test_f1"] for c in curves) / len(curves), 4),
        mean_best_test_f1=round(sum(c["best_test_f1"] for c in curves) / len(curves), 4),
        curves=curves,
    )


if __name__ == "__main__":
    main()
