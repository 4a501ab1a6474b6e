"""How exactly a time budget is kept: `python -m workbench train --time-budget M` as a new user runs it (epochs on
auto, only the data named), whole process, on small and large real data, for BERT and the MLP. For each case one
JSON line: the budget, the run's own elapsed time (building the model, training, evaluations and the save: what the
budget covers), the whole process (plus start-up and reading the data), both as shares of the budget, and how the
plan moved (first and last planned steps).

    python benchmarks/budget_accuracy.py [MINUTES]       # default 2 minutes a case
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import arg, report
from drug_reviews import write_csvs
from task_data import multilabel_csvs

DATA = Path(__file__).resolve().parent / ".data"


def run(csv: Path, model: str, minutes: float, folder: str, *columns: str) -> dict:
    began = time.perf_counter()
    command = [sys.executable, "-m", "workbench", "train", "--data", str(csv), "--model", model]
    command += [*columns, "--time-budget", str(minutes), "--output", folder]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    whole = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    run_dir = Path(json.loads(done.stdout.strip().splitlines()[-1])["run_dir"])
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    planned = [e for e in events if e["kind"] == "planned"]
    finished = events[-1]
    budget = minutes * 60
    return {
        "model": model,
        "data": csv.name,
        "train_rows": events[0]["train_rows"],
        "budget_seconds": budget,
        "run_seconds": round(finished["elapsed_seconds"], 1),
        "run_share": round(finished["elapsed_seconds"] / budget, 3),
        "process_seconds": round(whole, 1),
        "process_share": round(whole / budget, 3),
        "steps": finished["step"],
        "first_plan": planned[0]["total_steps"] if planned else None,
        "plans": len(planned),
        "ended_by": "budget" if finished["step"] < events[0]["total_steps"] else "epochs",
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    minutes = float(arg(1, "2"))
    drug_train, _ = write_csvs(DATA)
    genres_train = multilabel_csvs(DATA)[0]
    cases = [
        (drug_train, "bundled-minilm", minutes, "--text-column", "text", "--label-column", "label"),
        (genres_train, "bundled-minilm", minutes, "--text-column", "text", "--label-column", "labels"),
        (genres_train, "mlp", 0.1, "--text-column", "text", "--label-column", "labels"),  # the MLP is quick
    ]
    with tempfile.TemporaryDirectory() as folder:
        for csv, model, budget, *columns in cases:
            report("budget_accuracy", **run(csv, model, budget, folder, *columns))


if __name__ == "__main__":
    main()
