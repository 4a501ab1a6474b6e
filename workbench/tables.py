"""Reading a user's table in any format the workbench takes, and writing a labelled copy back in the same format.

CSV, TSV and TXT go through `csvfile.py`; JSON Lines, JSON (a list of records), Parquet and Excel `.xlsx` are read
here into `Rows` (the cleaned header and the cells as the file holds them: numbers stay numbers), from which the
engine gets the same thing a CSV gives: a `datasets.Dataset` whose columns are all strings. The same limits apply
(a row limit is checked before the whole file is turned into a table) and a bad file gets one sentence.
"""

from __future__ import annotations

import datetime
import json
import math
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from .csvfile import check_row_limit as check_csv_row_limit
from .csvfile import clean_header, read_csv

CSV, JSONL, JSON, PARQUET, XLSX = "csv", "jsonl", "json", "parquet", "xlsx"
SUFFIXES = {
    ".csv": CSV,
    ".tsv": CSV,
    ".txt": CSV,
    ".jsonl": JSONL,
    ".ndjson": JSONL,
    ".json": JSON,
    ".parquet": PARQUET,
    ".xlsx": XLSX,
}
UPLOAD_TYPES = list(SUFFIXES)  # what the app's upload boxes accept
LIST_SEPARATOR = "|"  # a list cell (labels of a multi-label row) is written the way a multi-label CSV cell is


@dataclass(frozen=True)
class Rows:
    """A table as read from its file: the cleaned header and each row's cells as the file holds them."""

    columns: tuple[str, ...]
    rows: list[list[Any]]

    def as_dataset(self) -> datasets.Dataset:
        """The table the engine reads: every column a string, empty cells None (as a CSV is read)."""
        columns = {name: [cell_text(row[i]) for row in self.rows] for i, name in enumerate(self.columns)}
        features = datasets.Features({name: datasets.Value("string") for name in self.columns})
        return datasets.Dataset.from_dict(columns, features=features)


