"""A dataset on the Hugging Face Hub (or a folder laid out like one) as training data: `datasets.load_dataset`
streams the chosen split, so that a row limit holds before the whole split is downloaded; class ids become their
label names; and the rows are kept as a Parquet file of text columns, read from there on exactly as an upload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from .tables import Rows, cell_text, decode_class_labels
from .writers import write_table

# a split with an optional slice of rows, as `datasets` writes it: "train", "train[:5000]", "test[100:600]"
SPLIT = re.compile(r"^(?P<split>[\w.-]+)(?:\[(?P<start>\d*):(?P<stop>\d*)\])?$")


@dataclass(frozen=True)
class HubDataset:
    """Which rows of which dataset: a Hub id (`owner/name`) or a local dataset folder, a config, a split."""

    name: str
    config: str | None = None
    split: str = "train"

    @property
    def file_name(self) -> str:
        """The Parquet file's name: says where its rows came from (the run record keeps it as its data source)."""
        name = Path(self.name.rstrip("/")).name if Path(self.name).exists() else self.name.replace("/", "__")
        parts = [re.sub(r"[^\w.-]+", "_", p).strip("_") for p in (name, self.config, self.split) if p]
        return "-".join(parts) + ".parquet"


def default_folder() -> Path:
    """Where the command line keeps fetched splits: beside the `datasets` cache (on a Space, persistent storage)."""
    return Path(datasets.config.HF_DATASETS_CACHE) / "workbench-tables"


def fetch_hub_dataset(
    source: HubDataset, folder: str | Path, max_rows: int | None = None, token: str | None = None
) -> Path:
    """Stream the split's rows (refusing more than `max_rows`) into `folder`/<file_name>; returns the file."""
    match = SPLIT.match(source.split.strip().replace(" ", ""))
    if not match:
        raise ValueError(
            f"'{source.split}' is not a split; give a name such as train, or a slice such as train[:5000]."
        )
    start, stop = int(match["start"] or 0), int(match["stop"]) if match["stop"] else None
    stream = _open_split(source, match["split"], token)
    rows = _take_rows(source, stream, start, stop, max_rows)
    columns = tuple(stream.features or (rows[0] if rows else {}))
    if not rows:
        raise ValueError(f"Split '{source.split}' of {source.name} has no rows; choose another split.")
    table = Rows(columns, [[row.get(c) for c in columns] for row in rows])
    if stream.features:
        table = decode_class_labels(table, stream.features)
    path = Path(folder) / source.file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(path, table.columns, [[cell_text(c) for c in row] for row in table.rows])
    return path


def _open_split(source: HubDataset, split: str, token: str | None) -> datasets.IterableDataset:
    name = source.name.strip()
    if not name:
        raise ValueError("Give the name of a dataset on the Hub, such as stanfordnlp/imdb.")
    try:
        return datasets.load_dataset(name, source.config or None, split=split, streaming=True, token=token)
    except datasets.exceptions.DatasetNotFoundError:
        raise ValueError(
            f"There is no dataset {name} on the Hub, or it is private or gated: check the name, or give a token "
            f"that may read it."
        ) from None
    except ConnectionError:
        raise ValueError(
            f"Could not reach the Hugging Face Hub to load {name}; check the network (or HF_HUB_OFFLINE), or "
            f"upload the data as a file."
        ) from None
    except ValueError as error:
        raise ValueError(_choice_message(name, split, str(error))) from None


def _choice_message(name: str, split: str, reason: str) -> str:
    """`datasets`' refusals of a split or config, as one sentence naming the choices."""
    choices = re.search(r"Available(?: splits)?: \[(.*)\]", reason)
    available = choices[1].replace("'", "") if choices else ""
    if "split" in reason.lower():
        return f"{name} has no split '{split}'; its splits are: {available}."
    if "config" in reason.lower():
        if "missing" in reason.lower():
            return f"{name} has several configurations ({available}); choose one."
        return f"{name} has no such configuration; its configurations are: {available}."
    return f"{name} could not be loaded ({reason.splitlines()[0][:200]})."


def _take_rows(
    source: HubDataset, stream: datasets.IterableDataset, start: int, stop: int | None, max_rows: int | None
) -> list[dict[str, Any]]:
    if start:
        stream = stream.skip(start)
    if stop is not None:
        stream = stream.take(max(0, stop - start))
    rows: list[dict[str, Any]] = []
    try:
        for row in stream:
            if max_rows is not None and len(rows) >= max_rows:
                raise ValueError(
                    f"Split '{source.split}' of {source.name} has more than {max_rows:,} rows, the limit here; ask "
                    f"for a slice such as {SPLIT.match(source.split)['split']}[:{max_rows}]."
                )
            rows.append(row)
    except (ConnectionError, OSError) as error:
        raise ValueError(f"Reading {source.name} stopped half way ({error}); try again.") from None
    return rows
