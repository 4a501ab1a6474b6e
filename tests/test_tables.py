"""Tests for workbench.tables and workbench.writers: every file type the workbench takes (TSV, JSON Lines, JSON,
Parquet, Excel) reads into the same table a CSV gives and trains; each bad file gets its one sentence; the row limit
holds before a file is read whole; a labelled file comes back in the format it came in, its own cells unchanged,
and no cell of it can run as a spreadsheet formula."""

import csv
import json
import zipfile
from pathlib import Path

import datasets
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import run_to_end

from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import started_of
from workbench.predict import Predictor
from workbench.tables import check_row_limit, list_sheets, read_rows, read_table

HEADER = ["review", "sentiment", "stars"]


def records(text_csv: Path) -> list[dict]:
    with text_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {"review": r["review"], "sentiment": r["sentiment"], "stars": 5 if r["sentiment"] == "positive" else 1}
        for r in rows
    ]


def write_format(records: list[dict], path: Path) -> Path:
    """The rows in the format `path`'s suffix names, as a user's tool would write them."""
    suffix = path.suffix
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(records), encoding="utf-8")
    elif suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(records), path)
    elif suffix == ".xlsx":
        book = openpyxl.Workbook()
        book.active.append(list(records[0]))
        for r in records:
            book.active.append(list(r.values()))
        book.save(path)
    elif suffix == ".tsv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(list(records[0]))
            writer.writerows([list(r.values()) for r in records])
    return path


