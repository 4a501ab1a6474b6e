"""Write the corpus of hostile and odd files (CSV, and the other file types the workbench takes) that every way
into the workbench (the CLI, the launched app) must survive: each file either works, or gets one clear sentence
saying what is wrong and what to do.

    python tests/corpus/make_corpus.py OUT_DIR      # writes every file into OUT_DIR

Nothing is committed: the files are made at test time (the 100,000-row and 5 MB ones are too big to keep in git),
from a fixed seed, so every run of the tests sees the same bytes. `CORPUS` says, next to each file, what the
workbench is meant to do with it: `None` means it loads and trains; a string is a fragment of the one-sentence
error the user must get.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

POSITIVE = ["great", "fun", "wonderful", "loved", "brilliant", "charming"]
NEGATIVE = ["awful", "boring", "mess", "terrible", "dull", "poor"]
FILLER = ["the", "film", "was", "and", "a", "movie", "it", "this", "story", "really"]
PNG_HEAD = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61")


def review(rng: random.Random, positive: bool) -> str:
    words = rng.sample(FILLER, 4) + rng.sample(POSITIVE if positive else NEGATIVE, 2)
    rng.shuffle(words)
    return " ".join(words)


def rows_of(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """n (review, label) pairs, alternating positive and negative."""
    rng = random.Random(seed)
    return [(review(rng, i % 2 == 0), "positive" if i % 2 == 0 else "negative") for i in range(n)]


def table(header: list[str], rows: list[list[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def reviews(n: int = 40, delimiter: str = ",", header: tuple[str, str] = ("review", "sentiment")) -> str:
    return table(list(header), [list(r) for r in rows_of(n)], delimiter)


def with_labels(labels: list[str], n: int = 40) -> str:
    """Reviews whose label column cycles through `labels` (the sentiment words still carry the signal)."""
    return table(["review", "label"], [[text, labels[i % len(labels)]] for i, (text, _) in enumerate(rows_of(n))])


def xlsx_bytes() -> bytes:
    """A zip laid out like an Excel workbook: what a user gets by renaming report.xlsx to report.csv."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")
    return out.getvalue()


def ragged() -> str:
    """Rows with too few cells (filled as empty) and one with too many, on line 7."""
    lines = reviews(20).splitlines()
    lines[3] = lines[3].split(",")[0]  # a row missing its label: dropped with a note
    lines[6] += ",extra,cells"
    return "\n".join(lines) + "\n"


def quoted_newlines() -> str:
    rows = [[f"{text}\nsecond line, with a comma\n\nand a blank line", label] for text, label in rows_of(30)]
    return table(["review", "sentiment"], rows)


def big_cell() -> str:
    """One cell of about 5 MB among ordinary rows."""
    rows = [list(r) for r in rows_of(40)]
    rows[0][0] = " ".join(["great"] * 900_000)
    return table(["review", "sentiment"], rows)


def many_rows(n: int = 100_000) -> str:
    rng = random.Random(1)
    out = io.StringIO()
    out.write("id,review,sentiment\n")
    for i in range(n):
        positive = rng.random() < 0.5
        out.write(f"{i},{review(rng, positive)},{'positive' if positive else 'negative'}\n")
    return out.getvalue()


def emoji_rtl() -> str:
    texts = {
        "positive": ["😀 رائع جدا great", "שמח מאוד 🎉 fun", "👍 loved it ✨"],
        "negative": ["😡 سيء جدا awful", "עצוב 💔 boring", "👎 a mess"],
    }
    rows = [[texts[label][i % 3] + f" {i}", label] for i, label in enumerate(["positive", "negative"] * 20)]
    return table(["نص review", "sentiment 🏷️"], rows)


def formulas() -> str:
    """Cells a spreadsheet would run as formulas (CSV injection), in the text and as a label."""
    starts = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A2)", "=cmd|' /C calc'!A0"]
    rows = [[f"{starts[i % len(starts)]} {text}", label] for i, (text, label) in enumerate(rows_of(40))]
    return table(["review", "sentiment"], rows)


