"""The Data tab: upload a CSV (or take the example), see the first rows, the detected columns and task as dropdowns
to change (a second text column makes pairs), the row count and the labels as the task sees them (class balance,
rows per label, or the target's histogram), with a warning when a class or label is tiny."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..config import AUTO, TASKS
from ..data import detect_columns, load_data, read_csv
from . import render
from .common import Context, data_spec, user_errors

EXAMPLE_CSV = Path(__file__).parent / "examples" / "reviews.csv"
NO_TEXT = "(none)"
PREVIEW_ROWS, PREVIEW_CHARS = 20, 200


def _preview(table: Any) -> Any:
    frame = table.select(range(min(PREVIEW_ROWS, len(table)))).to_pandas()
    return frame.map(lambda v: v if not isinstance(v, str) or len(v) <= PREVIEW_CHARS else v[:PREVIEW_CHARS] + "…")


NOT_READY = "⚠️ **Not ready to train:**"


def _summarise(state: dict[str, Any]) -> tuple[str, Any, str]:
    """The summary, the label chart and a warning for the chosen columns and task. Data that cannot train with them
    (one class, a stray word in a numeric target, ...) still loads: the reason shows where the summary would, and
    the user can choose another column or task."""
    try:
        summary = load_data(data_spec(state)).summary()
    except ValueError as error:
        return f"{NOT_READY} {error}", gr.BarPlot(value=None), ""
    frame, title, warning = render.label_distribution(summary)
    # bars start at zero; a histogram keeps its ranges in order, counts are sorted largest first
    chart = gr.BarPlot(
        frame,
        title=title,
        y_lim=[0, max(frame["rows"].max() * 1.1, 1)],
        sort=None if title == "Target histogram" else "-y",
    )
    return render.data_summary_text(summary), chart, f"⚠️ {warning}" if warning else ""


def _none_if_unset(value: str | None) -> str | None:
    return None if value in (None, "", NO_TEXT, AUTO) else value


def _create_column_choices() -> tuple[gr.Dropdown, ...]:
    """The dropdowns that say what the model reads and learns: text, label column(s), task, label separator,
    numeric features and a second text column."""
    text = gr.Dropdown(label="Text column", interactive=True)
    labels = gr.Dropdown(
        label="Label column",
        multiselect=True,
        interactive=True,
        info="One column; or several 0/1 columns, one per label, for multi-label rows.",
    )
    with gr.Row():
        task = gr.Dropdown([AUTO, *TASKS], value=AUTO, label="Task", interactive=True)
        separator = gr.Dropdown(
            [AUTO, "|", ";", ","], value=AUTO, label="Label separator (multi-label)", interactive=True
        )
    features = gr.Dropdown(label="Numeric feature columns", multiselect=True, interactive=True)
    pair = gr.Dropdown(
        label="Second text column (a pair)",
        interactive=True,
        info="Read together with the text, e.g. question and answer; never detected.",
    )
    return text, labels, features, pair, task, separator


def loaded_view(path: str, table: Any) -> tuple:
    """What a freshly loaded file shows: the preview, the detected choices (the task and separator on auto), the
    summary and chart, and the state the other tabs read."""
    columns = detect_columns(table)
    state = {"path": path, "text": columns.text, "labels": list(columns.labels), "features": list(columns.features)}
    names = list(table.column_names)
    return (
        _preview(table),
        gr.update(choices=[NO_TEXT, *names], value=columns.text or NO_TEXT),
        gr.update(choices=names, value=list(columns.labels)),
        gr.update(choices=names, value=list(columns.features)),
        gr.update(choices=[NO_TEXT, *names], value=NO_TEXT),
        gr.update(value=AUTO),
        gr.update(value=AUTO),
        *_summarise(state),
        state,
    )


@user_errors
def on_change_columns(
    text: str | None = None,
    labels: list[str] | str | None = None,
    features: list[str] | None = None,
    pair: str | None = None,
    task: str | None = AUTO,
    separator: str | None = AUTO,
    state: dict[str, Any] | None = None,
) -> tuple:
    """Change the columns (and the task) of the loaded CSV; returns the new summary."""
    if not state:
        raise ValueError("Upload a CSV first.")
    state = {
        **state,
        "text": _none_if_unset(text),
        "labels": [labels] if isinstance(labels, str) else list(labels or []),
        "features": list(features or []),
        "pair": _none_if_unset(pair),
        "task": _none_if_unset(task),
        "separator": _none_if_unset(separator),
    }
    return (*_summarise(state), state)


def create_data_tab(ctx: Context) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label="CSV file (drag and drop)", file_types=[".csv", ".tsv", ".txt"], type="filepath")
            example = gr.Button("Use the example CSV (movie reviews)", size="sm")
            choices = _create_column_choices()
        with gr.Column(scale=2):
            summary = gr.Markdown("Upload a CSV with a text or numeric columns and a label column.")
            warning = gr.Markdown(elem_classes=["wb-warning"])
            balance = gr.BarPlot(x="label", y="rows", title="Class balance", height=240, sort="-y")
    preview = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=360)

    @user_errors
    def on_load_data(path: str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        progress(0.0, desc="Checking the file")
        table = read_csv(ctx.check_upload(path))  # within the size and row limits, checked before this read
        progress(0.3, desc=f"Read {len(table):,} rows; finding the columns and the task")
        return loaded_view(path, table)

    outputs = [preview, *choices, summary, balance, warning, ctx.data]
    upload.upload(on_load_data, inputs=[upload], outputs=outputs, api_name="load_data")
    example.click(lambda: str(EXAMPLE_CSV), outputs=[upload], api_visibility="private").then(
        on_load_data, inputs=[upload], outputs=outputs, api_visibility="private"
    )
    for dropdown in choices:
        dropdown.input(
            on_change_columns,
            inputs=[*choices, ctx.data],
            outputs=[summary, balance, warning, ctx.data],
            **({"api_name": "set_columns"} if dropdown is choices[0] else {"api_visibility": "private"}),
        )
