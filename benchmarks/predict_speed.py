"""Prediction speed of `Predictor` against the transformers text-classification pipeline, on the same fine-tuned run
folder and the same texts, in one process: the PyTorch model (length-sorted batches, inference mode), and the run's
ONNX exports in ONNX Runtime, fp32 and int8 weights (`python -m workbench export`).

    python benchmarks/predict_speed.py [CSV] [TEXT_COLUMN] [REPEATS]

Prints one JSON line per comparison (PyTorch, ONNX fp32, ONNX int8, each against the pipeline): the median latency
of one text alone and the throughput of all texts in batches, for both sides, and the ratios (above 1: ours is
faster); the share of texts whose label equals the pipeline's and the PyTorch Predictor's; the model file's size.
Every side is timed in turn within each of REPEATS rounds (default 3) and the medians are kept, so a busy machine
slows all sides alike. Without a CSV it uses the example reviews (repeated to 540 texts); either way it first
fine-tunes the bundled BERT on them for one epoch to get a run folder. The ONNX sides need onnx and onnxruntime
(`pip install '.[export]'`); without them only the PyTorch line is printed.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common  # noqa: F401  (offline settings first)
from common import EXAMPLE_CSV, arg, read_texts, report, timed
from transformers import pipeline

from workbench import runs
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.export import export_run, missing_packages
from workbench.models import family_of_kind
from workbench.predict import Predictor
from workbench.train import train

BATCH = 32
SINGLE_TEXTS = 20


def fine_tuned_run(csv_path: Path, text_column: str, folder: str) -> Path:
    data = load_data(DataSpec(str(csv_path), text_column=text_column))
    events = list(train(TrainConfig(epochs=1, output=folder), data))
    return Path(events[0].run_dir)


def our_sides(run_dir: Path, folder: str) -> dict[str, tuple[Predictor, int, float]]:
    """name -> (predictor, its model file's bytes, seconds its export took): the PyTorch model of the run, and
    copies of the run exported to ONNX with fp32 and with int8 weights."""
    record = runs.read_run(run_dir)
    pytorch = Predictor(record, family_of_kind(record.model.kind).load(run_dir))
    sides = {"pytorch": (pytorch, (run_dir / "model.safetensors").stat().st_size, 0.0)}
    if missing_packages():
        return sides
    for quantize in (None, "int8"):
        name = f"onnx_{quantize or 'fp32'}"
        copy = Path(shutil.copytree(run_dir, Path(folder) / name))
        seconds, info = timed(lambda copy=copy, quantize=quantize: export_run(copy, quantize=quantize))
        sides[name] = (Predictor.load(copy), info.bytes, seconds)
    return sides


def measure(calls: dict[str, tuple[Callable[[str], Any], Callable[[list[str]], list]]], texts: list[str], repeats: int):
    """Per side: the median single-text latency (s), the median batch time (s) and the last batch's answers."""
    single: dict[str, list[float]] = {name: [] for name in calls}
    batch: dict[str, list[float]] = {name: [] for name in calls}
    answers: dict[str, list] = {}
    for one, _ in calls.values():
        for text in texts[:3]:  # warm up every side
            one(text)
    for _ in range(repeats):
        for name, (one, many) in calls.items():  # in turn, so a busy spell slows every side alike
            single[name] += [timed(lambda one=one, text=text: one(text))[0] for text in texts[:SINGLE_TEXTS]]
            seconds, answers[name] = timed(lambda many=many: many(texts))
            batch[name].append(seconds)
    return (
        {name: statistics.median(values) for name, values in single.items()},
        {name: statistics.median(values) for name, values in batch.items()},
        answers,
    )


def main() -> None:
    csv_path, column, repeats = Path(arg(1, str(EXAMPLE_CSV))), arg(2, "review"), int(arg(3, "3"))
    texts = read_texts(csv_path, column)
    texts = (texts * (540 // len(texts) + 1))[: max(540, len(texts))] if len(texts) < 540 else texts[:2000]
    with tempfile.TemporaryDirectory() as folder:
        run_dir = fine_tuned_run(csv_path, column, folder)
        sides = our_sides(run_dir, folder)
        theirs = pipeline("text-classification", model=str(run_dir), device=-1)
        calls = {name: (predictor.predict, predictor.predict) for name, (predictor, _, _) in sides.items()}
        calls["pipeline"] = (theirs, lambda batch: theirs(batch, batch_size=BATCH, truncation=True))
        single, batch, answers = measure(calls, texts, repeats)
    piped = [answer["label"] for answer in answers["pipeline"]]
    pytorch = [p.label for p in answers["pytorch"]]
    for name, (_, model_bytes, export_seconds) in sides.items():
        labels = [p.label for p in answers[name]]
        report(
            "predict_speed" if name == "pytorch" else f"predict_speed_{name}",
            side=name,
            texts=len(texts),
            batch_size=BATCH,
            repeats=repeats,
            single_ms_ours=round(single[name] * 1000, 2),
            single_ms_pipeline=round(single["pipeline"] * 1000, 2),
            single_latency_ratio=round(single["pipeline"] / single[name], 2),
            batch_texts_per_s_ours=round(len(texts) / batch[name], 1),
            batch_texts_per_s_pipeline=round(len(texts) / batch["pipeline"], 1),
            batch_throughput_ratio=round(batch["pipeline"] / batch[name], 2),
            same_labels=round(sum(a == b for a, b in zip(labels, piped)) / len(texts), 4),
            same_labels_as_pytorch=round(sum(a == b for a, b in zip(labels, pytorch)) / len(texts), 4),
            model_file="model.safetensors" if name == "pytorch" else "model.onnx",
            model_mb=round(model_bytes / 1e6, 1),
            export_s=round(export_seconds, 1),
        )


if __name__ == "__main__":
    main()
