"""The Predict tab: type a text and see the label probabilities as you go; for an MLP run with numeric columns, a
one-row form of its features; upload a CSV to get it back labelled, as a download."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from ..predict import Predictor
from .common import Context, predictors, user_errors


def _feature_row(frame: Any, names: list[str]) -> list[float]:
    if not names:
        return []
    if frame is None or len(frame) == 0:
        raise ValueError(f"Fill in the feature values ({', '.join(names)}).")
    row = pd.DataFrame(frame).iloc[0].tolist()
    try:
        return [float(v) for v in row[: len(names)]]
    except (TypeError, ValueError):
        raise ValueError(f"Feature values must be numbers ({', '.join(names)}).") from None


def label_probabilities(predictor: Predictor, text: str | None, row: list[float] | None) -> dict[str, float] | None:
    """Each label's probability for a text (and a row of the numbers the model reads); None until there is input."""
    names = predictor.feature_names
    if not names and not (text or "").strip():
        return None
    if names and len(row or []) != len(names):
        raise ValueError(f"Give {len(names)} feature values, for {', '.join(names)}.")
    return predictor.predict(text or "", [row] if names else None).probabilities


def create_predict_tab(ctx: Context) -> gr.Dropdown:
    with gr.Row():
        with gr.Column():
            run = gr.Dropdown(label="Run", choices=[], interactive=True, allow_custom_value=True)
            text = gr.Textbox(label="Text", lines=4, placeholder="Type a text to classify…")
            features = gr.Dataframe(label="Feature values", interactive=True, visible=False, row_count=1)
            button = gr.Button("Predict", variant="primary")
        with gr.Column():
            label = gr.Label(label="Prediction", num_top_classes=5)
    with gr.Row(equal_height=True):
        with gr.Column():
            csv_in = gr.File(label="CSV to label", type="filepath", file_types=[".csv", ".tsv", ".txt"], height=140)
            csv_button = gr.Button("Label the CSV")
        csv_out = gr.File(label="Labelled CSV (download)", interactive=False, height=140)

    @user_errors
    def on_predict(
        run_id: str | None, value: str | None, frame: Any, visitor: str | None, request: gr.Request
    ) -> dict[str, float] | None:
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        return label_probabilities(predictor, value, _feature_row(frame, predictor.feature_names))

    @user_errors
    def predict(
        run_id: str, text: str = "", features: list[float] | None = None, request: gr.Request = None
    ) -> dict[str, float] | None:
        """Label probabilities for one text (and, for an MLP run with numeric columns, its feature values)."""
        return label_probabilities(predictors.get(ctx.run_dir(run_id, None, request)), text, features)

    @user_errors
    def on_select_run(run_id: str | None, visitor: str | None, request: gr.Request) -> tuple:
        if not run_id:
            return gr.update(), gr.update(visible=False), None
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        names = predictor.feature_names
        blank_row = pd.DataFrame([[0.0] * len(names)], columns=names) if names else None
        form = gr.update(visible=bool(names), value=blank_row)
        return gr.update(visible=predictor.reads_text), form, None

    @user_errors
    def on_predict_csv(
        run_id: str | None, path: str | None = None, visitor: str | None = None, request: gr.Request = None
    ) -> str:
        ctx.check_upload(path, "a CSV to label")
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        output = Path(tempfile.mkdtemp(prefix="workbench-predictions-")) / f"{Path(path).stem}-predicted.csv"
        predictor.predict_csv(path, output)
        return str(output)

    inputs = [run, text, features, ctx.visitor]
    text.change(
        on_predict,
        inputs=inputs,
        outputs=[label],
        api_visibility="private",
        trigger_mode="always_last",
        concurrency_limit=None,
        show_progress="hidden",
    )
    gr.api(predict, api_name="predict", concurrency_limit=None)
    button.click(on_predict, inputs=inputs, outputs=[label], api_visibility="private", concurrency_limit=None)
    run.change(on_select_run, inputs=[run, ctx.visitor], outputs=[text, features, label], api_visibility="private")
    csv_button.click(
        on_predict_csv,
        inputs=[run, csv_in, ctx.visitor],
        outputs=[csv_out],
        api_name="predict_csv",
        concurrency_limit=2,
    )
    return run
