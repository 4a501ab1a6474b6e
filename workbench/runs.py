"""The run folder: one folder per training run, self-describing, written so that a crash never leaves a run that
looks finished.

    <runs>/<run id>/run.json        status, config, data summary, label space, model info, device, headline metrics
                   events.jsonl     every training event, appended as it happens
                   metrics.json     the full evaluation of the saved weights on the validation rows
                   validation.parquet  the held-back rows, so the run can be evaluated again later
                   model.safetensors (+ config.json, tokenizer files for BERT; featurizer.json, mlp.json for the MLP)
                   model.onnx       after `export` only: the model for ONNX Runtime (export.py)

Every JSON file is written to a temporary name and renamed into place; `run.json` says "finished" only after the
weights and metrics are in place. A run still marked "running" whose process is gone is reported "interrupted".
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .columns import Columns
from .events import Event, Status, event_from_dict, event_to_dict

RUN_FILE, EVENTS_FILE, METRICS_FILE = "run.json", "events.jsonl", "metrics.json"
VALIDATION_FILE = "validation.parquet"  # the held-back rows, canonical columns (text, features, label id)
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9-]{1,40}-[0-9a-f]{12}$")
# Names this process among all that ever wrote runs here: a restarted container often gets the same pid again, so
# a pid alone would make a run killed with the old server look "running" forever under the new one.
PROCESS_TOKEN = secrets.token_hex(8)


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a temporary file beside `path`, then rename it over `path` in one step."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write_with(path, write)


def new_run_id(model_name: str) -> str:
    """Sortable by time, readable, and not guessable (48 random bits)."""
    slug = re.sub(r"[^a-z0-9]+", "-", Path(model_name).name.lower()).strip("-")[:40] or "model"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{secrets.token_hex(6)}"


def task_record(data: Any) -> dict[str, Any]:
    """run.json's `task` as the data sets it; training adds what it decides (the threshold, the target's scale)."""
    separator = data.label_format.separator
    return {"name": data.task.value, **({"separator": separator} if separator else {})}


def new_record(
    config: Any, data: Any, bundle: Any, kind: str, device: str, lr: float, precision: str
) -> dict[str, Any]:
    """run.json as the run begins: the model, the settings it trains with, the data, and where it trains."""
    return {
        "model": {"name": bundle.name, "kind": kind, **bundle.info},
        "config": {**config.to_dict(), "lr": lr},
        "data": data.summary(),
        "labels": list(data.labels.names),
        "columns": data.columns.to_dict(),
        "task": task_record(data),
        "device": device,
        "precision": precision,
    }


def create_run(root: str | Path, model_name: str, record: dict[str, Any]) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run_dir = root / new_run_id(model_name)
    run_dir.mkdir()
    atomic_write_json(
        run_dir / RUN_FILE,
        {
            "id": run_dir.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "status": Status.RUNNING,
            "pid": os.getpid(),
            "process": PROCESS_TOKEN,
            **record,
        },
    )
    return run_dir


@dataclass(frozen=True)
class ModelInfo:
    """run.json's `model`: the name as given, the family's kind, and what the family recorded about it."""

    name: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)  # parameters, max_length, source, vocabulary, ...

    @property
    def source(self) -> str:
        return str(self.details.get("source") or self.name)


@dataclass(frozen=True)
class RunRecord:
    """A run's `run.json`, read back: typed for the code that uses it, lenient with fields older runs lack."""

    path: Path
    status: Status  # as written; `effective_status` also knows whether a running run's process still lives
    model: ModelInfo
    labels: tuple[str, ...] = ()
    columns: Columns | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the data summary: source, rows, class counts, notes
    config: dict[str, Any] = field(default_factory=dict)  # the settings used, "auto" ones filled in
    metrics: dict[str, float] | None = None  # the headline scores on the validation rows
    task: dict[str, Any] = field(default_factory=dict)  # the task and what was decided for it (threshold, scale)
    device: str = ""
    precision: str = ""
    created: str = ""
    error: str | None = None
    pid: int | None = None
    process: str | None = None
    export: dict[str, Any] | None = None  # the ONNX export and the weights it was made from (export.py reads it)

    @property
    def id(self) -> str:
        return self.path.name

    @classmethod
    def from_dict(cls, path: Path, raw: dict[str, Any]) -> RunRecord:
        model = dict(raw.get("model") or {})
        name, kind = str(model.pop("name", "?")), str(model.pop("kind", ""))
        columns = raw.get("columns")
        return cls(
            path=path,
            status=Status.parse(raw.get("status")),
            model=ModelInfo(name, kind, model),
            labels=tuple(raw.get("labels") or ()),
            data=dict(raw.get("data") or {}),
            columns=Columns.from_dict(columns) if columns else None,
            config=dict(raw.get("config") or {}),
            metrics=raw.get("metrics"),
            task=raw.get("task") or {},
            device=raw.get("device", ""),
            precision=raw.get("precision", ""),
            created=raw.get("created", ""),
            error=raw.get("error"),
            pid=raw.get("pid"),
            process=raw.get("process"),
            export=raw.get("export"),
        )


