"""Small learnable files of the task shapes, for the end-to-end tests: topics of headlines (multi-label, the labels
joined with ";"), and a price from a description and two numbers (regression)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

TOPICS = {
    "sports": ["goal", "match", "team", "coach"],
    "politics": ["vote", "law", "party", "minister"],
    "tech": ["code", "chip", "app", "robot"],
}
FILLER = ["the", "a", "today", "news", "about", "and", "story", "new", "report", "says"]


def write_topics_csv(path: Path, rows: int = 240, seed: int = 1) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["headline", "topics"])
        for _ in range(rows):
            chosen = [t for t in TOPICS if rng.random() < 0.4]
            words = rng.sample(FILLER, 4) + [rng.choice(TOPICS[t]) for t in chosen for _ in range(2)]
            rng.shuffle(words)
            writer.writerow([" ".join(words), "; ".join(chosen)])
    return path


def write_topics_jsonl(path: Path) -> Path:
    """The topics as JSON Lines, as a `datasets` user exports them: each row's topics a list (empty for none)."""
    with write_topics_csv(path.with_suffix(".csv")).open(newline="", encoding="utf-8") as handle:
        rows = [
            {"headline": r["headline"], "topics": [t for t in r["topics"].split("; ") if t]}
            for r in csv.DictReader(handle)
        ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_prices_csv(path: Path, rows: int = 240, seed: int = 2) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["description", "rooms", "area", "price"])
        for _ in range(rows):
            rooms, area, good = rng.randint(1, 6), rng.uniform(20, 200), rng.random() < 0.5
            words = " ".join(rng.sample(FILLER, 3)) + (" bright renovated garden" if good else " dark old noisy")
            price = 20 * area + 200 * rooms + (300 if good else 0) + rng.gauss(0, 100)
            writer.writerow([words, rooms, f"{area:.1f}", f"{price:.2f}"])
    return path