def tagged(cells: list[str], n: int = 40) -> str:
    """Reviews with a multi-label `tags` column cycling through `cells` (labels joined with | or ;)."""
    return table(["review", "tags"], [[text, cells[i % len(cells)]] for i, (text, _) in enumerate(rows_of(n))])


def indicator_columns(stray: str | None = None) -> str:
    """Reviews with two 0/1 label columns; `stray` replaces one cell (on line 5)."""
    rows = [[text, int(label == "positive"), i % 2] for i, (text, label) in enumerate(rows_of(40))]
    if stray is not None:
        rows[3][2] = stray
    return table(["review", "upbeat", "long"], rows)


def targets(stray: str | None = None, constant: bool = False) -> str:
    """Reviews with a numeric `target` (many values); `stray` replaces one cell (on line 4)."""
    rows = [[text, "3.5" if constant else f"{(i * 7919) % 97 / 9.7:.3f}"] for i, (text, _) in enumerate(rows_of(60))]
    if stray is not None:
        rows[2][1] = stray
    return table(["review", "target"], rows)


def empty_pairs() -> str:
    return table(["question", "answer", "label"], [[text, "", label] for text, label in rows_of(40)])


def records(n: int = 40) -> list[dict]:
    return [
        {"review": text, "sentiment": label, "stars": 5 if label == "positive" else 1} for text, label in rows_of(n)
    ]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def jsonl_bad_line() -> str:
    lines = jsonl(records()).splitlines()
    lines[6] = lines[6][:-1]  # a record that lost its closing brace, on line 7
    return "\n".join(lines) + "\n"


