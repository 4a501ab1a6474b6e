"""Shared pieces of the benchmarks: offline settings, a JSON result line, timing helpers and the texts to use."""

from __future__ import annotations

import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # a plain checkout (a GPU machine with its own torch) runs them without installing
    sys.path.insert(1, str(ROOT))
EXAMPLE_CSV = ROOT / "workbench" / "ui" / "examples" / "reviews.csv"


def report(name: str, **figures: Any) -> None:
    """One JSON line per benchmark: the figures of both sides and their ratios."""
    print(json.dumps({"benchmark": name, **figures}), flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeats))


def read_texts(path: Path, column: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def arg(index: int, default: str) -> str:
    return sys.argv[index] if len(sys.argv) > index else default
