"""The Runs tab: the visitor's runs with model, data, date, status, headline metric and ONNX export; load one into
Evaluate and Predict, download it as a zip (a folder `transformers.pipeline` loads), export it to ONNX for faster
predictions, push it to the Hugging Face Hub, or delete it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from .. import export, hub, runs
from . import render
from .common import Context, user_errors


def create_runs_tab(ctx: Context) -> dict:
    table = gr.Dataframe(label="Runs", interactive=False, wrap=True)
    with gr.Row():
        selected = gr.Dropdown(label="Run", choices=[], interactive=True, allow_custom_value=True, scale=3)
        refresh = gr.Button("Refresh", scale=1)
        load = gr.Button("Load into Evaluate and Predict", scale=1)
        download = gr.Button("Download as zip", scale=1)
        delete = gr.Button("Delete", variant="stop", scale=1)
    archive = gr.File(label="Run archive", interactive=False, visible=False)
    with gr.Accordion("Push to the Hugging Face Hub", open=False):
        with gr.Row():
            repo_id = gr.Textbox(label="Repo id", placeholder="your-name/model-name", scale=2)
            # the token is used for this push only: never stored, logged or shown again
            token = gr.Textbox(label="Token with write access (or set HF_TOKEN)", type="password", scale=2)
            push = gr.Button("Push", scale=1)
    with gr.Accordion("Export to ONNX for faster predictions", open=False):
        with gr.Row():
            weights = gr.Radio(
                ["fp32", "int8"],
                value="fp32",
                label="Weights (int8: a quarter of the size and faster; a few answers may differ)",
                scale=3,
            )
            export_button = gr.Button("Export", scale=1)
    notice = gr.Markdown()

    def on_list_runs(visitor: str | None = None, request: gr.Request = None) -> tuple:
        listed = runs.list_runs(ctx.workspace(visitor, request))
        newest = listed[0].id if listed else None
        frame = render.runs_frame(listed)
        frame["export"] = [export.export_status(r.path) for r in listed]  # last: the API's columns keep their places
        return frame, gr.update(choices=[r.id for r in listed], value=newest)

    @user_errors
    def on_download(run_id: str | None, visitor: str | None = None, request: gr.Request = None) -> str:
        run_dir = ctx.run_dir(run_id, visitor, request)
        runs.require_loadable(run_dir)
        target = Path(tempfile.mkdtemp(prefix="workbench-download-")) / run_dir.name
        return shutil.make_archive(str(target), "zip", root_dir=run_dir.parent, base_dir=run_dir.name)

    @user_errors
    def on_delete(run_id: str | None, visitor: str | None = None, request: gr.Request = None) -> str:
        run_dir = ctx.run_dir(run_id, visitor, request)
        if runs.effective_status(runs.read_run(run_dir)) == runs.Status.RUNNING:
            raise ValueError("This run is still training; stop it first.")
        runs.delete_run(run_dir.parent, run_dir.name)
        return f"Deleted run {run_id}."

    @user_errors
    def on_push(
        run_id: str | None, repo: str, hub_token: str, visitor: str | None = None, request: gr.Request = None
    ) -> str:
        url = hub.push_run(ctx.run_dir(run_id, visitor, request), repo, token=(hub_token or "").strip() or None)
        return f"Pushed run {run_id} to [{repo.strip()}]({url})."

    def on_list_table(visitor: str | None = None, request: gr.Request = None) -> Any:
        return on_list_runs(visitor, request)[0]  # the table alone: the chosen run stays chosen

    @user_errors
    def on_export(
        run_id: str | None, weights: str = "fp32", visitor: str | None = None, request: gr.Request = None
    ) -> str:
        info = export.export_run(ctx.run_dir(run_id, visitor, request), quantize=None if weights == "fp32" else weights)
        return (
            f"Exported run {run_id} to `{info.file}` ({info.describe()}) beside its weights; its predictions now "
            f"run in ONNX Runtime."
        )

    listing = dict(fn=on_list_runs, inputs=[ctx.visitor], outputs=[table, selected])
    refresh.click(**listing, api_name="list_runs")
    download.click(on_download, inputs=[selected, ctx.visitor], outputs=[archive], api_name="download_run").success(
        lambda: gr.File(visible=True), outputs=[archive], api_visibility="private"
    )
    delete.click(on_delete, inputs=[selected, ctx.visitor], outputs=[notice], api_name="delete_run").then(
        **listing, api_visibility="private"
    )
    export_button.click(
        on_export, inputs=[selected, weights, ctx.visitor], outputs=[notice], api_name="export_run"
    ).success(on_list_table, inputs=[ctx.visitor], outputs=[table], api_visibility="private")
    push.click(on_push, inputs=[selected, repo_id, token, ctx.visitor], outputs=[notice], api_name="push_run")
    return {"load": load, "selected": selected, "listing": listing}
