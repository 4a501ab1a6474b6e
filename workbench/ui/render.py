"""Pure render helpers: turn engine results (events, data summaries, metrics, run lists) into what the page shows.
No gradio here, so every picture of the state can be tested without a browser."""
from __future__ import annotations

import html
from typing import Any, Sequence

import pandas as pd

from ..events import precision_words

TINY_CLASS = 10  # fewer rows than this in a class deserves a warning


def progress_html(events: Sequence[dict[str, Any]], status: str, queue_position: int = 0) -> str:
    """A progress bar with step/total, ETA and throughput, or the job's state in words."""
    if status == "queued":
        return _bar(0, f"Waiting in the queue: {queue_position} training{'s' if queue_position != 1 else ''} ahead. "
                       f"Only one training uses the device at a time.")
    started = next((e for e in events if e["kind"] == "started"), None)
    steps = [e for e in events if e["kind"] == "step"]
    if started is None:
        return _bar(0, "Preparing the data and the model…" if status == "running" else f"Training {status}.")
    total = (steps[-1]["total_steps"] if steps else started["total_steps"]) or 1  # a time budget may shorten it
    done = steps[-1]["step"] if steps else 0
    final = events[-1] if events[-1]["kind"] in ("finished", "stopped", "failed") else None
    if final is not None:
        early = f" (early stopping: the best epoch, {final.get('best_epoch')}, is kept)" if done < total else ""
        words = {"finished": f"Finished: {done}/{total} steps in {final.get('elapsed_seconds', 0):.0f}s{early}.",
                 "stopped": f"Stopped at step {final['step']}/{total}; what was trained is kept.",
                 "failed": f"Failed: {final.get('error', '')}"}[final["kind"]]
        return _bar(100 if final["kind"] == "finished" else 100 * done / total, words, final["kind"])
    if not steps:
        return _bar(0, f"Started {started['model']} on {started['device']}: 0/{total} steps.")
    last = steps[-1]
    return _bar(100 * done / total, f"Step {done}/{total} · epoch {last['epoch']:.2f} · loss {last['loss']:.4f} · "
                                    f"{last['samples_per_second']:.1f} rows/s · ETA {_duration(last['eta_seconds'])}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _bar(percent: float, text: str, state: str = "running") -> str:
    return (f'<div class="wb-progress wb-{state}"><div class="wb-track"><div class="wb-fill" '
            f'style="width:{max(0.0, min(100.0, percent)):.1f}%"></div></div>'
            f'<div class="wb-progress-text">{html.escape(text)}</div></div>')


def loss_frame(events: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Train loss per logged step and validation loss per epoch, one frame for a line plot.

    Both series are always present (an empty one as a single blank point): Gradio's plot fixes its colour legend on
    the first frame it draws, so a series that first appears later would never be drawn."""
    rows = [{"step": e["step"], "loss": e["loss"], "series": "train"} for e in events if e["kind"] == "step"]
    rows += [{"step": e["step"], "loss": e["loss"], "series": "validation"} for e in events if e["kind"] == "evaluated"]
    present = {row["series"] for row in rows}
    rows += [{"step": 0, "loss": float("nan"), "series": s} for s in ("train", "validation") if s not in present]
    frame = pd.DataFrame(rows, columns=["step", "loss", "series"])
    return frame.astype({"step": "int64", "loss": "float64", "series": "object"})  # numeric axes


def log_text(events: Sequence[dict[str, Any]], limit: int = 12) -> str:
    """The run in a few lines: how it started and how long the time budget lets it run, always; then the latest
    things that happened."""
    head, lines = [], []
    for e in events:
        if e["kind"] == "started":
            precision = precision_words(e["precision"])
            length = f", max length {e['max_length']} tokens" if e.get("max_length") else ""
            head.append(f"Started {e['model']} on {e['device']} ({precision}): {e['train_rows']} training rows, "
                        f"{e['validation_rows']} validation rows, up to {e['total_steps']} steps{length}.")
        elif e["kind"] == "planned":
            head.append(f"Time budget {_duration(e['budget_seconds'])}: {e['total_steps']} steps "
                        f"({e['epochs']:g} epochs) fit, at {e['seconds_per_step']:.2f}s a step.")
        elif e["kind"] == "evaluated":
            lines.append(f"Epoch {e['epoch']:.4g}: validation loss {e['loss']:.4f}, accuracy {e['accuracy']:.3f}, "
                         f"macro-F1 {e['f1_macro']:.3f}{' (best so far)' if e['is_best'] else ''}")
        elif e["kind"] == "finished":
            m = e["metrics"]
            lines.append(f"Finished in {e['elapsed_seconds']:.1f}s; best epoch {e['best_epoch']}: accuracy "
                         f"{m.get('accuracy', 0):.3f}, macro-F1 {m.get('f1_macro', 0):.3f}.")
        elif e["kind"] == "stopped":
            lines.append(f"Stopped at step {e['step']} ({e['reason']}); the weights so far are saved.")
        elif e["kind"] == "failed":
            lines.append(f"Failed: {e['error']}")
    return "\n".join(head + lines[-(limit - len(head)):])


def throughput_text(events: Sequence[dict[str, Any]]) -> str:
    steps = [e for e in events if e["kind"] == "step"]
    return f"{steps[-1]['samples_per_second']:.1f} rows/s" if steps else "–"


def class_balance(summary: dict[str, Any]) -> tuple[pd.DataFrame, str | None]:
    counts = summary["class_counts"]
    frame = pd.DataFrame({"label": list(counts), "rows": list(counts.values())})
    tiny = [f"'{label}' ({n})" for label, n in counts.items() if n < TINY_CLASS]
    warning = (f"Some classes have fewer than {TINY_CLASS} rows: {', '.join(tiny[:5])}. The model will rarely "
               f"predict them, and their scores will be noisy.") if tiny else None
    return frame, warning


def metrics_frame(report: dict[str, Any]) -> pd.DataFrame:
    names = ["accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "precision_weighted",
             "recall_weighted"]
    return pd.DataFrame({"metric": names, "value": [round(float(report[n]), 4) for n in names]})


def per_class_frame(report: dict[str, Any]) -> pd.DataFrame:
    rows = [{"label": label, **{k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}}
            for label, scores in report["per_class"].items()]
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
    rows = [{"run": r.id, "model": r.model, "data": r.data, "created": r.created.replace("T", " ")[:19],
             "status": r.status, "accuracy": None if r.accuracy is None else round(r.accuracy, 4),
             "macro-F1": None if r.f1_macro is None else round(r.f1_macro, 4)} for r in runs]
    return pd.DataFrame(rows, columns=["run", "model", "data", "created", "status", "accuracy", "macro-F1"])


def model_panel(description: dict[str, Any]) -> str:
    """Markdown: the model's parts and their parameter counts, the way the article explains modules."""
    lines = [f"**{description['title']}** — {description['total']:,} parameters", "", "| part | parameters |",
             "|---|---:|"]
    lines += [f"| {html.escape(part)} | {count:,} |" for part, count in description["parts"]]
    if description.get("note"):
        lines += ["", description["note"]]
    return "\n".join(lines)
