"""Prediction speed of `Predictor` against the transformers text-classification pipeline, on the same fine-tuned run
folder and the same texts, in one process: the PyTorch model (length-sorted batches, inference mode), and the run's
ONNX exports in ONNX Runtime, fp32 and int8 weights (`python -m workbench export`).

    python benchmarks/predict_speed.py [CSV] [TEXT_COLUMN] [REPEATS] [RUN_DIR]

Prints one JSON line per comparison (PyTorch, ONNX fp32, ONNX int8, each against the pipeline): the median latency
of one text alone and the throughput of all texts in batches, for both sides, and the ratios (above 1: ours is
faster); the share of texts whose label equals the pipeline's and the PyTorch Predictor's; the model file's size.
A last line, `predict_speed_summary`, holds every side's two ratios and label agreement and whether the targets are
met. The pipeline is timed in batches of 1 (its default) and of 32, and its faster batch size in this run is the
one compared with: on 2 busy cores batches of 32 were faster, on quiet ones texts one at a time (no padding).
Every side is timed in turn within each of REPEATS rounds (default 3) and the medians are kept, so a busy machine
slows all sides alike. Without a CSV it uses the example reviews (repeated to 540 texts); either way it first
fine-tunes the bundled BERT on them for one epoch to get a run folder, unless RUN_DIR names one (trained on them).
The ONNX sides need onnx and onnxruntime (`pip install '.[export]'`); without them only the PyTorch line is printed.
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
from workbench.events import started_of
from workbench.export import export_run, missing_packages
from workbench.models import family_of_kind
from workbench.predict import Predictor
from workbench.train import train

BATCH = 32
PIPELINE_BATCHES = (1, BATCH)  # the pipeline's default and the batch the workbench's PyTorch side uses
SINGLE_TEXTS = 20
# issue 13's targets for an ONNX side: throughput and latency ratios, labels the same as PyTorch's
TARGETS = {"onnx_fp32": (4.0, 2.0, 0.995), "onnx_int8": (4.0, 2.0, 0.98)}


def fine_tuned_run(csv_path: Path, text_column: str, folder: str) -> Path:
    data = load_data(DataSpec(str(csv_path), text_column=text_column))
    events = list(train(TrainConfig(epochs=1, output=folder), data))
    return Path(started_of(events).run_dir)


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
            one(text) if one else None
    for _ in range(repeats):
        for name, (one, many) in calls.items():  # in turn, so a busy spell slows every side alike
            if one:  # (a side without one: the same single-text call as another side's)
                single[name] += [timed(lambda one=one, text=text: one(text))[0] for text in texts[:SINGLE_TEXTS]]
            seconds, answers[name] = timed(lambda many=many: many(texts))
            batch[name].append(seconds)
    return (
        {name: statistics.median(values) for name, values in single.items() if values},
        {name: statistics.median(values) for name, values in batch.items()},
        answers,
    )


def pipeline_calls(run_dir: Path) -> dict[str, tuple[Callable[[str], Any] | None, Callable[[list[str]], list]]]:
    theirs = pipeline("text-classification", model=str(run_dir), device=-1)
    return {
        f"pipeline_{size}": (
            theirs if size == 1 else None,
            lambda texts, size=size: theirs(texts, batch_size=size, truncation=True),
        )
        for size in PIPELINE_BATCHES
    }


def main() -> None:
    csv_path, column, repeats = Path(arg(1, str(EXAMPLE_CSV))), arg(2, "review"), int(arg(3, "3"))
    texts = read_texts(csv_path, column)
    texts = (texts * (540 // len(texts) + 1))[: max(540, len(texts))] if len(texts) < 540 else texts[:2000]
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(arg(4, "")) if arg(4, "") else fine_tuned_run(csv_path, column, folder)
        sides = our_sides(run_dir, folder)
        calls = {name: (predictor.predict, predictor.predict) for name, (predictor, _, _) in sides.items()}
        calls.update(pipeline_calls(run_dir))
        single, batch, answers = measure(calls, texts, repeats)
    peer_batch = min(PIPELINE_BATCHES, key=lambda size: batch[f"pipeline_{size}"])
    single["pipeline"], batch["pipeline"] = single["pipeline_1"], batch[f"pipeline_{peer_batch}"]
    piped = [answer["label"] for answer in answers["pipeline_1"]]
    pytorch = [p.label for p in answers["pytorch"]]
    summary = {}
    for name, (_, model_bytes, export_seconds) in sides.items():
        labels = [p.label for p in answers[name]]
        figures = dict(
            single_latency_ratio=round(single["pipeline"] / single[name], 2),
            batch_throughput_ratio=round(batch["pipeline"] / batch[name], 2),
            same_labels_as_pytorch=round(sum(a == b for a, b in zip(labels, pytorch)) / len(texts), 4),
        )
        summary[name] = figures
        report(
            "predict_speed" if name == "pytorch" else f"predict_speed_{name}",
            side=name,
            texts=len(texts),
            batch_size=BATCH,
            pipeline_batch_size=peer_batch,
            pipeline_texts_per_s={size: round(len(texts) / batch[f"pipeline_{size}"], 1) for size in PIPELINE_BATCHES},
            repeats=repeats,
            single_ms_ours=round(single[name] * 1000, 2),
            single_ms_pipeline=round(single["pipeline"] * 1000, 2),
            batch_texts_per_s_ours=round(len(texts) / batch[name], 1),
            batch_texts_per_s_pipeline=round(len(texts) / batch["pipeline"], 1),
            same_labels=round(sum(a == b for a, b in zip(labels, piped)) / len(texts), 4),
            model_file="model.safetensors" if name == "pytorch" else "model.onnx",
            model_mb=round(model_bytes / 1e6, 1),
            export_s=round(export_seconds, 1),
            **figures,
        )
    report("predict_speed_summary", pipeline_batch_size=peer_batch, **summary, targets_met=targets_met(summary))


def targets_met(summary: dict[str, dict[str, float]]) -> dict[str, bool]:
    return {
        name: summary[name]["batch_throughput_ratio"] >= throughput
        and summary[name]["single_latency_ratio"] >= latency
        and summary[name]["same_labels_as_pytorch"] >= labels
        for name, (throughput, latency, labels) in TARGETS.items()
        if name in summary
    }


if __name__ == "__main__":
    main()
