"""The Predict tab: type a text (and its second text, for a pair model) and see the answer as you go: the label
probabilities, the labels over the threshold (multi-label) or the number (regression); for a model with numeric
columns, a one-row form of its features (starting at the training rows' means); upload a file to get it back with
the answers, in its own format, as a download (with progress, and a Cancel button for a long one)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from ..labels import Task
from ..predict import Prediction, Predictor
from ..tables import UPLOAD_TYPES
from .common import Context, predictors, user_errors
from .compare_view import create_compare_view
from .explain_view import create_why_controls, create_why_view, wire_why


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


def predict_one(
    predictor: Predictor, text: str | None, row: list[float] | None, pair: str | None = None
) -> Prediction | None:
    """The answer for one text (and the numbers the model reads, and a pair's second text); None until there is
    input."""
    names = predictor.feature_names
    if not names and not (text or "").strip():
        return None
    if names and len(row or []) != len(names):
        raise ValueError(f"Give {len(names)} feature values, for {', '.join(names)}.")
    return predictor.predict(text or "", [row] if names else None, (pair or "") if predictor.reads_pairs else None)


def label_probabilities(prediction: Prediction | None) -> dict[str, float] | None:
    """What the API's /predict returns: each label's probability, or {target: value} for regression."""
    if prediction is None:
        return None
    if prediction.task == Task.REGRESSION:
        return {"value": prediction.value}
    return prediction.probabilities


def shown_answer(prediction: Prediction | None) -> tuple[Any, str]:
    """What the page shows: the probabilities (or the number, big) and a line that says the answer."""
    if prediction is None:
        return None, ""
    if prediction.task == Task.REGRESSION:
        return f"{prediction.value:.4g}", f"**Predicted value:** {prediction.value:.6g}"
    if prediction.task == Task.MULTI_LABEL:
        chosen = ", ".join(prediction.labels) or "none"
        return (
            prediction.probabilities,
            f"**Labels:** {chosen} (each label's probability against its threshold, chosen on the validation rows: "
            + ", ".join(f"{name} {t:g}" for name, t in (prediction.thresholds or {}).items())
            + ")",
        )
    return prediction.probabilities, ""


def inputs_for(predictor: Predictor | None) -> tuple:
    """The Predict form for a run (none chosen: as it is): the text box, the second text of a pair model, a feature
    row for a model on numeric columns; the answer cleared."""
    if predictor is None:
        return gr.update(), gr.update(visible=False), gr.update(visible=False), None, ""
    names = predictor.feature_names
    blank_row = pd.DataFrame([predictor.feature_defaults], columns=names) if names else None  # the training means
    form = gr.update(visible=bool(names), value=blank_row)
    return gr.update(visible=predictor.reads_text), gr.update(visible=predictor.reads_pairs), form, None, ""


def label_file(predictor: Predictor, path: str, progress: Callable[..., Any]) -> Iterator[Any]:
    """Label the uploaded file, reporting rows done, rows/s and the time left after each batch (nothing shown
    changes until the end, so a cancelled labelling stops there and writes nothing); last, the labelled file, in its
    own format, in a fresh folder for the download."""
    name = Path(path)
    output = Path(tempfile.mkdtemp(prefix="workbench-predictions-")) / f"{name.stem}-predicted{name.suffix or '.csv'}"
    began = time.monotonic()
    for done, total in predictor.label_file(path, output):
        rate = done / max(time.monotonic() - began, 1e-6)
        progress(
            (done, total), unit="rows", desc=f"Labelling: {rate:,.0f} rows/s, about {(total - done) / rate:,.0f} s left"
        )
        yield gr.skip()
    yield str(output)


def _create_predict_view() -> tuple:
    """Run picker, text, second text, feature row and button; the answer; the file upload and download."""
    with gr.Row():
        with gr.Column():
            run = gr.Dropdown(label="Run", choices=[], interactive=True, allow_custom_value=True)
            text = gr.Textbox(label="Text", lines=4, placeholder="Type a text to classify…")
            pair = gr.Textbox(label="Second text (the pair)", lines=2, visible=False)
            features = gr.Dataframe(label="Feature values", interactive=True, visible=False, row_count=1)
            button = gr.Button("Predict", variant="primary")
        with gr.Column():
            label = gr.Label(label="Prediction", num_top_classes=10)
            answer = gr.Markdown()
            why_controls = create_why_controls()
            why = create_why_view()
    with gr.Row(equal_height=True):
        with gr.Column():
            csv_in = gr.File(
                label="File to label (any format the Data tab takes)",
                type="filepath",
                file_types=UPLOAD_TYPES,
                height=140,
            )
            with gr.Row():
                csv_button = gr.Button("Label the file")
                cancel = gr.Button("Cancel", size="sm", variant="stop")
        csv_out = gr.File(label="Labelled file, in the same format (download)", interactive=False, height=140)
    return run, text, pair, features, button, label, answer, why_controls, why, csv_in, csv_button, cancel, csv_out


def _wire_file_labelling(ctx: Context, run: Any, file_in: Any, button: Any, cancel: Any, file_out: Any) -> None:
    """Label an uploaded file with the run (progress as it goes); Cancel stops it between two batches."""

    @user_errors
    def on_predict_csv(
        run_id: str | None,
        path: str | None = None,
        visitor: str | None = None,
        request: gr.Request = None,
        progress: gr.Progress = gr.Progress(),
    ) -> Iterator[Any]:
        ctx.check_upload(path, "a file to label")
        yield from label_file(predictors.get(ctx.run_dir(run_id, visitor, request)), path, progress)

    labelling = button.click(
        on_predict_csv,
        inputs=[run, file_in, ctx.visitor],
        outputs=[file_out],
        api_name="predict_csv",
        concurrency_limit=2,
    )
    cancel.click(None, cancels=[labelling], api_visibility="private")


def create_predict_tab(ctx: Context) -> gr.Dropdown:
    view = _create_predict_view()
    run, text, pair, features, button, label, answer, why_controls, why, csv_in, csv_button, cancel, csv_out = view

    @user_errors
    def on_predict(
        run_id: str | None, value: str | None, second: str | None, frame: Any, visitor: str | None, request: gr.Request
    ) -> tuple[Any, str]:
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        return shown_answer(predict_one(predictor, value, _feature_row(frame, predictor.feature_names), second))

    @user_errors
    def predict(
        run_id: str,
        text: str = "",
        features: list[float] | None = None,
        text_pair: str = "",
        request: gr.Request = None,
    ) -> dict[str, float] | None:
        """Each label's probability for one text ({"value": v} for a regression run); with the numeric feature
        values of a model that reads them, and the second text of a pair model."""
        predictor = predictors.get(ctx.run_dir(run_id, None, request))
        return label_probabilities(predict_one(predictor, text, features, text_pair))

    @user_errors
    def on_select_run(run_id: str | None, visitor: str | None, request: gr.Request) -> tuple:
        return inputs_for(predictors.get(ctx.run_dir(run_id, visitor, request)) if run_id else None)

    gr.on(  # as the user types, and on the button
        [text.change, pair.change, button.click],
        on_predict,
        inputs=[run, text, pair, features, ctx.visitor],
        outputs=[label, answer],
        api_visibility="private",
        trigger_mode="always_last",
        concurrency_limit=None,
        show_progress="hidden",
    )
    gr.api(predict, api_name="predict", concurrency_limit=None)
    run.change(
        on_select_run,
        inputs=[run, ctx.visitor],
        outputs=[text, pair, features, label, answer],
        api_visibility="private",
    )
    _wire_file_labelling(ctx, run, csv_in, csv_button, cancel, csv_out)
    wire_why(ctx, why, why_controls, run, text, pair, features)
    create_compare_view(ctx)
    return run
