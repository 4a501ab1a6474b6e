"""The base models a user can fine-tune with no network, and what each costs and gives on this machine: for every
offline model installed (the bundled MiniLM; all-mpnet-base-v2 with requirements-encoders.txt), seconds per 1,000
training rows of short texts (rated tweets) and of long ones (drug reviews): the workbench's loop, batch 16, length
from the data, steady state (from the third step to the last of one epoch over 480 rows, so loading the model and
the first steps' one-off costs are left out), with each set's mean tokens a row, from which `catalog.py`'s costs are
fitted; the 1024 x 1024 matmul speed of the precision BERT trains in here, measured beside them (`catalog.py`
scales its costs by it on another machine). With --quality MINUTES[,MINUTES...] each model's test macro-F1 and
accuracy on the drug reviews within each time budget (defaults otherwise). One JSON line per model.

    python benchmarks/base_models.py [--quality 5,15]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import report
from drug_reviews import write_csvs
from task_data import tweet_classes_csvs

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.devices import training_matmul_gflops
from workbench.encoders import installed_encoder_names
from workbench.events import started_of
from workbench.metrics.report import evaluate_run
from workbench.models.catalog import mean_tokens
from workbench.train import train

DATA = Path(__file__).resolve().parent / ".data"
COST_ROWS, BATCH = 480, 16


def seconds_per_1000_rows(model: str, train_csv: Path, folder: str) -> dict:
    """Steady-state seconds per 1,000 training rows of the first COST_ROWS rows, and their mean tokens a row."""
    rows = Path(folder) / "cost_rows.csv"
    rows.write_text("".join(train_csv.read_text(encoding="utf-8").splitlines(keepends=True)[: COST_ROWS + 1]))
    data = load_data(DataSpec(str(rows), text_column="text", label_columns="label", validation_fraction=0.05))
    config = TrainConfig(model=model, epochs=1, batch_size=BATCH, patience=0, output=folder)
    steps = [e for e in train(config, data) if e.kind == "step"]
    first, last = next(e for e in steps if e.step >= 2), steps[-1]
    seconds_a_step = (last.elapsed_seconds - first.elapsed_seconds) / (last.step - first.step)
    return {"seconds": round(1000 / BATCH * seconds_a_step, 1), "tokens_per_row": round(mean_tokens(data.train), 1)}


def quality(model: str, minutes: float, train_csv: Path, test_csv: Path, folder: str) -> dict:
    data = load_data(DataSpec(str(train_csv), text_column="text", label_columns="label"))
    events = list(train(TrainConfig(model=model, time_budget=minutes, output=folder), data))
    scores = evaluate_run(started_of(events).run_dir, test_csv)
    return {
        "minutes": minutes,
        "f1_macro": round(scores["f1_macro"], 4),
        "accuracy": round(scores["accuracy"], 4),
        "run_seconds": round(events[-1].elapsed_seconds, 1),
        "steps": events[-1].step,
    }


def main() -> None:
    train_csv, test_csv = write_csvs(DATA)
    tweets_csv, _ = tweet_classes_csvs(DATA)
    asked = sys.argv[sys.argv.index("--quality") + 1] if "--quality" in sys.argv else ""
    budgets = [float(minutes) for minutes in asked.split(",") if minutes]
    with tempfile.TemporaryDirectory() as folder:
        for model in installed_encoder_names():
            costs = {
                "tweets": seconds_per_1000_rows(model, tweets_csv, folder),
                "drug_reviews": seconds_per_1000_rows(model, train_csv, folder),
            }
            results = [quality(model, minutes, train_csv, test_csv, folder) for minutes in budgets]
            report(
                "base_models",
                model=model,
                seconds_per_1000_rows=costs,
                matmul_gflops=round(training_matmul_gflops(), 1),
                load_average=round(os.getloadavg()[0], 2),
                drug_reviews=results,
            )


if __name__ == "__main__":
    main()
