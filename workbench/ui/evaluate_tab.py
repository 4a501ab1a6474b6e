"""The Evaluate tab: a run scored on its validation split or an uploaded test file with the shipped `evaluate`
modules: the metrics table, per-class scores, a confusion matrix picture, the misclassified examples, and the
runs trained on the same data side by side."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from .. import runs
from ..metrics.report import evaluate_run
from ..tables import UPLOAD_TYPES
from . import render
from .common import Context, predictors, user_errors
from .explain_view import create_why_view, wire_row_why


def comparison_frame(ctx: Context, run_dir: Any, visitor: str | None, request: gr.Request) -> pd.DataFrame:
    """Finished or stopped runs of the same task on the same data file and labels, with their validation scores:
    runs of different tasks are never put side by side."""
    this = runs.read_run(run_dir)
    task = this.task.get("name", "single-label")
    names = [n for n in render.REPORTS[task] if n in (this.metrics or {})][:4]
    rows = []
    for summary in runs.list_runs(ctx.workspace(visitor, request)):
        other = runs.read_run(summary.path)
        same = other.task.get("name", "single-label") == task and other.labels == this.labels
        if same and summary.data == this.data.get("source") and summary.status.has_weights:
            scores = other.metrics or {}
            rows.append(
                {
                    "run": other.id,
                    "model": other.model.name,
                    "status": str(summary.status),
                    **{n: round(scores[n], 4) if n in scores else None for n in names},
                }
            )
    return pd.DataFrame(rows, columns=["run", "model", "status", *names])


def create_evaluate_tab(ctx: Context) -> gr.Dropdown:
    with gr.Row():
        run = gr.Dropdown(label="Run", choices=[], interactive=True, allow_custom_value=True, scale=2)
        test_csv = gr.File(
            label="Labelled test file (optional: without one, the run's validation split)",
            type="filepath",
            file_types=UPLOAD_TYPES,
            scale=2,
        )
        button = gr.Button("Evaluate", variant="primary", scale=1)
    with gr.Row():
        metrics = gr.Dataframe(label="Metrics", interactive=False)
        per_class = gr.Dataframe(label="Per class (or per label)", interactive=False)
    with gr.Row():
        confusion = gr.Plot(label="Confusion matrix (rows: true); F1 per label; or predicted against true values")
        comparison = gr.Dataframe(label="Runs on the same data (validation scores)", interactive=False)
    wrong = gr.Dataframe(
        label="Rows to look at: confident mistakes, wrong label sets, or the largest errors",
        interactive=False,
        wrap=True,
        column_widths=["14%", "14%", "10%", "62%"],  # true, predicted, the task's score; the text wraps in the rest
        max_height=400,
    )
    why = create_why_view("Why the run answered the clicked row so: each word's push toward its answer")
    report_json = gr.JSON(visible=False)

    @user_errors
    def on_evaluate(
        run_id: str | None, path: str | None = None, visitor: str | None = None, request: gr.Request = None
    ) -> tuple:
        run_dir = ctx.run_dir(run_id, visitor, request)
        if path:
            ctx.check_upload(path, "a test file")
        report = evaluate_run(run_dir, path, predictor=predictors.get(run_dir))
        for note in report["notes"]:
            gr.Warning(note)
        return (
            render.metrics_frame(report),
            render.per_class_frame(report),
            render.report_figure(report),
            comparison_frame(ctx, run_dir, visitor, request),
            render.misclassified_frame(report),
            report,
        )

    button.click(
        on_evaluate,
        inputs=[run, test_csv, ctx.visitor],
        outputs=[metrics, per_class, confusion, comparison, wrong, report_json],
        api_name="evaluate",
        concurrency_limit=2,
    )
    wire_row_why(ctx, why, run, wrong)
    return run
