"""What the task-shape tests share (test_multilabel.py, test_regression.py, test_text_pairs.py): writing and
reading a CSV, a run's record, whether the losses fall, the model card and config a run would be pushed with,
and the synthetic but learnable rows of each task, built from the tiny BERT's vocabulary."""

import csv
import json
import random
from pathlib import Path

from engine_helpers import FILLER_WORDS, NEGATIVE_WORDS, POSITIVE_WORDS, of_kind

from workbench.config import DataSpec
from workbench.data import PreparedData, load_data
from workbench.events import Step


def mean(values):
    return sum(values) / len(values)


def write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def losses_fall(events, factor: float) -> bool:
    losses = [e.loss for e in of_kind(events, Step)]
    return mean(losses[-5:]) < factor * mean(losses[:5])


def load(tmp_path: Path, header: list[str], rows, **spec) -> PreparedData:
    return load_data(DataSpec(path=str(write_csv(tmp_path / "data.csv", header, rows)), **spec), seed=0)


def pushed_card_and_config(run_dir: Path, folder: Path) -> tuple[str, dict]:
    """The README.md and config.json that a Hub push of the run would upload."""
    from workbench import hub

    upload = hub.prepare_upload(run_dir, folder / "upload", repo_id="someone/model")
    return (upload / "README.md").read_text(), json.loads((upload / "config.json").read_text())


TOPICS = ("complaint", "plot", "praise")
TOPIC_FILLER = [w for w in FILLER_WORDS if w != "story"]  # "story" is the word that carries the label "plot"


def topic_rows(n: int, seed: int) -> list[tuple[str, list[str]]]:
    """A review and its topics: two positive words make "praise", two negative words "complaint", the word "story"
    makes "plot"; each independently, so a row has none, some or all of them."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words, labels = rng.sample(TOPIC_FILLER, rng.randint(2, 5)), []
        if rng.random() < 0.5:
            words += rng.sample(POSITIVE_WORDS, 2)
            labels.append("praise")
        if rng.random() < 0.5:
            words += rng.sample(NEGATIVE_WORDS, 2)
            labels.append("complaint")
        if rng.random() < 0.4:
            words.append("story")
            labels.append("plot")
        rng.shuffle(words)
        rows.append((" ".join(words), labels))
    return rows


def rated_rows(n: int, seed: int) -> list[tuple[str, float]]:
    """A review and a score around 50: ten points up per positive word, ten down per negative word, some noise."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        n_pos, n_neg = rng.randint(0, 3), rng.randint(0, 3)
        words = rng.sample(FILLER_WORDS, rng.randint(2, 5)) + rng.sample(POSITIVE_WORDS, n_pos)
        words += rng.sample(NEGATIVE_WORDS, n_neg)
        rng.shuffle(words)
        rows.append((" ".join(words), round(50 + 10 * (n_pos - n_neg) + rng.gauss(0, 2), 2)))
    return rows


PAIR_WORDS = {True: ("great", "loved", "fun"), False: ("awful", "boring", "dull")}
PAIR_ANSWERS = ("neither", "one", "both")


def pair_rows(n: int, seed: int) -> list[tuple[str, str, str]]:
    """Two one-word texts, each positive or negative, labelled by how many of the two are positive: either text
    alone tells at most half of the answers."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        rows.append((rng.choice(PAIR_WORDS[a]), rng.choice(PAIR_WORDS[b]), PAIR_ANSWERS[a + b]))
    return rows
