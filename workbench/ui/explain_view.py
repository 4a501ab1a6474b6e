"""Why a run answers as it does, in the page: the text with each word shaded by its push toward a label (red
toward, blue against), the numeric columns' pushes for a model that reads them, and a line saying what was
explained and how. Used under the Predict tab's answer (with a label and a method to choose, and the `/explain`
endpoint) and under the Evaluate tab's rows to look at (a click on a row explains it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from ..explain import DEFAULT_METHOD, METHODS, Explanation, explain
from ..labels import Task
from .common import Context, predictors, user_errors

THE_ANSWER = "(the answer)"
METHOD_WORDS = {
    "gradient": "gradient × input",
    "integrated-gradients": "integrated gradients",
    "occlusion": "occlusion (each word left out)",
}


@dataclass
class WhyView:
    shaded: gr.HighlightedText
    numbers: gr.Dataframe
    note: gr.Markdown


def create_why_view(label: str = "Why: each word's push toward the label") -> WhyView:
    shaded = gr.HighlightedText(label=label, show_legend=False, combine_adjacent=False, elem_classes=["wb-why"])
    numbers = gr.Dataframe(label="Numeric columns' push", interactive=False, visible=False)
    return WhyView(shaded, numbers, gr.Markdown())


def why_outputs(view: WhyView) -> list:
    return [view.shaded, view.numbers, view.note]


def shown(explanation: Explanation) -> tuple:
    """The explanation as the view shows it: shaded words (the pair's after a ‖), numbers, one line."""
    pieces = explanation.shaded(0)
    if explanation.pair is not None and any(w.part == 1 for w in explanation.words):
        pieces += [("  ‖  ", None), *explanation.shaded(1)]
    numbers = sorted(explanation.features.items(), key=lambda kv: -abs(kv[1]))
    frame = pd.DataFrame([(n, round(v, 4)) for n, v in numbers], columns=["column", "push"])
    what = "the value" if explanation.target == "value" else f"**{explanation.target}**"
    output = f"{explanation.output:.4g}" if explanation.target == "value" else f"probability {explanation.output:.2f}"
    note = (
        f"Why {what} ({output}): red words pushed toward it, blue against; shade by strength. "
        f"Method: {METHOD_WORDS[explanation.method]}, {explanation.seconds:.2f} s."
    )
    return pieces, gr.update(value=frame, visible=bool(numbers)), note


def create_why_controls() -> tuple[gr.Dropdown, gr.Dropdown, gr.Button]:
    with gr.Row():
        target = gr.Dropdown([THE_ANSWER], value=THE_ANSWER, label="Explain the label", interactive=True)
        method = gr.Dropdown(list(METHODS), value=DEFAULT_METHOD, label="Method", interactive=True)
        button = gr.Button("Why?", size="sm")
    return target, method, button


def wire_why(ctx: Context, view: WhyView, controls: tuple, run: Any, text: Any, pair: Any, features: Any) -> None:
    """The Predict tab's "Why?": the typed text explained toward the chosen label, and the `/explain` endpoint."""
    target, method, button = controls

    @user_errors
    def on_why(
        run_id: str | None,
        value: str | None,
        second: str | None,
        frame: Any,
        label: str | None,
        chosen: str,
        visitor: str | None,
        request: gr.Request,
    ) -> tuple:
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        row = (
            pd.DataFrame(frame).iloc[0].astype(float).tolist()
            if predictor.feature_names and frame is not None
            else None
        )
        wanted = None if label in (None, "", THE_ANSWER) else label
        return shown(explain(predictor, value or "", second or None, row, wanted, chosen))

    @user_errors
    def explain_text(
        run_id: str,
        text: str = "",
        features: list[float] | None = None,
        text_pair: str = "",
        target: str = "",
        method: str = DEFAULT_METHOD,
        request: gr.Request = None,
    ) -> dict[str, Any]:
        """Each word's push (and each numeric column's) toward `target` (the predicted label when empty)."""
        predictor = predictors.get(ctx.run_dir(run_id, None, request))
        return explain(predictor, text, text_pair or None, features, target or None, method).to_dict()

    @user_errors
    def on_select_run(run_id: str | None, visitor: str | None, request: gr.Request) -> Any:
        labels = list(predictors.get(ctx.run_dir(run_id, visitor, request)).labels) if run_id else []
        return gr.update(choices=[THE_ANSWER, *labels], value=THE_ANSWER)

    inputs = [run, text, pair, features, target, method, ctx.visitor]
    button.click(on_why, inputs=inputs, outputs=why_outputs(view), api_visibility="private")
    gr.api(explain_text, api_name="explain", concurrency_limit=2)
    run.change(on_select_run, inputs=[run, ctx.visitor], outputs=[target], api_visibility="private")


def wire_row_why(ctx: Context, view: WhyView, run: Any, rows: gr.Dataframe) -> None:
    """The Evaluate tab: a click on a row to look at explains its text toward the label the run gave it."""

    @user_errors
    def on_row(run_id: str | None, visitor: str | None, event: gr.SelectData, request: gr.Request) -> tuple:
        predictor = predictors.get(ctx.run_dir(run_id, visitor, request))
        row = list(event.row_value or [])
        if not row:
            return gr.skip(), gr.skip(), gr.skip()
        predicted = str(row[1]) if predictor.task == Task.SINGLE_LABEL else None
        return shown(explain(predictor, str(row[-1]), target=predicted))

    rows.select(on_row, inputs=[run, ctx.visitor], outputs=why_outputs(view), api_visibility="private")
