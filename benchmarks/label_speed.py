"""How fast a large file is labelled, the way the Predict tab labels it (`Predictor.predict_file`: read, predict a
batch at a time, write), against the transformers text-classification pipeline on the same texts, in one process.

    python benchmarks/label_speed.py BERT_RUN_DIR [MLP_RUN_DIR] [ROWS]

The file is ROWS (40,000) short reviews made by tests/corpus/make_corpus.py, its text column named as each run's.
Each run is labelled as it is trained (PyTorch) and, where onnx and onnxruntime are installed, from a copy exported to
ONNX (the BERT run with int8 weights, the MLP in fp32): rows/s, whole file (reading and writing included). For the
BERT run the pipeline's rows/s on the same texts (prediction only, batches of 32 and of 1, the faster kept; on the
first 2,000, as texts one at a time went at 1.8 a second on busy cores) and the ratios. Prints one JSON
line.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import ROOT, arg, read_texts, report, timed
from transformers import pipeline

from workbench import runs
from workbench.export import export_run, missing_packages
from workbench.predict import Predictor

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
from make_corpus import many_rows  # noqa: E402

PIPELINE_BATCHES = (32, 1)
PIPELINE_SAMPLE = 2000


def corpus(run_dir: Path, rows: int, folder: Path) -> tuple[Path, list[str]]:
    """The reviews, their text column named as the run reads it; and the texts."""
    column = runs.read_run(run_dir).columns.text or "review"
    lines = many_rows(rows).splitlines()
    path = folder / f"reviews-{run_dir.name}.csv"
    path.write_text("\n".join([f"id,{column},sentiment", *lines[1:]]) + "\n")
    return path, read_texts(path, column)


def rows_per_second(run_dir: Path, source: Path, folder: Path) -> float:
    predictor = Predictor.load(run_dir)
    seconds, rows = timed(lambda: predictor.predict_file(source, folder / f"labelled-{run_dir.name}.csv"))
    return rows / seconds


def run_figures(name: str, run_dir: Path, rows: int, folder: Path, quantize: str | None) -> dict[str, float]:
    """rows/s of the run as trained (a copy without any export) and of a copy exported to ONNX."""
    source, _ = corpus(run_dir, rows, folder)
    plain = Path(shutil.copytree(run_dir, folder / f"{name}-pytorch"))
    runs.update_run(plain, export=None)
    figures = {f"{name}_rows_per_s": round(rows_per_second(plain, source, folder), 1)}
    if not missing_packages():
        exported = Path(shutil.copytree(plain, folder / f"{name}-onnx"))
        export_run(exported, quantize=quantize)
        figures[f"{name}_onnx_{quantize or 'fp32'}_rows_per_s"] = round(rows_per_second(exported, source, folder), 1)
    return figures


def pipeline_rows_per_second(run_dir: Path, texts: list[str]) -> dict[int, float]:
    classify = pipeline("text-classification", model=str(run_dir), device=-1)
    texts = texts[:PIPELINE_SAMPLE]
    return {
        size: round(len(texts) / timed(lambda size=size: classify(texts, batch_size=size, truncation=True))[0], 1)
        for size in PIPELINE_BATCHES
    }


def main() -> None:
    bert_run, mlp_run, rows = Path(arg(1, "")), arg(2, ""), int(arg(3, "40000"))
    with tempfile.TemporaryDirectory() as folder:
        figures: dict = {"rows": rows, **run_figures("bert", bert_run, rows, Path(folder), "int8")}
        if mlp_run:
            figures.update(run_figures("mlp", Path(mlp_run), rows, Path(folder), None))
        piped = pipeline_rows_per_second(bert_run, corpus(bert_run, rows, Path(folder))[1])
    best = max(piped.values())
    figures |= {"pipeline_rows_per_s": piped, "bert_ratio": round(figures["bert_rows_per_s"] / best, 2)}
    if "bert_onnx_int8_rows_per_s" in figures:
        figures["bert_onnx_int8_ratio"] = round(figures["bert_onnx_int8_rows_per_s"] / best, 2)
    report("label_speed", **figures)


if __name__ == "__main__":
    main()