FORMATS = [".tsv", ".jsonl", ".json", ".parquet", ".xlsx"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_reads_as_the_csv_does(text_csv, tmp_path, suffix):
    path = write_format(records(text_csv), tmp_path / f"reviews{suffix}")
    table = read_table(path)

    assert table.column_names == HEADER
    assert table.features["stars"] == datasets.Value("string")  # as a CSV's cells: the engine reads text
    assert table["stars"][:2] == ["5", "1"]
    assert table["review"] == read_table(text_csv)["review"]
    data = load_data(DataSpec(path=str(path)), seed=0)
    assert (data.columns.text, data.columns.label) == ("review", "sentiment")
    assert list(data.labels.names) == ["negative", "positive"]


@pytest.fixture(scope="module")
def mlp_text_run(tmp_path_factory, text_csv) -> Path:
    path = write_format(records(text_csv), tmp_path_factory.mktemp("data") / "reviews.parquet")
    data = load_data(DataSpec(path=str(path), feature_columns=()), seed=0)
    config = TrainConfig(model="mlp", epochs=3, patience=0, output=str(tmp_path_factory.mktemp("runs")))
    return Path(started_of(run_to_end(config, data)).run_dir)


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_labelled_file_comes_back_in_its_format_with_its_cells_unchanged(mlp_text_run, text_csv, tmp_path, suffix):
    rows = [{**r, "confidence": 0.25} for r in records(text_csv)[:6]]  # the file's own column stays the file's
    path = write_format(rows, tmp_path / f"in{suffix}")
    output = tmp_path / f"out{suffix}"

    assert Predictor.load(mlp_text_run).predict_file(path, output) == 6
    back = read_rows(output)
    assert back.columns[:3] == tuple(HEADER)
    assert "_confidence" in back.columns and "predicted_label" in back.columns
    stars = [r[back.columns.index("stars")] for r in back.rows]
    assert stars == (["5", "1"] * 3 if suffix == ".tsv" else [5, 1] * 3)  # parquet, JSON and Excel keep numbers
    confidence = [r[back.columns.index("_confidence")] for r in back.rows]
    assert all(isinstance(c, float) for c in confidence) or suffix == ".tsv"
    assert {r[back.columns.index("predicted_label")] for r in back.rows} <= {"positive", "negative"}


def test_excel_output_stores_formula_like_cells_as_text(mlp_text_run, tmp_path):
    path = tmp_path / "in.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["review", "note"])
    for text, note in [("great fun", '=HYPERLINK("http://evil.example","click")'), ("awful mess", "@SUM(A1:A2)")]:
        book.active.append([text, note])
        book.active.cell(book.active.max_row, 2).data_type = "s"  # text that looks like a formula, as typed with '
    book.save(path)
    output = tmp_path / "out.xlsx"
    Predictor.load(mlp_text_run).predict_file(path, output)

    cells = [c for row in openpyxl.load_workbook(output).active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert '=HYPERLINK("http://evil.example","click")' in [c.value for c in cells]  # shown as the user typed it


# ---------------------------------------------------------------------------------------------- bad files


def write_bytes(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def zip_of(names: dict[str, str]) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.jsonl", '{"review": "great", "sentiment": "positive"}\n{"review": "oops"\n', "line 2 is not JSON"),
        ("list.jsonl", '{"review": "great"}\n["not", "an", "object"]\n', "line 2 holds a list, not an object"),
        ("scalar.json", '"just a string"', "must hold a list of records"),
        ("numbers.json", "[1, 2, 3]", "must hold a list of records"),
        ("broken.json", '[{"review": "great"', "is not valid JSON"),
        ("lines.json", '{"a": 1}\n{"a": 2}\n', "name it .jsonl"),
        ("ragged.json", '{"review": ["a", "b"], "sentiment": ["x"]}', "columns of different lengths"),
        ("not.parquet", b"PAR1 this is not really parquet", "not a readable Parquet file"),
        ("other.xlsx", zip_of({"readme.txt": "hello"}), "zip file but not an Excel workbook"),
        ("text.xlsx", "review,sentiment\ngreat,positive\n", "not an Excel workbook"),
        ("old.xls", b"\xd0\xcf\x11\xe0 old excel", "old-style Excel file"),
        ("empty.jsonl", "", "is empty"),
        ("blank.jsonl", "\n\n", "no data rows"),
    ],
)
def test_a_bad_file_gets_one_sentence(tmp_path, name, content, message):
    with pytest.raises(ValueError, match=message) as caught:
        read_table(write_bytes(tmp_path / name, content))
    assert name in str(caught.value) and "\n" not in str(caught.value)


def test_a_truncated_parquet_file_says_so(text_csv, tmp_path):
    whole = write_format(records(text_csv), tmp_path / "whole.parquet").read_bytes()
    cut = write_bytes(tmp_path / "cut.parquet", whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cut.parquet is not a readable Parquet file.*truncated"):
        read_table(cut)


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_a_sheet_is_chosen_by_name_and_the_first_is_the_default(tmp_path):
    rows = [["review", "sentiment"], ["great", "positive"], ["awful", "negative"]]
    path = workbook(tmp_path / "book.xlsx", {"notes": [["about this file"], ["made by hand"]], "data": rows})

    assert list_sheets(path) == ["notes", "data"]
    assert read_table(path).column_names == ["about this file"]
    assert read_table(path, sheet="data")["sentiment"] == ["positive", "negative"]
    with pytest.raises(ValueError, match="has no sheet 'Data'; its sheets are: notes, data"):
        read_table(path, sheet="Data")


def test_a_sheet_without_a_header_row_or_rows_is_named(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {"numbers": [[1, 2], [3, 4]], "blank": []})
    with pytest.raises(ValueError, match="Sheet 'numbers' of book.xlsx has no header row"):
        read_table(path)
    with pytest.raises(ValueError, match="Sheet 'blank' of book.xlsx is empty"):
        read_table(path, sheet="blank")


def test_excel_blank_rows_and_unused_columns_are_left_out(tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        {"s": [["review", "sentiment", None], [None, None, None], ["great", "positive", None], ["dull", "negative"]]},
    )
    table = read_table(path)
    assert table.column_names == ["review", "sentiment"]
    assert table["review"] == ["great", "dull"]


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet", ".xlsx"])
def test_the_row_limit_holds_in_every_format(text_csv, tmp_path, suffix):
    path = write_format(records(text_csv), tmp_path / f"reviews{suffix}")  # 90 rows
    check_row_limit(path, 90)
    with pytest.raises(ValueError, match="more than 89 rows, the limit here"):
        check_row_limit(path, 89)


# ---------------------------------------------------------------------------------------------- cells


def test_list_cells_read_as_multi_label_and_class_ids_as_their_names(tmp_path):
    features = datasets.Features(
        {"text": datasets.Value("string"), "topic": datasets.ClassLabel(names=["sport", "tech"])}
    )
    rows = {"text": ["a goal", "a chip", "a race", "a phone"], "topic": [0, 1, 0, 1]}
    path = tmp_path / "topics.parquet"
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(path))
    assert read_table(path)["topic"] == ["sport", "tech", "sport", "tech"]

    tags = [{"text": f"text {i}", "tags": [["a", "b"], ["a"], [], ["b"]][i % 4]} for i in range(40)]
    data = load_data(DataSpec(path=str(write_format(tags, tmp_path / "tags.jsonl"))), seed=0)
    assert data.task.value == "multi-label"
    assert list(data.labels.names) == ["a", "b"]


def test_pandas_default_json_reads_by_columns(tmp_path):
    path = write_bytes(
        tmp_path / "frame.json",
        json.dumps({"review": {"0": "great", "1": "awful"}, "sentiment": {"0": "positive", "1": "negative"}}),
    )
    assert read_table(path)["sentiment"] == ["positive", "negative"]


def test_labelling_reports_each_batch_and_a_stopped_one_writes_nothing(mlp_text_run, text_csv, tmp_path, monkeypatch):
    monkeypatch.setattr("workbench.predict.LABEL_BATCH_ROWS", 32)
    predictor = Predictor.load(mlp_text_run)
    stopped = predictor.label_file(text_csv, tmp_path / "stopped.csv")

    assert next(stopped) == (32, 90)
    stopped.close()  # a cancelled job: its generator is closed after a batch
    assert not (tmp_path / "stopped.csv").exists() and not list(tmp_path.iterdir())
    assert list(predictor.label_file(text_csv, tmp_path / "whole.csv")) == [(32, 90), (64, 90), (90, 90)]
    assert len(read_table(tmp_path / "whole.csv")) == 90
