"""Reading a user's CSV file: sniff the encoding (UTF-8 with or without BOM, else Latin-1) and the delimiter, clean
the header (stray spaces, blanks, duplicates), refuse what is not text, and load it through the `datasets` csv builder
with every column as a string, so no chunk-by-chunk type guessing can fail half way through a large file."""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import datasets

DELIMITERS = (",", ";", "\t", "|")

datasets.disable_progress_bars()
datasets.utils.logging.set_verbosity_error()


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str
    columns: tuple[str, ...]



def sniff_csv(path: str | Path) -> CsvFormat:
    """Find the encoding (UTF-8 with or without BOM, else Latin-1), the delimiter and the cleaned header."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"File not found: {path}.")
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ValueError(f"{path.name} is empty; upload a CSV with a header row and data rows.")
    if head.startswith(b"PK\x03\x04"):
        raise ValueError(f"{path.name} is a zip or Excel workbook, not a CSV; save it as CSV and try again.")
    if b"\x00" in head[:8192]:
        raise ValueError(f"{path.name} is a binary file, not a CSV text file; export your table as CSV.")
    encoding = _detect_encoding(path, head)
    first_line = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    return CsvFormat(encoding, delimiter, _clean_header(_split_header(first_line, delimiter)))


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


def _clean_header(names: Sequence[str]) -> tuple[str, ...]:
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


def read_csv(path: str | Path) -> datasets.Dataset:
    """Load a CSV as a `datasets.Dataset` whose columns are all strings (empty cells are None)."""
    fmt = sniff_csv(path)
    if not _has_data_row(path, fmt):  # checked first: `datasets` fails on an empty table with an obscure message
        raise ValueError(f"{Path(path).name} has a header but no data rows.")
    features = datasets.Features({name: datasets.Value("string") for name in fmt.columns})
    try:
        table = datasets.load_dataset(
            "csv", data_files=str(path), split="train", delimiter=fmt.delimiter, encoding=fmt.encoding,
            column_names=list(fmt.columns), header=0, features=features, keep_default_na=False, na_values=[""],
        )
    except Exception as error:  # pandas' and datasets' errors arrive wrapped; show the innermost one
        raise ValueError(f"{Path(path).name} could not be read as CSV: {_innermost_message(error)}") from error
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
        except csv.Error:  # e.g. a cell over the csv module's size limit: there is data, let `datasets` read it
            return True


def _innermost_message(error: BaseException) -> str:
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    message = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    if "Expected" in message and "fields" in message:
        message += " (a row has more cells than the header: quote cells that contain the delimiter)"
    return message
