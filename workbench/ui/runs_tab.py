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


def _create_run_picker() -> tuple[gr.Dropdown, gr.Button, gr.Button, gr.Button, gr.Button]:
    """The run to act on, and the buttons: refresh the list, load the run, download it, delete it."""
    with gr.Row():
        return (
            gr.Dropdown(label="Run", choices=[], interactive=True, allow_custom_value=True, scale=3),
            gr.Button("Refresh", scale=1),
            gr.Button("Load into Evaluate and Predict", scale=1),
            gr.Button("Download as zip", scale=1),
            gr.Button("Delete", variant="stop", scale=1),
        )


def _create_push_panel() -> tuple[gr.Textbox, gr.Textbox, gr.Button]:
    """The repo id, a token for this push only (never stored, logged or shown again) and the Push button."""
    with gr.Accordion("Push to the Hugging Face Hub", open=False), gr.Row():
        repo_id = gr.Textbox(label="Repo id", placeholder="your-name/model-name", scale=2)
        token = gr.Textbox(label="Token with write access (or set HF_TOKEN)", type="password", scale=2)
        return repo_id, token, gr.Button("Push", scale=1)


def _create_export_panel() -> tuple[gr.Radio, gr.Button]:
    """The ONNX weights to write (fp32 or int8) and the Export button."""
    with gr.Accordion("Export to ONNX for faster predictions", open=False), gr.Row():
        weights = gr.Radio(
            ["fp32", "int8"],
            value="fp32",
            label="Weights (int8: a quarter of the size and faster; a few answers may differ)",
            scale=3,
        )
        return weights, gr.Button("Export", scale=1)


def _runs_view(listed: list[runs.RunSummary]) -> tuple:
    """The runs table and the run picker, on the newest run."""
    frame = render.runs_frame(listed)
    frame["export"] = [export.export_status(r.path) for r in listed]  # last: the API's columns keep their places
    return frame, gr.update(choices=[r.id for r in listed], value=listed[0].id if listed else None)


def _zip_run(run_dir: Path) -> str:
    """The run's folder as a zip in a fresh temporary folder (unpacked, a folder `transformers.pipeline` loads)."""
    target = Path(tempfile.mkdtemp(prefix="workbench-download-")) / run_dir.name
    return shutil.make_archive(str(target), "zip", root_dir=run_dir.parent, base_dir=run_dir.name)


def create_runs_tab(ctx: Context) -> dict:
    table = gr.Dataframe(label="Runs", interactive=False, wrap=True)
    selected, refresh, load, download, delete = _create_run_picker()
    archive = gr.File(label="Run archive", interactive=False, visible=False)
    repo_id, token, push = _create_push_panel()
    weights, export_button = _create_export_panel()
    notice = gr.Markdown()

    def on_list_runs(visitor: str | None = None, request: gr.Request = None) -> tuple:
        return _runs_view(runs.list_runs(ctx.workspace(visitor, request)))

    @user_errors
    def on_download(run_id: str | None, visitor: str | None = None, request: gr.Request = None) -> str:
        run_dir = ctx.run_dir(run_id, visitor, request)
        runs.require_loadable(run_dir)
        return _zip_run(run_dir)

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
