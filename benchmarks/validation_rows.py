"""How many validation rows a run needs: the automatic validation split is capped (splits.MAX_AUTO_VALIDATION_ROWS)
because on large data its every evaluation costs training time. This measures what more rows buy, on real data.

Data: the 56,007 distinct movie titles and their IMDB genres (benchmarks/task_data.py), as a multi-label task (all
titles, 7 genres, scored by micro-F1 as the workbench's early stopping does) and as a single-label one (the titles
with exactly one genre, scored by macro-F1). Two TF-IDF + logistic-regression models of slightly different quality
("two epochs") are trained on 4,000 titles; the other titles are the pool whose scores count as the truth. For each
validation size, 400 random draws from the pool give: the spread (standard deviation) of the score, and how often
the draw ranks the two models as the pool does (the chance that early stopping keeps the better epoch). One JSON
line per task and size, with what an evaluation of that many rows costs in BERT training steps (a scored row costs
about a third of a trained one; batch 16).

    python benchmarks/validation_rows.py
"""

from __future__ import annotations

import random
import statistics

import common  # noqa: F401  (offline settings first)
import numpy as np
from common import report
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from task_data import GENRES, movie_titles

SIZES = (250, 500, 1000, 2000, 4000, 8000)
DRAWS, TRAIN_ROWS, SEED = 400, 4000, 0


def titles() -> list[tuple[str, list[int]]]:
    return [(title, [int(g in genres) for g in GENRES]) for title, genres in movie_titles()]


def two_models(texts: list[str], targets: np.ndarray, multi_label: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Predictions on the pool of two models of a little different quality, and where the pool starts."""
    features = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2).fit(texts[:TRAIN_ROWS])
    x = features.transform(texts)
    predictions = []
    for c in (4.0, 1.0):
        model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced")
        model = OneVsRestClassifier(model) if multi_label else model
        model.fit(x[:TRAIN_ROWS], targets[:TRAIN_ROWS])
        predictions.append(model.predict(x[TRAIN_ROWS:]))
    return predictions[0], predictions[1], TRAIN_ROWS


def measure(task: str, texts: list[str], targets: np.ndarray, multi_label: bool) -> None:
    average = "micro" if multi_label else "macro"
    a, b, start = two_models(texts, targets, multi_label)
    truth = targets[start:]
    score = lambda predicted, rows: f1_score(truth[rows], predicted[rows], average=average, zero_division=0)  # noqa: E731
    everything = np.arange(len(truth))
    a_better = score(a, everything) > score(b, everything)
    rng = random.Random(SEED)
    for size in SIZES:
        draws = [np.array(rng.sample(range(len(truth)), size)) for _ in range(DRAWS)]
        scores = [(score(a, rows), score(b, rows)) for rows in draws]
        report(
            "validation_rows",
            task=task,
            rows=size,
            pool_rows=len(truth),
            score=f"{average}-F1",
            pool_scores=[round(score(a, everything), 4), round(score(b, everything), 4)],
            spread_sd=round(statistics.pstdev(s[0] for s in scores), 4),
            keeps_the_better=round(sum((sa > sb) == a_better for sa, sb in scores) / DRAWS, 3),
            evaluation_cost_in_bert_steps=round(size / 3 / 16, 1),
        )


def main() -> None:
    rows = titles()
    random.Random(SEED).shuffle(rows)
    texts, labels = [t for t, _ in rows], np.array([g for _, g in rows])
    measure("multi-label (all titles, 7 genres)", texts, labels, multi_label=True)
    single = [(t, g.index(1)) for t, g in rows if sum(g) == 1]
    measure("single-label (titles of one genre)", [t for t, _ in single], np.array([g for _, g in single]), False)


if __name__ == "__main__":
    main()