def table_format(path: str | Path) -> str:
    """The format a file is read and written in, from its name; an unknown suffix is read as CSV text."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xls":
        raise ValueError(f"{Path(path).name} is an old-style Excel file; save it as .xlsx (or CSV) and try again.")
    return SUFFIXES.get(suffix, CSV)


def read_table(path: str | Path, max_rows: int | None = None, sheet: str | None = None) -> datasets.Dataset:
    """Any supported file as a `datasets.Dataset` of string columns; with `max_rows`, a larger file is refused
    before it is read whole."""
    if table_format(path) == CSV:
        return read_csv(path, max_rows)
    return read_rows(path, max_rows, sheet).as_dataset()


def read_rows(path: str | Path, max_rows: int | None = None, sheet: str | None = None) -> Rows:
    """Any supported file as `Rows`, its cells as the file holds them (a CSV's are strings)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"File not found: {path}.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path.name} is empty; upload a table with a header row and data rows.")
    kind = table_format(path)
    if kind == CSV:
        table = read_csv(path, max_rows)
        return Rows(tuple(table.column_names), [[row[c] for c in table.column_names] for row in table])
    reader = {JSONL: _read_jsonl, JSON: _read_json, PARQUET: _read_parquet, XLSX: _read_xlsx}[kind]
    rows = reader(path, max_rows, sheet) if kind == XLSX else reader(path, max_rows)
    if not rows.rows:
        raise ValueError(f"{path.name} has a header but no data rows.")
    return rows


def check_row_limit(path: str | Path, max_rows: int) -> None:
    """Refuse a file with more than `max_rows` data rows, reading no more of it than that."""
    if table_format(path) == CSV:
        check_csv_row_limit(path, max_rows)
    else:
        read_rows(path, max_rows)


def _too_many_rows(path: Path, max_rows: int) -> ValueError:
    return ValueError(
        f"{path.name} has more than {max_rows:,} rows, the limit here; upload a sample of at most {max_rows:,} rows."
    )


def cell_text(value: Any) -> str | None:
    """A cell as the engine reads it: text, or None when empty. A list (the labels of a multi-label row) is joined
    with `|`, as in a multi-label CSV; an empty list is a lone `|` (a row with no labels), not an empty cell (a row
    whose labels are missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        items = [t for t in (cell_text(v) for v in value) if t is not None]
        return LIST_SEPARATOR.join(items) or LIST_SEPARATOR
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return None  # an image or other binary cell carries no text
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return None
    return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)


# ---------------------------------------------------------------------------------------------- readers


def _records_to_rows(records: Iterable[dict[str, Any]]) -> Rows:
    """Records (dicts) as rows; the header is every key in the order first seen, a missing key an empty cell."""
    records = list(records)
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    names = list(keys)
    return Rows(clean_header([str(k) for k in names]), [[record.get(k) for k in names] for record in records])


def _read_jsonl(path: Path, max_rows: int | None) -> Rows:
    return _records_to_rows(_jsonl_records(path, max_rows))


def _jsonl_records(path: Path, max_rows: int | None) -> Iterator[dict[str, Any]]:
    count = 0
    with path.open(encoding="utf-8-sig", errors="strict") as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(
                        f"{path.name}: line {line_number} is not JSON ({error.msg}); each line of a JSON Lines file "
                        f'must be one object such as {{"text": "...", "label": "..."}}.'
                    ) from None
                if not isinstance(record, dict):
                    raise ValueError(
                        f"{path.name}: line {line_number} holds a {_json_kind(record)}, not an object; each line of "
                        f'a JSON Lines file must be one object such as {{"text": "...", "label": "..."}}.'
                    )
                count += 1
                if max_rows is not None and count > max_rows:
                    raise _too_many_rows(path, max_rows)
                yield record
        except UnicodeDecodeError:
            raise ValueError(f"{path.name} is not UTF-8 text; JSON Lines files must be saved as UTF-8.") from None


def _json_kind(value: Any) -> str:
    kinds = {dict: "single object", list: "list", str: "string", int: "number", float: "number", bool: "true/false"}
    return kinds.get(type(value), "null")


def _read_json(path: Path, max_rows: int | None) -> Rows:
    """A list of records, or a table by columns as pandas writes it (`{"col": [...]}` or `{"col": {"0": ...}}`)."""
    try:
        content = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text; JSON files must be saved as UTF-8.") from None
    except json.JSONDecodeError as error:
        hint = " (a JSON Lines file? name it .jsonl)" if "Extra data" in error.msg else ""
        raise ValueError(f"{path.name} is not valid JSON: {error.msg} on line {error.lineno}{hint}.") from None
    if isinstance(content, dict) and content and all(isinstance(v, (list, dict)) for v in content.values()):
        content = _columns_to_records(path, content)
    if not isinstance(content, list) or not all(isinstance(r, dict) for r in content):
        raise ValueError(
            f'{path.name} must hold a list of records such as [{{"text": "...", "label": "..."}}, ...]; '
            f"it holds {'a list of other values' if isinstance(content, list) else 'a ' + _json_kind(content)}."
        )
    if max_rows is not None and len(content) > max_rows:
        raise _too_many_rows(path, max_rows)
    return _records_to_rows(content)


def _columns_to_records(path: Path, columns: dict[str, Any]) -> list[dict[str, Any]]:
    values = {name: list(v.values()) if isinstance(v, dict) else v for name, v in columns.items()}
    if len({len(v) for v in values.values()}) != 1:
        raise ValueError(f"{path.name} holds columns of different lengths; export it as a list of records.")
    names = list(values)
    return [dict(zip(names, cells)) for cells in zip(*values.values())]


def _read_parquet(path: Path, max_rows: int | None) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        if max_rows is not None and file.metadata.num_rows > max_rows:
            raise _too_many_rows(path, max_rows)
        table = file.read()
    except (pa.ArrowException, OSError) as error:
        raise ValueError(
            f"{path.name} is not a readable Parquet file ({_first_sentence(error)}); it may be truncated: export or "
            f"download it again."
        ) from None
    rows = table.to_pylist()
    return decode_class_labels(_records_to_rows(rows), datasets.Features.from_arrow_schema(table.schema))


def _first_sentence(error: BaseException) -> str:
    return str(error).strip().splitlines()[0].split(". ")[0].rstrip(".")[:120]


def decode_class_labels(rows: Rows, features: datasets.Features) -> Rows:
    """Class ids written by `datasets` (a ClassLabel in the file's schema) become their label names."""
    decoders = {i: features[name] for i, name in enumerate(rows.columns) if name in features}
    decoders = {i: f for i, f in decoders.items() if _class_label(f) is not None}
    if not decoders:
        return rows
    decoded = [[_decode(decoders[i], cell) if i in decoders else cell for i, cell in enumerate(r)] for r in rows.rows]
    return Rows(rows.columns, decoded)


def _class_label(feature: Any) -> datasets.ClassLabel | None:
    if isinstance(feature, datasets.ClassLabel):
        return feature
    inner = getattr(feature, "feature", None)  # a List (Sequence) of class labels: a multi-label column
    return inner if isinstance(inner, datasets.ClassLabel) else None


def _decode(feature: Any, cell: Any) -> Any:
    names = _class_label(feature).names
    if isinstance(cell, list):
        return [names[i] for i in cell if isinstance(i, int) and 0 <= i < len(names)]
    return names[cell] if isinstance(cell, int) and 0 <= cell < len(names) else None  # -1 is "no label"


def list_sheets(path: str | Path) -> list[str]:
    """The sheet names of an Excel workbook (empty for any other format)."""
    if table_format(path) != XLSX:
        return []
    book = _open_workbook(Path(path))
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)  # cached values: formulas never run
    except zipfile.BadZipFile:
        raise ValueError(f"{path.name} is not an Excel workbook (it is not a valid .xlsx file).") from None
    except Exception:  # a zip of something else: openpyxl fails on the missing workbook parts in several ways
        raise ValueError(
            f"{path.name} is a zip file but not an Excel workbook; save it from your spreadsheet as .xlsx or CSV."
        ) from None


def _read_xlsx(path: Path, max_rows: int | None, sheet: str | None) -> Rows:
    book = _open_workbook(path)
    try:
        if sheet and sheet not in book.sheetnames:
            raise ValueError(f"{path.name} has no sheet '{sheet}'; its sheets are: {', '.join(book.sheetnames)}.")
        worksheet = book[sheet] if sheet else book.worksheets[0]
        title = worksheet.title
        lines = (list(r) for r in worksheet.iter_rows(values_only=True) if any(_filled(c) for c in r))
        header = next(lines, None)
        if header is None:
            raise ValueError(f"Sheet '{title}' of {path.name} is empty; choose the sheet that holds the table.")
        if not any(isinstance(c, str) and c.strip() for c in header):
            raise ValueError(
                f"Sheet '{title}' of {path.name} has no header row (its first row holds data); put the column names "
                f"in the first row."
            )
        rows = []
        for row in lines:
            if max_rows is not None and len(rows) >= max_rows:
                raise _too_many_rows(path, max_rows)
            rows.append((row + [None] * len(header))[: len(header)])
    finally:
        book.close()
    return _without_blank_columns(Rows(clean_header(["" if c is None else str(c) for c in header]), rows), header)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _without_blank_columns(rows: Rows, header: Sequence[Any]) -> Rows:
    """Drop columns with neither a name nor a value (a sheet's used range often runs wider than its table)."""
    keep = [i for i, name in enumerate(header) if _filled(name) or any(_filled(r[i]) for r in rows.rows)]
    if len(keep) == len(header):
        return rows
    return Rows(tuple(rows.columns[i] for i in keep), [[r[i] for i in keep] for r in rows.rows])
