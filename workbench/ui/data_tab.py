"""The Data tab: upload a CSV (or take the example), see the first rows, the detected columns as dropdowns to
change, the row count and the class balance, with a warning when a class is tiny."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..data import detect_columns, load_data, read_csv
from . import render
from .common import Context, data_spec, user_errors

EXAMPLE_CSV = Path(__file__).parent / "examples" / "reviews.csv"
NO_TEXT = "(none)"
PREVIEW_ROWS, PREVIEW_CHARS = 20, 200


def _preview(table: Any) -> Any:
    frame = table.select(range(min(PREVIEW_ROWS, len(table)))).to_pandas()
    return frame.map(lambda v: v if not isinstance(v, str) or len(v) <= PREVIEW_CHARS else v[:PREVIEW_CHARS] + "…")


def _summarise(state: dict[str, Any]) -> tuple[str, Any, str]:
    data = load_data(data_spec(state))
    summary = data.summary()
    frame, warning = render.class_balance(summary)
    total = summary["train_rows"] + summary["validation_rows"]
    lines = [
        f"**{total} rows** with labels in **{len(data.labels)} classes** "
        f"({summary['train_rows']} to train on, {summary['validation_rows']} held back for validation)."
    ]
    lines += [f"- {note}" for note in summary["notes"]]
    chart = gr.BarPlot(frame, y_lim=[0, max(frame["rows"].max() * 1.1, 1)])  # bars start at zero
    return "\n".join(lines), chart, f"⚠️ {warning}" if warning else ""


def create_data_tab(ctx: Context) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label="CSV file (drag and drop)", file_types=[".csv", ".tsv", ".txt"], type="filepath")
            example = gr.Button("Use the example CSV (movie reviews)", size="sm")
            text = gr.Dropdown(label="Text column", interactive=True)
            label = gr.Dropdown(label="Label column", interactive=True)
            features = gr.Dropdown(label="Numeric feature columns (MLP)", multiselect=True, interactive=True)
        with gr.Column(scale=2):
            summary = gr.Markdown("Upload a CSV with a text or numeric columns and a label column.")
            warning = gr.Markdown(elem_classes=["wb-warning"])
            balance = gr.BarPlot(x="label", y="rows", title="Class balance", height=240, sort="-y")
    preview = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=360)

    @user_errors
    def on_load_data(path: str | None, progress: gr.Progress = gr.Progress()) -> tuple:
        progress(0.0, desc="Checking the file")
        table = read_csv(ctx.check_upload(path))  # within the size and row limits, checked before this read
        progress(0.3, desc=f"Read {len(table):,} rows; finding the columns")
        columns = detect_columns(table)
        state = {"path": path, "text": columns.text, "label": columns.label, "features": list(columns.features)}
        names = list(table.column_names)
        progress(0.5, desc="Checking the labels and splitting")
        return (
            _preview(table),
            gr.update(choices=[NO_TEXT, *names], value=columns.text or NO_TEXT),
            gr.update(choices=names, value=columns.label),
            gr.update(choices=names, value=list(columns.features)),
            *_summarise(state),
            state,
        )

    @user_errors
    def on_change_columns(
        text: str | None = None,
        label: str | None = None,
        features: list[str] | None = None,
        state: dict[str, Any] | None = None,
    ) -> tuple:
        if not state:
            raise ValueError("Upload a CSV first.")
        state = {
            **state,
            "text": None if text in (None, NO_TEXT) else text,
            "label": label,
            "features": list(features or []),
        }
        return (*_summarise(state), state)

    outputs = [preview, text, label, features, summary, balance, warning, ctx.data]
    upload.upload(on_load_data, inputs=[upload], outputs=outputs, api_name="load_data")
    example.click(lambda: str(EXAMPLE_CSV), outputs=[upload], api_visibility="private").then(
        on_load_data, inputs=[upload], outputs=outputs, api_visibility="private"
    )
    for dropdown in (text, label, features):
        dropdown.input(
            on_change_columns,
            inputs=[text, label, features, ctx.data],
            outputs=[summary, balance, warning, ctx.data],
            **({"api_name": "set_columns"} if dropdown is text else {"api_visibility": "private"}),
        )
