"""Builders shared by the engine tests: the synthetic sentiment CSV, the digits CSV and a helper that runs a
training to its end. A plain module rather than conftest.py, because `from conftest import ...` picks up whichever
conftest comes first on sys.path (tests/e2e has its own)."""

import csv
import random
from pathlib import Path

POSITIVE_WORDS = ["great", "fun", "wonderful", "loved", "brilliant", "charming", "delightful", "superb"]
NEGATIVE_WORDS = ["awful", "boring", "mess", "terrible", "dull", "hated", "poor", "waste"]
FILLER_WORDS = ["the", "film", "was", "and", "a", "movie", "it", "this", "story", "really", "so", "very", "i"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(POSITIVE_WORDS + NEGATIVE_WORDS + FILLER_WORDS))


# short and long reviews whose sentiment a model trained on the sentiment CSV should get right
SENTIMENT_TEXTS = [
    "awful",
    "the film was great and fun and i loved this wonderful story so very much",
    "a dull movie",
    "it was a really superb and charming and delightful film",
    "terrible boring mess and a waste",
    "great",
    "hated it",
    "this story was brilliant",
]


def sentiment_text(rng: random.Random, label: str) -> str:
    """A short review: filler words with two or three words of the label's sentiment mixed in; lengths vary."""
    words = POSITIVE_WORDS if label == "positive" else NEGATIVE_WORDS
    chosen = rng.sample(FILLER_WORDS, rng.randint(2, 8)) + rng.sample(words, rng.randint(2, 3))
    rng.shuffle(chosen)
    return " ".join(chosen)


def write_sentiment_csv(path: Path, rows: int, seed: int, padding: int = 0) -> Path:
    """`padding` filler words added to every review (long texts, for auto's rule)."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for i in range(rows):
            label = "positive" if i % 2 == 0 else "negative"
            pad = " ".join(rng.choice(FILLER_WORDS) for _ in range(padding))
            writer.writerow([f"{sentiment_text(rng, label)} {pad}".strip(), label])
    return path


def write_digits_csv(path: Path, per_class: int | None = None) -> Path:
    """scikit-learn's digits as px0..px63 plus `digit`; `per_class` keeps the first rows of each digit."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    taken: dict[int, int] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"px{i}" for i in range(64)] + ["digit"])
        for row, target in zip(digits.data, digits.target):
            if per_class is not None and taken.get(int(target), 0) >= per_class:
                continue
            taken[int(target)] = taken.get(int(target), 0) + 1
            writer.writerow([int(v) for v in row] + [int(target)])
    return path


def run_to_end(config, data, should_stop=None) -> list:
    from workbench.train import never, train

    return list(train(config, data, should_stop or never))


def trained_run(tmp_path_factory, data, **settings) -> tuple[list, Path]:
    """(events, run folder) of one run trained to its end on `data` with these TrainConfig settings, in a fresh
    folder: what the module- and session-scoped run fixtures share."""
    from workbench.config import TrainConfig
    from workbench.events import started_of

    events = run_to_end(TrainConfig(output=str(tmp_path_factory.mktemp("runs")), **settings), data)
    return events, Path(started_of(events).run_dir)


def of_kind(events, cls) -> list:
    return [e for e in events if isinstance(e, cls)]
