"""Writing a table (a labelled copy of a user's file) in the format its name says: CSV and TSV with formula-like
cells neutralised, JSON Lines, JSON, Parquet with its column types kept, and Excel with every text cell stored as
text so that a spreadsheet never runs it as a formula. Every file is written whole or not at all."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import runs
from .tables import CSV, JSON, JSONL, PARQUET, XLSX, table_format

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(cell: Any) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix it with a quote."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_PREFIXES):
        try:
            float(text)
            return text  # a negative number is data, not a formula
        except ValueError:
            return "'" + text
    return text


def write_table(path: str | Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write `rows` under `columns` to `path`, in the format its suffix names (CSV when it names none)."""
    path = Path(path)
    kind = table_format(path)
    writer = {CSV: _write_csv, JSONL: _write_jsonl, JSON: _write_json, PARQUET: _write_parquet, XLSX: _write_xlsx}
    runs.atomic_write_with(path, lambda tmp: writer[kind](tmp, list(columns), rows, path.suffix.lower()))


def _write_csv(tmp: Path, columns: list[str], rows: Sequence[Sequence[Any]], suffix: str) -> None:
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t" if suffix == ".tsv" else ",")
        writer.writerow([neutralise_formula(c) for c in columns])
        for row in rows:
            writer.writerow([neutralise_formula(c) for c in row])


def _records(columns: list[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, (_json_value(c) for c in row))) for row in rows]


def _json_value(cell: Any) -> Any:
    """JSON has no NaN or infinity: such a number is written as null."""
    return None if isinstance(cell, float) and not math.isfinite(cell) else cell


def _write_jsonl(tmp: Path, columns: list[str], rows: Sequence[Sequence[Any]], suffix: str) -> None:
    with tmp.open("w", encoding="utf-8") as handle:
        for record in _records(columns, rows):
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _write_json(tmp: Path, columns: list[str], rows: Sequence[Sequence[Any]], suffix: str) -> None:
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(_records(columns, rows), handle, ensure_ascii=False, default=str, indent=1)


def _write_parquet(tmp: Path, columns: list[str], rows: Sequence[Sequence[Any]], suffix: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i in range(len(columns)):
        cells = [row[i] for row in rows]
        try:
            arrays.append(pa.array(cells))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in one column: keep them as text
            arrays.append(pa.array([None if c is None else str(c) for c in cells], pa.string()))
    pq.write_table(pa.Table.from_arrays(arrays, names=columns), tmp)


def _write_xlsx(tmp: Path, columns: list[str], rows: Sequence[Sequence[Any]], suffix: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("predictions")

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value if not isinstance(value, (list, dict)) else json.dumps(value, ensure_ascii=False)
        text = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))  # control characters: not in xlsx
        text.data_type = "s"  # stored as text: "=SUM(A1)" shows as typed and never runs as a formula
        return text

    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(c) for c in row])
    book.save(tmp)
