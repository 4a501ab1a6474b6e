"""Pure render helpers: turn engine results (events, data summaries, metrics, run lists) into what the page shows.
No gradio here, so every picture of the state can be tested without a browser."""

from __future__ import annotations

import html
import math
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
    Preparing,
    Started,
    Status,
    Step,
    Stopped,
    describe_event,
    duration,
)
from ..metrics import MULTILABEL_REPORT_METRICS, REGRESSION_REPORT_METRICS, REPORT_METRICS

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
        return _preparing_bar(events, status)
    # a time budget sets the total once it has planned the run, and re-plans it as the run goes
    total = next(e.total_steps for e in reversed(events) if isinstance(e, (Started, Planned, Step))) or 1
    done = steps[-1].step if steps else 0
    if isinstance(events[-1], Ended):
        return _final_bar(events[-1], done, total if started.total_steps else 0)
    if not steps:
        return _bar(0, f"Started {started.model} on {started.device}: 0/{total} steps.")
    last = steps[-1]
    return _bar(
        100 * done / total,
        f"Step {done}/{total} · epoch {last.epoch:.2f} · loss {last.loss:.4f} · "
        f"{last.samples_per_second:.1f} rows/s · ETA {duration(last.eta_seconds)}",
    )


def _preparing_bar(events: Sequence[Event], status: Status) -> str:
    """Before the run starts: how far its slow preparation is (an encoder embedding the rows), or how it ended."""
    last = events[-1] if events else None
    if isinstance(last, Ended):
        return _bar(0, describe_event(last), last.status)
    if isinstance(last, Preparing) and status == Status.RUNNING:
        return _bar(100 * last.done / last.total if last.total else 0, describe_event(last))
    return _bar(0, "Preparing the data and the model…" if status == Status.RUNNING else f"Training {status}.")


def _final_bar(final: Finished | Stopped | Failed, done: int, total: int) -> str:
    """How the run ended; `total` 0 for a model fitted before the run started (no steps to count)."""
    if isinstance(final, Finished) and not total:
        return _bar(100, f"Finished in {final.elapsed_seconds:.0f}s: the model was fitted, then scored.", final.status)
    if isinstance(final, Finished):
        early = f" (early stopping: the best epoch, {final.best_epoch}, is kept)" if done < total else ""
        return _bar(100, f"Finished: {done}/{total} steps in {final.elapsed_seconds:.0f}s{early}.", final.status)
    percent = 100 * done / total if total else 100
    if isinstance(final, Stopped):
        return _bar(percent, f"Stopped at step {final.step}/{total}; what was trained is kept.", final.status)
    return _bar(percent, f"Failed: {final.error}", final.status)


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
    """The run in a few lines: how it was prepared, how it started and how long the time budget lets it run (its
    latest plan), always;
    then the latest things that happened (steps are the progress bar's, not the log's)."""
    plans = [e for e in events if isinstance(e, Planned)]
    stages = {e.stage: e for e in events if isinstance(e, Preparing)}  # the latest word of each stage
    head = [describe_event(e) for e in [*stages.values(), *(e for e in events if isinstance(e, Started)), *plans[-1:]]]
    lines = [describe_event(e) for e in events if not isinstance(e, (Preparing, Started, Planned, Step))]
    return "\n".join(head + lines[-(limit - len(head)) :])


def throughput_text(events: Sequence[Event]) -> str:
    steps = [e for e in events if isinstance(e, Step)]
    return f"{steps[-1].samples_per_second:.1f} rows/s" if steps else "–"


def class_balance(summary: dict[str, Any]) -> tuple[pd.DataFrame, str | None]:
    counts = summary["class_counts"]
    frame = pd.DataFrame({"label": list(counts), "rows": list(counts.values())})
    frame = frame.sort_values("rows", ascending=False, kind="stable", ignore_index=True)  # the chart's order
    tiny = [f"'{label}' ({n})" for label, n in counts.items() if n < TINY_CLASS]
    what = "labels" if summary.get("task") == "multi-label" else "classes"
    warning = (
        f"Some {what} have fewer than {TINY_CLASS} rows: {', '.join(tiny[:5])}. The model will rarely predict them, "
        f"and their scores will be noisy."
        if tiny
        else None
    )
    return frame, warning


def target_histogram(histogram: Sequence[Sequence[float]]) -> pd.DataFrame:
    """The target's histogram (low, high, rows per range) as bars, one per range, named by where it starts. The starts
    are numbers the chart orders lowest first, rounded to a hundredth of a range (neighbours stay apart however
    narrow the target's spread); categories, so each range is a bar of its own."""
    width = histogram[0][1] - histogram[0][0] if histogram else 1.0
    digits = 2 - math.floor(math.log10(width))  # 407.4 wide: whole numbers; 0.1 wide: three decimals
    starts = pd.Categorical([round(float(low), digits) for low, _, _ in histogram])
    return pd.DataFrame({"from": starts, "rows": [int(n) for _, _, n in histogram]})


def label_distribution(summary: dict[str, Any]) -> tuple[pd.DataFrame, str, str | None]:
    """What the Data tab charts for the task: rows per class, rows per label, or the target's histogram; with its
    title and a warning where some class or label is thin."""
    task = summary.get("task", "single-label")
    if task == "regression":
        return target_histogram(summary["target"]["histogram"]), "Target histogram", None
    frame, warning = class_balance(summary)
    return frame, "Rows per label" if task == "multi-label" else "Class balance", warning