def parquet_bytes(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_of_reviews() -> bytes:
    """Reviews in an Excel workbook, a formula-like cell among them and a column the table does not use."""
    rows = [["review", "sentiment", None]] + [[text, label, None] for text, label in rows_of(40)]
    rows[3][0] = "=1+1 " + rows[3][0]
    return workbook_bytes({"reviews": rows})


def zip_of_text() -> bytes:
    """A zip named .xlsx that holds something else: what a renamed archive looks like."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return out.getvalue()


Maker = Callable[[], "str | bytes"]
TEXT_ENCODINGS = {"latin1.csv": "latin-1", "utf8_bom.csv": "utf-8-sig"}

# file name -> (what makes it, None if it must work, else a fragment of the one-sentence error[, the DataSpec
# settings a user gives with it: columns and task that detection does not choose by itself])
CORPUS: dict[str, tuple] = {
    "empty.csv": (lambda: "", "is empty"),
    "header_only.csv": (lambda: "review,sentiment\n", "no data rows"),
    "random_bytes.csv": (lambda: random.Random(5).randbytes(4096), "binary file"),
    "image.csv": (lambda: PNG_HEAD + random.Random(6).randbytes(512), "binary file"),
    "workbook.csv": (xlsx_bytes, "Excel workbook"),
    "latin1.csv": (lambda: reviews(40).replace("film", "café"), None),
    "utf8_bom.csv": (lambda: reviews(40), None),
    "semicolons.csv": (lambda: reviews(40, ";"), None),
    "tabs.csv": (lambda: reviews(40, "\t"), None),
    "ragged.csv": (ragged, "line 7"),
    "quoted_newlines.csv": (quoted_newlines, None),
    "big_cell.csv": (big_cell, None),
    "duplicate_headers.csv": (
        lambda: table(["review", "review", "label"], [[t, t[::-1], lb] for t, lb in rows_of(40)]),
        None,
    ),
    "spaced_headers.csv": (lambda: reviews(40, header=("  the review ", " sentiment  ")), None),
    "labels_int.csv": (lambda: with_labels(["0", "1"]), None),
    "labels_float.csv": (lambda: with_labels(["0.5", "1.5"]), None),
    "labels_bool.csv": (lambda: with_labels(["True", "False"]), None),
    "labels_some_empty.csv": (lambda: with_labels(["yes", "no", ""], 60), None),
    "labels_all_empty.csv": (lambda: with_labels([""]), "empty in every row"),
    "one_class.csv": (lambda: with_labels(["spam"]), "only one class"),
    "unique_labels.csv": (
        lambda: table(["review", "label"], [[t, f"id-{i}"] for i, (t, _) in enumerate(rows_of(200))]),
        "looks like an id",
    ),
    "one_row.csv": (lambda: reviews(1), "only one class"),
    "rows_100k.csv": (many_rows, None),
    "emoji_rtl.csv": (emoji_rtl, None),
    "formulas.csv": (formulas, None),
    # the task shapes: multi-label cells, several 0/1 label columns, numeric targets, text pairs
    "tags_separator_only.csv": (lambda: tagged(["great|fun", "|", "dull", " ; ", "fun"]), None),
    "tags_label_once.csv": (lambda: tagged(["a|b", "b", "a"] * 9 + ["once"]), None),  # "once" is on one row
    "indicator_columns.csv": (indicator_columns, None, {"label_columns": ("upbeat", "long")}),
    "indicator_stray_value.csv": (
        lambda: indicator_columns("maybe"),
        "holds 'maybe' on line 5",
        {"label_columns": ("upbeat", "long")},
    ),
    "target_numbers.csv": (targets, None),
    "target_inf.csv": (lambda: targets("inf"), "holds 'inf' on line 4"),
    "target_nan.csv": (lambda: targets("NaN"), "holds 'NaN' on line 4"),
    "target_constant.csv": (lambda: targets(constant=True), "same value", {"task": "regression"}),
    "pair_all_empty.csv": (
        empty_pairs,
        "is empty in every row",
        {"text_column": "question", "text_pair_column": "answer"},
    ),
    # the other file types: each good one trains as the CSV does, each bad one gets its sentence
    "reviews.tsv": (lambda: reviews(40, "\t"), None),
    "reviews.jsonl": (lambda: jsonl(records()), None),
    "reviews.json": (lambda: json.dumps(records(), ensure_ascii=False), None),
    "reviews.parquet": (lambda: parquet_bytes(records()), None),
    "reviews.xlsx": (workbook_of_reviews, None),
    "bad_line.jsonl": (jsonl_bad_line, "line 7 is not JSON"),
    "not_records.json": (lambda: json.dumps({"review": "great", "sentiment": "positive"}), "list of records"),
    "truncated.parquet": (lambda: parquet_bytes(records())[:300], "not a readable Parquet file"),
    "renamed_zip.xlsx": (zip_of_text, "zip file but not an Excel workbook"),
    "no_header.xlsx": (lambda: workbook_bytes({"data": [[1, 0.5], [0, 0.25]]}), "has no header row"),
}


def settings_of(name: str) -> dict:
    return CORPUS[name][2] if len(CORPUS[name]) > 2 else {}


def cli_flags(settings: dict) -> list[str]:
    """The `train` flags that give these DataSpec settings (several label columns as one comma-separated flag)."""
    names = {"label_columns": "label-column"}
    flags = []
    for field, value in settings.items():
        flags += [
            f"--{names.get(field, field.replace('_', '-'))}",
            ",".join(value) if isinstance(value, tuple) else value,
        ]
    return flags


BIG_FILES = ("big_cell.csv", "rows_100k.csv")


def write_file(folder: Path, name: str) -> Path:
    content = CORPUS[name][0]()
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(TEXT_ENCODINGS.get(name, "utf-8")))
    return path


def make_corpus(folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write_file(folder, name) for name in CORPUS}


if __name__ == "__main__":
    for path in make_corpus(sys.argv[1] if len(sys.argv) > 1 else "corpus").values():
        print(f"{path.stat().st_size:>10,}  {path}")