def _read_raw(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / RUN_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{run_dir} is not a run folder (it has no {RUN_FILE}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"The run record {path} is damaged and cannot be read.") from None


def read_run(run_dir: str | Path) -> RunRecord:
    return RunRecord.from_dict(Path(run_dir), _read_raw(run_dir))


def update_run(run_dir: str | Path, **fields: Any) -> None:
    atomic_write_json(Path(run_dir) / RUN_FILE, {**_read_raw(run_dir), **fields})


def append_event(run_dir: str | Path, event: Event) -> None:
    with (Path(run_dir) / EVENTS_FILE).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        handle.flush()


def read_events(run_dir: str | Path) -> list[Event]:
    """The run's events; a last line cut short by a crash is skipped rather than failing the whole read."""
    path = Path(run_dir) / EVENTS_FILE
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(event_from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return events


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_alive(record: RunRecord) -> bool:
    """Whether the process that is training this run still lives (this one, or another that has its pid)."""
    if record.pid == os.getpid():
        # our pid but another token: a server before a restart
        return record.process is None or record.process == PROCESS_TOKEN
    return _process_alive(record.pid)


def effective_status(record: RunRecord) -> Status:
    """Running only while the training process lives; otherwise a running record was interrupted."""
    if record.status == Status.RUNNING and not _writer_alive(record):
        return Status.INTERRUPTED
    return record.status


@dataclass(frozen=True)
class RunSummary:
    id: str
    path: Path
    status: Status
    model: str
    data: str
    created: str
    accuracy: float | None
    f1_macro: float | None
    task: str = "single-label"
    metrics: dict[str, float] = field(default_factory=dict)


def list_runs(root: str | Path) -> list[RunSummary]:
    """Every readable run under `root`, newest first; folders without a readable run.json are skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    summaries = []
    for run_dir in root.iterdir():
        if not (run_dir.is_dir() and not run_dir.is_symlink() and RUN_ID.match(run_dir.name)):
            continue
        try:
            record = read_run(run_dir)
        except ValueError:
            continue
        metrics = record.metrics or {}
        summaries.append(
            RunSummary(
                id=run_dir.name,
                path=run_dir,
                status=effective_status(record),
                model=record.model.name,
                data=record.data.get("source", "?"),
                created=record.created,
                accuracy=metrics.get("accuracy"),
                f1_macro=metrics.get("f1_macro"),
                task=record.task.get("name", "single-label"),
                metrics=metrics,
            )
        )
    return sorted(summaries, key=lambda s: s.id, reverse=True)


def resolve_run(root: str | Path, run_id: str) -> Path:
    """The folder of a run id under `root`; anything that is not a plain run id is refused (no paths)."""
    run_id = str(run_id).strip()
    if not RUN_ID.match(run_id):
        raise ValueError(f"'{run_id}' is not a run id.")
    run_dir = Path(root) / run_id
    if run_dir.is_symlink() or not (run_dir / RUN_FILE).is_file():  # a link could lead out of the runs folder
        raise ValueError(f"There is no run '{run_id}'.")
    return run_dir


def delete_run(root: str | Path, run_id: str) -> None:
    shutil.rmtree(resolve_run(root, run_id))


def require_loadable(run_dir: str | Path) -> RunRecord:
    """The run record, if the run has weights that were completely written; else a clear ValueError."""
    record = read_run(run_dir)
    status = effective_status(record)
    if not status.has_weights:
        raise ValueError(f"Run {Path(run_dir).name} is {status}; only finished or stopped runs have weights to load.")
    return record