def data_summary_text(summary: dict[str, Any]) -> str:
    """The Data tab's summary: how many rows, what they are labelled with, the task and why, and the notes."""
    total, task = summary["train_rows"] + summary["validation_rows"], summary.get("task", "single-label")
    split = f"({summary['train_rows']} to train on, {summary['validation_rows']} held back for validation)"
    if task == "regression":
        target = summary["target"]
        head = (
            f"**{total} rows** with a numeric target from {target['min']:.4g} to {target['max']:.4g} "
            f"(mean {target['mean']:.4g}) {split}."
        )
    elif task == "multi-label":
        per_row = {int(k): v for k, v in summary.get("labels_per_row", {}).items()}
        rows = sum(per_row.values()) or 1
        mean = sum(k * v for k, v in per_row.items()) / rows
        head = (
            f"**{total} rows** with labels from **{len(summary['class_counts'])} labels**: {mean:.2f} labels per "
            f"row on average, {per_row.get(0, 0)} rows with none {split}."
        )
    else:
        head = f"**{total} rows** with labels in **{len(summary['class_counts'])} classes** {split}."
    lines = [head, f"- Task: **{task}**. {summary.get('task_reason', '')}".rstrip()]
    return "\n".join(lines + [f"- {note}" for note in summary["notes"]])


REPORTS = {  # each task's report: its scalar scores, in the order people read them
    "single-label": REPORT_METRICS,
    "multi-label": MULTILABEL_REPORT_METRICS,
    "regression": REGRESSION_REPORT_METRICS,
}


def metrics_frame(report: dict[str, Any]) -> pd.DataFrame:
    names = [n for n in REPORTS[report.get("task", "single-label")] if n in report]
    return pd.DataFrame({"metric": names, "value": [round(float(report[n]), 4) for n in names]})


def per_class_frame(report: dict[str, Any]) -> pd.DataFrame:
    """Per class (single-label) or per label (multi-label): precision, recall, F1 and rows; empty for regression."""
    scores = report.get("per_class") or report.get("per_label") or {}
    rows = [
        {"label": label, **{k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}}
        for label, values in scores.items()
    ]
    columns = ["label", "precision", "recall", "f1", "support"] + (["threshold"] if "per_label" in report else [])
    return pd.DataFrame(rows, columns=columns)


def misclassified_frame(report: dict[str, Any]) -> pd.DataFrame:
    """The rows most worth a look, with the columns the task gives them (confidence; wrong labels; error): the true
    and predicted answers first and the text last, so that a long text wraps rather than pushing them out of view."""
    rows = report["misclassified"]
    columns = list(rows[0]) if rows else ["text", "true", "predicted"]
    return pd.DataFrame(rows, columns=[c for c in columns if c != "text"] + ["text"])


def report_figure(report: dict[str, Any]) -> Any:
    """The task's picture: the confusion matrix, F1 per label, or predicted against true values."""
    task = report.get("task", "single-label")
    if task == "regression":
        return scatter_figure(report)
    if task == "multi-label":
        return per_label_figure(report)
    return confusion_figure(report)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_figure(report: dict[str, Any]) -> Any:
    """Predicted against true values, with the line where they would be equal."""
    plt = _pyplot()
    truths, predicted = zip(*report["points"]) if report.get("points") else ((), ())
    figure, axes = plt.subplots(figsize=(5.5, 4.8))
    axes.scatter(truths, predicted, s=10, alpha=0.6)
    if truths:
        low, high = min(*truths, *predicted), max(*truths, *predicted)
        axes.plot([low, high], [low, high], color="gray", linewidth=1, linestyle="--")
    axes.set_xlabel("true")
    axes.set_ylabel("predicted")
    figure.tight_layout()
    plt.close(figure)
    return figure


def per_label_figure(report: dict[str, Any]) -> Any:
    """F1 of each label as horizontal bars, with each label's rows in its name."""
    plt = _pyplot()
    scores = report.get("per_label", {})
    names = [
        f"{label} ({values['support']} rows, ≥ {values.get('threshold', 0.5):g})" for label, values in scores.items()
    ]
    figure, axes = plt.subplots(figsize=(6, min(10.0, 1.5 + 0.35 * len(names))))
    axes.barh(names, [values["f1"] for values in scores.values()])
    axes.set_xlim(0, 1)
    axes.invert_yaxis()
    axes.set_xlabel("F1 at each label's threshold")
    figure.tight_layout()
    plt.close(figure)
    return figure


def confusion_figure(report: dict[str, Any]) -> Any:
    """The confusion matrix as a matplotlib figure: rows are true labels, columns predicted."""
    plt = _pyplot()

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


MAIN_SCORE = {
    "single-label": "f1_macro",
    "multi-label": "f1_micro",
    "regression": "rmse",
}  # what early stopping watches


def runs_frame(runs: Sequence[Any]) -> pd.DataFrame:
    """The runs table: each run's task and its main validation score (macro-F1, micro-F1 or RMSE), named."""
    rows = []
    for r in runs:
        name = MAIN_SCORE.get(r.task, "f1_macro")
        score = r.metrics.get(name)
        rows.append(
            {
                "run": r.id,
                "model": r.model,
                "task": r.task,
                "data": r.data,
                "created": r.created.replace("T", " ")[:19],
                "status": str(r.status),
                "score": None
                if score is None
                else f"{REPORTS.get(r.task, REPORT_METRICS).get(name, name)} {score:.4f}",
            }
        )
    # the API's listing keeps its first five columns where they were before tasks (status fifth)
    return pd.DataFrame(rows, columns=["run", "model", "data", "created", "status", "task", "score"])


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
