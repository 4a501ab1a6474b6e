"""Reading a user's CSV file: sniff the encoding (UTF-8 with or without BOM, else Latin-1) and the delimiter, clean
the header (stray spaces, blanks, duplicates), refuse what is not text, and load it through the `datasets` csv builder
with every column as a string, so no chunk-by-chunk type guessing can fail half way through a large file.

A row limit is checked by counting records before the table is built, so an oversized upload is refused after a
cheap scan rather than after the whole file has been parsed into memory."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets

DELIMITERS = (",", ";", "\t", "|")
MAX_CELL = 2**31 - 1  # a cell may be as large as the upload limit (the csv module refuses cells over 128 KB)


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str
    columns: tuple[str, ...]


def sniff_csv(path: str | Path) -> CsvFormat:
    """Find the encoding (UTF-8 with or without BOM, else Latin-1), the delimiter and the cleaned header."""
    path = Path(path)
    csv.field_size_limit(MAX_CELL)  # process-wide; set here, where every reading of a user's file begins
    if not path.is_file():
        raise ValueError(f"File not found: {path}.")
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ValueError(f"{path.name} is empty; upload a CSV with a header row and data rows.")
    if head.startswith(b"PK\x03\x04"):
        raise ValueError(
            f"{path.name} is a zip or Excel workbook, not a CSV; if it is a workbook, name it .xlsx, or save it as CSV."
        )
    if b"\x00" in head[:8192]:
        raise ValueError(f"{path.name} is a binary file, not a CSV text file; export your table as CSV.")
    encoding = _detect_encoding(path, head)
    first_line = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    return CsvFormat(encoding, delimiter, clean_header(_split_header(first_line, delimiter)))


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"  # every byte is valid Latin-1, so an odd file still reads instead of failing


def _split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))


def clean_header(names: Sequence[str]) -> tuple[str, ...]:
    """Strip whitespace, name blank headers and make duplicates unique (`a`, `a_2`)."""
    cleaned: list[str] = []
    for position, raw in enumerate(names, start=1):
        name = re.sub(r"\s+", " ", raw).strip() or f"column_{position}"
        base, n = name, 1
        while name in cleaned:
            n += 1
            name = f"{base}_{n}"
        cleaned.append(name)
    return tuple(cleaned)


def count_records(path: str | Path, fmt: CsvFormat, stop_after: int) -> int:
    """Data records after the header, counted without building a table, and only up to `stop_after` + 1.

    Counting line breaks is fast and never undercounts records; only when it exceeds the limit are the records
    counted properly (quoted cells may hold line breaks), stopping as soon as the limit is passed."""
    line_breaks = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            line_breaks += chunk.count(b"\n")
    if line_breaks <= stop_after:
        return line_breaks
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as handle:
        records = csv.reader(handle, delimiter=fmt.delimiter)
        count = 0
        try:
            next(records, None)
            for count, _ in enumerate(records, start=1):
                if count > stop_after:
                    break
        except csv.Error:  # a malformed record; reading it properly will say so, the line count stands in
            return line_breaks
        return count


def check_row_limit(path: str | Path, max_rows: int, fmt: CsvFormat | None = None) -> None:
    """Refuse a file with more than `max_rows` data rows before it is read into a table."""
    fmt = fmt or sniff_csv(path)
    if count_records(path, fmt, max_rows) > max_rows:
        raise ValueError(
            f"{Path(path).name} has more than {max_rows:,} rows, the limit here; "
            f"upload a sample of at most {max_rows:,} rows."
        )


def read_csv(path: str | Path, max_rows: int | None = None) -> datasets.Dataset:
    """Load a CSV as a `datasets.Dataset` whose columns are all strings (empty cells are None); with `max_rows`,
    a larger file is refused before it is parsed."""
    fmt = sniff_csv(path)
    if not _has_data_row(path, fmt):  # checked first: `datasets` fails on an empty table with an obscure message
        raise ValueError(f"{Path(path).name} has a header but no data rows.")
    if max_rows is not None:
        check_row_limit(path, max_rows, fmt)
    features = datasets.Features({name: datasets.Value("string") for name in fmt.columns})
    try:
        table = datasets.load_dataset(
            "csv",
            data_files=str(path),
            split="train",
            delimiter=fmt.delimiter,
            encoding=fmt.encoding,
            column_names=list(fmt.columns),
            header=0,
            features=features,
            keep_default_na=False,
            na_values=[""],
        )
    except Exception as error:  # pandas' and datasets' errors arrive wrapped; show the innermost one
        raise ValueError(_read_error_message(Path(path).name, _innermost_message(error), fmt)) from error
    if len(table) == 0:
        raise ValueError(f"{Path(path).name} has a header but no data rows.")
    return table


def _has_data_row(path: str | Path, fmt: CsvFormat) -> bool:
    """Whether any record after the header has a non-blank cell (reads only as far as the first one)."""
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as handle:
        records = csv.reader(handle, delimiter=fmt.delimiter)
        try:
            next(records, None)
            return any(any(cell.strip() for cell in record) for record in records)
        except csv.Error:  # a malformed record: there is data, and `datasets` will say what is wrong with it
            return True


def _innermost_message(error: BaseException) -> str:
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__


def _read_error_message(name: str, reason: str, fmt: CsvFormat) -> str:
    """One sentence for a parse failure; a ragged row (more cells than the header) is named by its line."""
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", reason)
    if ragged:
        expected, line, seen = ragged.groups()
        delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[fmt.delimiter]
        return (
            f"{name}: line {line} has {seen} cells but the header has {expected}; put quotes around cells "
            f"that contain a {delimiter}, or fix that row."
        )
    return f"{name} could not be read as CSV ({reason[:200]}); check that it is a plain CSV file."
