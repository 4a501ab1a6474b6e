"""How fast a large file is labelled, the way the Predict tab labels it (`Predictor.label_file`: read, predict a batch
at a time, write), against the transformers text-classification pipeline on the same texts, in one process.

    python benchmarks/label_speed.py BERT_RUN_DIR [MLP_RUN_DIR] [ROWS]

The file is ROWS (40,000) short reviews made by tests/corpus/make_corpus.py. Prints rows/s of each run, whole file
(reading and writing included), and for the BERT run the pipeline's rows/s on the same texts (prediction only), and
the ratio.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import ROOT, arg, report, timed
from transformers import pipeline

from workbench.predict import Predictor
from workbench.tables import read_table

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
from make_corpus import many_rows  # noqa: E402


def rows_per_second(run_dir: Path, source: Path, folder: Path) -> float:
    predictor = Predictor.load(run_dir)
    seconds, rows = timed(lambda: predictor.predict_file(source, folder / f"{run_dir.name}.csv"))
    return rows / seconds


def main() -> None:
    bert_run, mlp_run, rows = Path(arg(1, "")), arg(2, ""), int(arg(3, "40000"))
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "reviews.csv"
        source.write_text(many_rows(rows))
        figures = {"rows": rows, "bert_rows_per_s": round(rows_per_second(bert_run, source, Path(folder)), 1)}
        if mlp_run:
            figures["mlp_rows_per_s"] = round(rows_per_second(Path(mlp_run), source, Path(folder)), 1)
        texts = read_table(source)["review"]
        classify = pipeline("text-classification", model=str(bert_run), device=-1)
        seconds, _ = timed(lambda: classify(texts, batch_size=32, truncation=True))
    figures["pipeline_rows_per_s"] = round(rows / seconds, 1)
    figures["bert_ratio"] = round(figures["bert_rows_per_s"] / figures["pipeline_rows_per_s"], 2)
    report("label_speed", **figures)


if __name__ == "__main__":
    main()
