"""The base models a user can fine-tune with no network, and what each costs and gives on this machine: for every
offline model installed (the bundled MiniLM; all-mpnet-base-v2 with requirements-encoders.txt), seconds per 1,000
training rows of the drug reviews (the workbench's loop, batch 16, length from the data; steady-state rows/s of one
epoch over 160 rows), and with --quality MINUTES[,MINUTES...] its test macro-F1 and accuracy on the drug reviews
within each time budget (defaults otherwise). One JSON line per model.

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

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.encoders import installed_encoder_names
from workbench.events import started_of
from workbench.metrics.report import evaluate_run
from workbench.train import train

DATA = Path(__file__).resolve().parent / ".data"
COST_ROWS = 160


def seconds_per_1000_rows(model: str, train_csv: Path, folder: str) -> float:
    rows = Path(folder) / "cost_rows.csv"
    rows.write_text("".join(train_csv.read_text(encoding="utf-8").splitlines(keepends=True)[: COST_ROWS + 1]))
    data = load_data(DataSpec(str(rows), text_column="text", label_columns="label", validation_fraction=0.05))
    config = TrainConfig(model=model, epochs=1, batch_size=16, patience=0, output=folder)
    steps = [e for e in train(config, data) if e.kind == "step"]
    return 1000 / steps[-1].samples_per_second


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
    asked = sys.argv[sys.argv.index("--quality") + 1] if "--quality" in sys.argv else ""
    budgets = [float(minutes) for minutes in asked.split(",") if minutes]
    with tempfile.TemporaryDirectory() as folder:
        for model in installed_encoder_names():
            cost = seconds_per_1000_rows(model, train_csv, folder)
            results = [quality(model, minutes, train_csv, test_csv, folder) for minutes in budgets]
            report(
                "base_models",
                model=model,
                seconds_per_1000_rows=round(cost, 1),
                load_average=round(os.getloadavg()[0], 2),
                drug_reviews=results,
            )


if __name__ == "__main__":
    main()
