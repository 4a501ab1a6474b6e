"""Which attribution method explains best: a deletion test and the time per text, for every method of
`workbench.explain`, on one fine-tuned run and the same test texts, in one process.

    python benchmarks/explain_faithfulness.py [RUN_DIR] [TEST_CSV] [TEXT_COLUMN] [N]

For each text, the k words a method ranks as pushing hardest toward the predicted label (k = a fifth of the words,
at least 1) are deleted and the label's probability is read again; the same for k words chosen at random (3 draws).
A faithful method's deletions drop the probability more than random ones: the JSON line gives each method's mean
drop, the random mean drop, their ratio, and the median seconds per text (all texts, and texts of 128 tokens or
more). Without a run, the bundled MiniLM is fine-tuned on the drug reviews (benchmarks/drug_reviews.py) with a
2-minute budget; without a test CSV, their test rows are used.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from pathlib import Path

import common  # noqa: F401  (offline settings first)
from common import arg, read_texts, report

from workbench.events import started_of
from workbench.explain import METHODS, explain
from workbench.predict import Predictor

SEED = 0


def drug_reviews_run(folder: str) -> tuple[Path, Path]:
    from drug_reviews import write_csvs

    from workbench.config import DataSpec, TrainConfig
    from workbench.data import load_data
    from workbench.train import train

    train_csv, test_csv = write_csvs(Path(folder) / "data")
    data = load_data(DataSpec(str(train_csv), text_column="text", label_columns=("label",)))
    events = list(train(TrainConfig(time_budget=2.0, output=str(Path(folder) / "runs")), data))
    return Path(started_of(events).run_dir), test_csv


def without(text: str, explanation_words: list, drop: set[int]) -> str:
    """The text with the chosen words cut out (the spans between words kept)."""
    pieces, at = [], 0
    for i, word in enumerate(sorted(explanation_words, key=lambda w: w.start)):
        if i in drop:
            pieces.append(text[at : word.start])
            at = word.end
    return "".join(pieces) + text[at:]


def deletion_drops(predictor: Predictor, text: str, method: str, rng: random.Random) -> tuple[float, float, float]:
    """(drop after deleting the top-k words, mean drop after deleting k random words, seconds to explain)."""
    explanation = explain(predictor, text, method=method)
    words = [w for w in sorted(explanation.words, key=lambda w: w.start) if w.part == 0]
    if not words:
        return 0.0, 0.0, explanation.seconds
    k = max(1, len(words) // 5)
    ranked = sorted(range(len(words)), key=lambda i: -words[i].score)  # toward the label first
    before = explanation.output

    def probability(kept: str) -> float:
        return predictor.predict(kept).probabilities[explanation.target]

    top = before - probability(without(text, words, set(ranked[:k])))
    randoms = [before - probability(without(text, words, set(rng.sample(range(len(words)), k)))) for _ in range(3)]
    return top, statistics.mean(randoms), explanation.seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        if len(arg(1, "")) > 0:
            run_dir, test_csv = Path(arg(1, "")), Path(arg(2, ""))
        else:
            run_dir, test_csv = drug_reviews_run(folder)
        texts = read_texts(test_csv, arg(3, "text"))[: int(arg(4, "60"))]
        predictor = Predictor.load(run_dir)
        explain(predictor, texts[0])  # warm up (Captum's import, the first backward pass)
        tokenizer = getattr(predictor.scorer, "tokenizer", None)
        long = [len(tokenizer(t)["input_ids"]) >= 128 if tokenizer else len(t.split()) >= 100 for t in texts]
        figures = {"run": run_dir.name, "texts": len(texts), "long_texts": sum(long)}
        for method in METHODS:
            rng = random.Random(SEED)
            results = [deletion_drops(predictor, text, method, rng) for text in texts]
            top, rand = statistics.mean(r[0] for r in results), statistics.mean(r[1] for r in results)
            seconds = [r[2] for r in results]
            long_seconds = [s for s, is_long in zip(seconds, long) if is_long]
            figures[method] = {
                "top_k_drop": round(top, 4),
                "random_k_drop": round(rand, 4),
                "drop_ratio": round(top / rand, 2) if rand > 0 else None,
                "median_s": round(statistics.median(seconds), 3),
                "median_s_128_tokens": round(statistics.median(long_seconds), 3) if long_seconds else None,
            }
    report("explain_faithfulness", **figures)


if __name__ == "__main__":
    main()
