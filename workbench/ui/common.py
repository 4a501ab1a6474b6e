"""What the tabs share: the app context (settings, job manager, shared states), who the visitor is, the runs
they may see, a small cache of loaded predictors, and the one place engine errors become `gr.Error`."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from .. import runs
from ..config import DataSpec, looks_like_local_path
from ..jobs import JobManager
from ..predict import Predictor
from ..tables import check_row_limit
from .settings import AppSettings


@dataclass
class Context:
    settings: AppSettings
    jobs: JobManager
    visitor: gr.State  # a per-browser secret key (kept in the browser's storage), empty for API clients
    data: gr.State  # the loaded data: {"path", "sheet", "text", "labels", "features", "pair", "task", "separator"}
    run_pickers: list[gr.Dropdown] = field(default_factory=list)  # refreshed whenever the runs change

    def owner(self, visitor: str | None, request: gr.Request | None) -> str:
        """Whose work this is: on a shared deployment the browser's key, else the API client's session; a local
        launch has a single user, who sees (and re-attaches to) everything."""
        if not self.settings.shared:
            return "local"
        return visitor or (request.session_hash if request is not None and request.session_hash else "local")

    def workspace(self, visitor: str | None, request: gr.Request | None) -> Path:
        return self.settings.workspace(self.owner(visitor, request))

    def run_dir(self, run_id: str | None, visitor: str | None, request: gr.Request | None) -> Path:
        if not run_id:
            raise ValueError("Choose a run first (train one, or pick one in the Runs tab).")
        return runs.resolve_run(self.workspace(visitor, request), run_id)

    def check_model_name(self, name: str) -> str:
        """On a shared deployment a typed model name is a Hub id or the bundled model, never a server path."""
        name = (name or "").strip()
        if self.settings.shared and looks_like_local_path(name):
            raise ValueError(
                "On this shared app a model is a Hugging Face Hub id (such as bert-base-uncased), "
                "'bundled-minilm' or 'mlp'; folders on the server cannot be used."
            )
        return name

    def check_dataset_name(self, name: str) -> str:
        """On a shared deployment a dataset is a Hub id, never a folder on the server."""
        name = (name or "").strip()
        if self.settings.shared and name and looks_like_local_path(name):
            raise ValueError(
                "On this shared app a dataset is a Hugging Face Hub id (owner/name); folders cannot be used."
            )
        return name

    def check_upload(self, path: str | None, what: str = "a file") -> str:
        """An uploaded file within this app's size and row limits, checked before anything parses the whole file
        (Gradio refuses larger uploads at the door; this also covers files that reach a handler another way)."""
        if not path:
            raise ValueError(f"Choose {what} to upload.")
        limit = self.settings.max_upload_mb
        if os.path.getsize(path) > limit * 1024 * 1024:
            raise ValueError(f"The file is larger than the {limit} MB upload limit; upload a smaller sample.")
        check_row_limit(path, self.settings.max_rows)
        return path

    def loadable_runs(self, visitor: str | None, request: gr.Request | None) -> list[str]:
        return [r.id for r in runs.list_runs(self.workspace(visitor, request)) if r.status.has_weights]


log = logging.getLogger("workbench.ui")


def data_choice(state: dict[str, Any]) -> dict[str, Any]:
    """The Data tab's choice (file, columns and task, kept in `Context.data`) as `DataSpec` fields."""
    return {
        "path": state["path"],
        "sheet": state.get("sheet"),
        "text_column": state["text"],
        "label_columns": tuple(state["labels"]) or None,
        "feature_columns": tuple(state["features"]),
        "text_pair_column": state.get("pair"),
        "task": state.get("task"),
        "label_separator": state.get("separator"),
    }


def data_spec(state: dict[str, Any]) -> DataSpec:
    return DataSpec(**data_choice(state))


def _as_user_error(error: Exception) -> gr.Error:
    """The engine's ValueError as it is; anything else (a bug, a full disk) logged in full for whoever runs the
    server, and shown to the visitor as one sentence without the traceback."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, ValueError):
        return gr.Error(str(error), print_exception=False)
    log.exception("unexpected error in a request")
    reason = (str(error).strip().splitlines() or [""])[0][:200]
    return gr.Error(
        f"Something went wrong on the server ({type(error).__name__}{': ' + reason if reason else ''}); "
        f"try again, and if it happens again, try another file or setting.",
        print_exception=False,
    )


def user_errors(handler: Callable) -> Callable:
    """Show errors as a readable message in the page (and the API), never a traceback."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from handler(*args, **kwargs)
            except Exception as error:
                raise _as_user_error(error) from None

        return generator_wrapper

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            raise _as_user_error(error) from None

    return wrapper


class PredictorCache:
    """The last few loaded predictors, so typing in the Predict tab does not reload weights on every key."""

    def __init__(self, size: int = 3):
        self._items: OrderedDict[tuple[str, float], Predictor] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def get(self, run_dir: Path) -> Predictor:
        key = (str(run_dir), (run_dir / runs.RUN_FILE).stat().st_mtime)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        predictor = Predictor.load(run_dir)
        with self._lock:
            self._items[key] = predictor
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return predictor


predictors = PredictorCache()
