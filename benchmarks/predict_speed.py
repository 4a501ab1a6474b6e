"""Prediction speed of `Predictor` (length-sorted batches, inference mode) against the transformers
text-classification pipeline, on the same fine-tuned run folder and the same texts, in one process.

    python benchmarks/predict_speed.py [CSV] [TEXT_COLUMN]

Prints single-text median latency and batch throughput for both, and the ratios. Without a CSV it uses the example
reviews (repeated to 540 texts) and first fine-tunes the bundled BERT on them for one epoch to get a run folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import EXAMPLE_CSV, arg, median_seconds, read_texts, report, timed
from transformers import pipeline

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.predict import Predictor
from workbench.train import train

BATCH = 32


def fine_tuned_run(csv_path: Path, text_column: str, folder: str) -> Path:
    data = load_data(DataSpec(str(csv_path), text_column=text_column))
    events = list(train(TrainConfig(epochs=1, output=folder), data))
    return Path(events[0].run_dir)


def main() -> None:
    csv_path, column = Path(arg(1, str(EXAMPLE_CSV))), arg(2, "review")
    texts = read_texts(csv_path, column)
    texts = (texts * (540 // len(texts) + 1))[: max(540, len(texts))] if len(texts) < 540 else texts[:2000]
    with tempfile.TemporaryDirectory() as folder:
        run_dir = fine_tuned_run(csv_path, column, folder)
        ours = Predictor.load(run_dir)
        theirs = pipeline("text-classification", model=str(run_dir), device=-1)
        sample = texts[:20]
        for text in sample[:3]:  # warm up both
            ours.predict(text), theirs(text)
        single_ours = median_seconds(lambda: [ours.predict(t) for t in sample], 3) / len(sample)
        single_theirs = median_seconds(lambda: [theirs(t) for t in sample], 3) / len(sample)
        batch_ours, predicted = timed(lambda: ours.predict(texts))
        batch_theirs, piped = timed(lambda: theirs(texts, batch_size=BATCH, truncation=True))
        agree = sum(p.label == q["label"] for p, q in zip(predicted, piped)) / len(texts)
    report(
        "predict_speed",
        texts=len(texts),
        batch_size=BATCH,
        single_ms_ours=round(single_ours * 1000, 2),
        single_ms_pipeline=round(single_theirs * 1000, 2),
        single_latency_ratio=round(single_theirs / single_ours, 2),
        batch_texts_per_s_ours=round(len(texts) / batch_ours, 1),
        batch_texts_per_s_pipeline=round(len(texts) / batch_theirs, 1),
        batch_throughput_ratio=round(batch_theirs / batch_ours, 2),
        same_labels=round(agree, 4),
    )


if __name__ == "__main__":
    main()
