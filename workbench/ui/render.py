"""Pure render helpers: turn engine results (events, data summaries, metrics, run lists) into what the page shows.
No gradio here, so every picture of the state can be tested without a browser."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..events import (
    Ended,
    Evaluated,
    Event,
    Failed,
    Finished,
    Planned,
    Started,
    Status,
    Step,
    Stopped,
    describe_event,
    duration,
)
from ..metrics import REPORT_METRICS

TINY_CLASS = 10  # fewer rows than this in a class deserves a warning


def progress_html(events: Sequence[Event], status: Status, queue_position: int = 0) -> str:
    """A progress bar with step/total, ETA and throughput, or the job's state in words."""
    if status == Status.QUEUED:
        return _bar(
            0,
            f"Waiting in the queue: {queue_position} training{'s' if queue_position != 1 else ''} ahead. "
            f"Only one training uses the device at a time.",
        )
    started = next((e for e in events if isinstance(e, Started)), None)
    steps = [e for e in events if isinstance(e, Step)]
    if started is None:
        return _bar(0, "Preparing the data and the model…" if status == Status.RUNNING else f"Training {status}.")
    total = (steps[-1].total_steps if steps else started.total_steps) or 1  # a time budget may shorten it
    done = steps[-1].step if steps else 0
    if isinstance(events[-1], Ended):
        return _final_bar(events[-1], done, total)
    if not steps:
        return _bar(0, f"Started {started.model} on {started.device}: 0/{total} steps.")
    last = steps[-1]
    return _bar(
        100 * done / total,
        f"Step {done}/{total} · epoch {last.epoch:.2f} · loss {last.loss:.4f} · "
        f"{last.samples_per_second:.1f} rows/s · ETA {duration(last.eta_seconds)}",
    )


def _final_bar(final: Finished | Stopped | Failed, done: int, total: int) -> str:
    if isinstance(final, Finished):
        early = f" (early stopping: the best epoch, {final.best_epoch}, is kept)" if done < total else ""
        return _bar(100, f"Finished: {done}/{total} steps in {final.elapsed_seconds:.0f}s{early}.", final.status)
    if isinstance(final, Stopped):
        return _bar(
            100 * done / total, f"Stopped at step {final.step}/{total}; what was trained is kept.", final.status
        )
    return _bar(100 * done / total, f"Failed: {final.error}", final.status)


def _bar(percent: float, text: str, state: str = Status.RUNNING) -> str:
    return (
        f'<div class="wb-progress wb-{state}"><div class="wb-track"><div class="wb-fill" '
        f'style="width:{max(0.0, min(100.0, percent)):.1f}%"></div></div>'
        f'<div class="wb-progress-text">{html.escape(text)}</div></div>'
    )


def loss_frame(events: Sequence[Event]) -> pd.DataFrame:
    """Train loss per logged step and validation loss per epoch, one frame for a line plot.

    Both series are always present (an empty one as a single blank point): Gradio's plot fixes its colour legend on
    the first frame it draws, so a series that first appears later would never be drawn."""
    rows = [{"step": e.step, "loss": e.loss, "series": "train"} for e in events if isinstance(e, Step)]
    rows += [{"step": e.step, "loss": e.loss, "series": "validation"} for e in events if isinstance(e, Evaluated)]
    present = {row["series"] for row in rows}
    rows += [{"step": 0, "loss": float("nan"), "series": s} for s in ("train", "validation") if s not in present]
    frame = pd.DataFrame(rows, columns=["step", "loss", "series"])
    return frame.astype({"step": "int64", "loss": "float64", "series": "object"})  # numeric axes


def log_text(events: Sequence[Event], limit: int = 12) -> str:
    """The run in a few lines: how it started and how long the time budget lets it run, always; then the latest
    things that happened (steps are the progress bar's, not the log's)."""
    head = [describe_event(e) for e in events if isinstance(e, (Started, Planned))]
    lines = [describe_event(e) for e in events if not isinstance(e, (Started, Planned, Step))]
    return "\n".join(head + lines[-(limit - len(head)) :])


def throughput_text(events: Sequence[Event]) -> str:
    steps = [e for e in events if isinstance(e, Step)]
    return f"{steps[-1].samples_per_second:.1f} rows/s" if steps else "–"


def class_balance(summary: dict[str, Any]) -> tuple[pd.DataFrame, str | None]:
    counts = summary["class_counts"]
    frame = pd.DataFrame({"label": list(counts), "rows": list(counts.values())})
    tiny = [f"'{label}' ({n})" for label, n in counts.items() if n < TINY_CLASS]
    warning = (
        (
            f"Some classes have fewer than {TINY_CLASS} rows: {', '.join(tiny[:5])}. The model will rarely "
            f"predict them, and their scores will be noisy."
        )
        if tiny
        else None
    )
    return frame, warning


def metrics_frame(report: dict[str, Any]) -> pd.DataFrame:
    names = list(REPORT_METRICS)
    return pd.DataFrame({"metric": names, "value": [round(float(report[n]), 4) for n in names]})


def per_class_frame(report: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"label": label, **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}}
        for label, scores in report["per_class"].items()
    ]
    return pd.DataFrame(rows, columns=["label", "precision", "recall", "f1", "support"])


def misclassified_frame(report: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(report["misclassified"], columns=["text", "true", "predicted", "confidence"])


def confusion_figure(report: dict[str, Any]) -> Any:
    """The confusion matrix as a matplotlib figure: rows are true labels, columns predicted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = report["labels"], report["confusion_matrix"]
    size = min(10.0, 2.5 + 0.5 * len(labels))
    figure, axes = plt.subplots(figsize=(size, size * 0.85))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels=labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    peak = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axes.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    figure.tight_layout()
    plt.close(figure)
    return figure


def runs_frame(runs: Sequence[Any]) -> pd.DataFrame:
    rows = [
        {
            "run": r.id,
            "model": r.model,
            "data": r.data,
            "created": r.created.replace("T", " ")[:19],
            "status": r.status,
            "accuracy": None if r.accuracy is None else round(r.accuracy, 4),
            "macro-F1": None if r.f1_macro is None else round(r.f1_macro, 4),
        }
        for r in runs
    ]
    return pd.DataFrame(rows, columns=["run", "model", "data", "created", "status", "accuracy", "macro-F1"])


def model_panel(description: dict[str, Any]) -> str:
    """Markdown: the model's parts and their parameter counts, module by module."""
    lines = [
        f"**{description['title']}** — {description['total']:,} parameters",
        "",
        "| part | parameters |",
        "|---|---:|",
    ]
    lines += [f"| {html.escape(part)} | {count:,} |" for part, count in description["parts"]]
    if description.get("note"):
        lines += ["", description["note"]]
    return "\n".join(lines)
