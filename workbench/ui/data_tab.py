"""The Data tab: upload a file (CSV, TSV, JSON Lines, JSON, Parquet or Excel; a sheet of a workbook), load a split of
a Hub dataset, or take the example; see the first rows, the detected columns and task as dropdowns
to change (a second text column makes pairs), the row count and the labels as the task sees them (class balance,
rows per label, or the target's histogram), with a warning when a class or label is tiny."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from ..config import AUTO, TASKS
from ..data import detect_columns, load_data
from ..hub_data import HubDataset, fetch_hub_dataset
from ..tables import UPLOAD_TYPES, list_sheets, read_table
from . import render
from .common import Context, data_spec, user_errors

EXAMPLE_CSV = Path(__file__).parent / "examples" / "reviews.csv"
NO_TEXT = "(none)"
PREVIEW_ROWS, PREVIEW_CHARS = 20, 200


def _preview(table: Any) -> Any:
    frame = table.select(range(min(PREVIEW_ROWS, len(table)))).to_pandas()
    return frame.map(lambda v: v if not isinstance(v, str) or len(v) <= PREVIEW_CHARS else v[:PREVIEW_CHARS] + "…")


NOT_READY = "⚠️ **Not ready to train:**"
HIDDEN = "wb-hidden"  # a chart out of sight yet drawn: an unmounted (visible=False) chart fails in the page


def _summarise(state: dict[str, Any]) -> tuple[str, Any, Any, str]:
    """The summary, the two charts (the labels' shown, or the target's histogram) and a warning for the chosen columns
    and task. Data that cannot train with them (one class, a stray word in a numeric target, ...) still loads: the
    reason shows where the summary would, and the user can choose another column or task."""
    try:
        summary = load_data(data_spec(state)).summary()
    except ValueError as error:
        return f"{NOT_READY} {error}", *_no_bars(), ""
    frame, title, warning = render.label_distribution(summary)
    shown, hidden = gr.BarPlot(frame, label=title, elem_classes=[]), gr.BarPlot(elem_classes=[HIDDEN])
    charts = (hidden, shown) if summary.get("task") == "regression" else (shown, hidden)
    return render.data_summary_text(summary), *charts, f"⚠️ {warning}" if warning else ""


def _create_charts() -> tuple[gr.BarPlot, gr.BarPlot]:
    """The labels' chart (classes or labels, the largest first) and the target's histogram (its ranges, the lowest
    first); one shows at a time. Each chart's settings stay as set here, the order included, and an update brings only
    the data, the label and whether it shows: Gradio applies an update's settings before its data, so a setting
    changed with the data redraws the chart from the previous file's data, and an order set a moment after the data
    was lost now and then on the chart's first drawing. Bars start at zero; no fixed height, which would cut the axis
    off under the label."""
    labels = gr.BarPlot(x="label", y="rows", label="Class balance", show_label=True, y_lim=[0, None], sort="-y")
    histogram = gr.BarPlot(
        x="from",
        y="rows",
        x_title="target, from",
        x_axis_format=",.12~r",  # the starts as rounded (1,012; 0.25; 1,000.0833), thousands marked
        label="Target histogram",
        show_label=True,
        y_lim=[0, None],
        elem_classes=[HIDDEN],
    )
    return labels, histogram


def _no_bars() -> tuple[Any, Any]:
    """No bars (data that cannot train): an empty table, as a chart emptied to None fails in Gradio's plot script."""
    empty = pd.DataFrame({"label": [], "rows": []})
    return gr.BarPlot(empty, label="Labels", elem_classes=[]), gr.BarPlot(elem_classes=[HIDDEN])


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


def loaded_view(path: str, table: Any, sheet: str | None = None, sheets: list[str] | None = None) -> tuple:
    """What a freshly loaded file shows: the preview, the detected choices (the task and separator on auto), the
    summary and chart, the state the other tabs read, and the sheet picker (shown for a workbook of several)."""
    columns = detect_columns(table)
    state = {
        "path": path,
        "sheet": sheet,
        "text": columns.text,
        "labels": list(columns.labels),
        "features": list(columns.features),
    }
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
        gr.update(choices=sheets or [], value=sheet, visible=len(sheets or []) > 1),
    )


