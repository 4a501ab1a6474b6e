"""Runs side by side, under the Predict tab: choose two runs or more of the same labels, type a text and see each
run's answer next to the others' with a disagreement marked; or give a file and get every row's answers, the rows
where the runs disagree first (and each run's score where the file has the labels), as a table and a download."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from ..compare import compare_file, compare_text
from ..tables import UPLOAD_TYPES
from ..writers import write_table
from .common import Context, predictors, user_errors

SHOWN_ROWS = 200  # rows of a file's comparison shown in the page; the download has them all


def text_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per run: its answer, and for a single-label run how sure it is."""
    rows = [
        {
            "run": run["run"],
            "answer": run["answer"],
            **({"confidence": round(run["score"], 4)} if "score" in run else {}),
        }
        for run in result["runs"]
    ]
    return pd.DataFrame(rows)


def verdict(disagree: bool, count: int) -> str:
    return f"⚠️ **The {count} runs disagree.**" if disagree else f"The {count} runs agree."


def create_compare_view(ctx: Context) -> None:
    with gr.Accordion("Compare runs side by side", open=False):
        runs = gr.Dropdown(
            label="Runs (two or more, of the same labels)", multiselect=True, interactive=True, allow_custom_value=True
        )
        with gr.Row():
            text = gr.Textbox(label="Text for every run", lines=2, scale=3)
            pair = gr.Textbox(label="Second text (for runs on pairs)", lines=2, scale=2)
        button = gr.Button("Compare")
        said = gr.Markdown()
        answers = gr.Dataframe(label="Each run's answer", interactive=False)
        with gr.Row(equal_height=True):
            file_in = gr.File(label="File for every run (with labels, each run is scored)", file_types=UPLOAD_TYPES)
            file_out = gr.File(label="Every row's answers, disagreements first (download)", interactive=False)
        file_button = gr.Button("Compare on the file")
        file_said = gr.Markdown()
        file_rows = gr.Dataframe(label="Rows, disagreements first", interactive=False, wrap=True, max_height=400)

    def loaded(run_ids: list[str] | None, visitor: str | None, request: gr.Request | None) -> list:
        return [predictors.get(ctx.run_dir(run_id, visitor, request)) for run_id in run_ids or []]

    @user_errors
    def compare(
        run_ids: list[str], text: str, text_pair: str = "", visitor: str | None = None, request: gr.Request = None
    ) -> tuple[str, pd.DataFrame]:
        """Each run's answer to one text, and whether the runs disagree."""
        if not (text or "").strip():
            raise ValueError("Type a text for the runs to answer.")
        result = compare_text(loaded(run_ids, visitor, request), text, text_pair or None)
        return verdict(result["disagree"], len(result["runs"])), text_frame(result)

    @user_errors
    def on_compare_file(
        run_ids: list[str], path: str | None, visitor: str | None = None, request: gr.Request = None
    ) -> tuple[str, pd.DataFrame, str]:
        comparison = compare_file(loaded(run_ids, visitor, request), ctx.check_upload(path, "a file to compare on"))
        output = Path(tempfile.mkdtemp(prefix="workbench-compare-")) / f"{Path(path).stem}-compared.csv"
        write_table(output, comparison.columns, comparison.rows)
        scores = "; ".join(f"{run}: {score:.4g}" for run, score in comparison.scores.items())
        summary = f"**{comparison.disagreements:,} of {len(comparison.rows):,} rows** get different answers."
        if scores:
            summary += f" Matching the file's labels (mean absolute error for a number): {scores}."
        frame = pd.DataFrame(comparison.rows[:SHOWN_ROWS], columns=comparison.columns)
        return summary, frame, str(output)

    runs.focus(
        lambda visitor, request: gr.update(choices=ctx.loadable_runs(visitor, request)),
        inputs=[ctx.visitor],
        outputs=[runs],
        api_visibility="private",
    )
    button.click(compare, inputs=[runs, text, pair, ctx.visitor], outputs=[said, answers], api_name="compare")
    file_button.click(
        on_compare_file,
        inputs=[runs, file_in, ctx.visitor],
        outputs=[file_said, file_rows, file_out],
        api_name="compare_file",
        concurrency_limit=2,
    )