def other_sheet_view(error: ValueError, sheet: str, sheets: list[str]) -> tuple:
    """A workbook whose chosen sheet holds no table to train on: the reason, and the sheet picker to choose another."""
    cleared = [gr.update(choices=[], value=None)] * 4
    reason = f"{NOT_READY} {error} Choose another sheet of the workbook."
    picker = gr.update(choices=sheets, value=sheet, visible=True)
    return (
        None,
        *cleared,
        gr.update(value=AUTO),
        gr.update(value=AUTO),
        reason,
        *_no_bars(),
        "",
        None,
        picker,
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
    """Change the columns (and the task) of the loaded data; returns the new summary."""
    if not state:
        raise ValueError("Upload a file first.")
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


def _create_hub_choice() -> tuple:
    """A dataset on the Hugging Face Hub: its name, configuration and split, a token for a private one, a button."""
    with gr.Accordion("Or a dataset from the Hugging Face Hub", open=False):
        name = gr.Textbox(label="Dataset", placeholder="owner/name, such as stanfordnlp/imdb", max_lines=1)
        with gr.Row():
            config = gr.Textbox(label="Configuration", placeholder="the default", max_lines=1)
            split = gr.Textbox(label="Split", value="train", info="or a slice: train[:5000]", max_lines=1)
        # used for this load only: never stored, logged or shown again
        token = gr.Textbox(label="Token (for a private dataset)", type="password", max_lines=1)
        button = gr.Button("Load from the Hub", size="sm")
    return name, config, split, token, button


def _wire_hub_choice(ctx: Context, hub: tuple, outputs: list) -> None:
    """Load a Hub dataset's split into the visitor's workspace, then show it as an upload is shown."""

    @user_errors
    def on_load_hub_dataset(
        name: str,
        config: str = "",
        split: str = "train",
        token: str = "",
        visitor: str | None = None,
        request: gr.Request = None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        progress(0.0, desc=f"Loading {name} from the Hub")
        source = HubDataset(
            ctx.check_dataset_name(name), (config or "").strip() or None, (split or "").strip() or "train"
        )
        folder = ctx.workspace(visitor, request) / "datasets"
        path = fetch_hub_dataset(source, folder, ctx.settings.max_rows, (token or "").strip() or None)  # not kept
        return loaded_view(str(path), read_table(path))

    hub[4].click(on_load_hub_dataset, inputs=[*hub[:4], ctx.visitor], outputs=outputs, api_name="load_hub_dataset")


def create_data_tab(ctx: Context) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(
                label="Data file: CSV, TSV, JSON Lines, JSON, Parquet or Excel (drag and drop)",
                file_types=UPLOAD_TYPES,
                type="filepath",
            )
            sheet = gr.Dropdown(label="Sheet", visible=False, interactive=True)
            hub = _create_hub_choice()
            example = gr.Button("Use the example CSV (movie reviews)", size="sm")
            choices = _create_column_choices()
        with gr.Column(scale=2):
            summary = gr.Markdown("Upload a table with a text or numeric columns and a label column.")
            warning = gr.Markdown(elem_classes=["wb-warning"])
            charts = _create_charts()
    preview = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=360)

    @user_errors
    def on_load_data(path: str | None, sheet: str | None = None, progress: gr.Progress = gr.Progress()) -> tuple:
        progress(0.0, desc="Checking the file")
        ctx.check_upload(path)  # within the size and row limits, checked before the file is read whole
        sheets = list_sheets(path)
        sheet = sheet or (sheets[0] if sheets else None)
        try:
            table = read_table(path, max_rows=ctx.settings.max_rows, sheet=sheet)
            progress(0.3, desc=f"Read {len(table):,} rows; finding the columns and the task")
            return loaded_view(path, table, sheet, sheets)
        except ValueError as error:
            if len(sheets) < 2:
                raise
            return other_sheet_view(error, sheet, sheets)

    outputs = [preview, *choices, summary, *charts, warning, ctx.data, sheet]
    upload.upload(on_load_data, inputs=[upload], outputs=outputs, api_name="load_data")
    sheet.input(on_load_data, inputs=[upload, sheet], outputs=outputs, api_name="load_sheet")
    _wire_hub_choice(ctx, hub, outputs)
    example.click(lambda: str(EXAMPLE_CSV), outputs=[upload], api_visibility="private").then(
        on_load_data, inputs=[upload], outputs=outputs, api_visibility="private"
    )
    for dropdown in choices:
        dropdown.input(
            on_change_columns,
            inputs=[*choices, ctx.data],
            outputs=[summary, *charts, warning, ctx.data],
            **({"api_name": "set_columns"} if dropdown is choices[0] else {"api_visibility": "private"}),
        )
