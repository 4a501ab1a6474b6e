"""The web workbench: a Gradio Blocks app with a tab per step (Data, Train, Evaluate, Predict, Runs).

This package is the only one that imports gradio. `build_app()` wires the tabs to the engine; `launch()` starts
it with the theme, styles and upload limit (Gradio 6 takes those at launch).
"""

from __future__ import annotations

import secrets
from typing import Any

import gradio as gr

from ..jobs import JobManager
from ..logs import quiet_libraries
from .common import Context
from .data_tab import EXAMPLE_CSV, create_data_tab
from .evaluate_tab import create_evaluate_tab
from .predict_tab import create_predict_tab
from .runs_tab import create_runs_tab
from .settings import AppSettings
from .train_tab import create_train_tab

CSS = """
.wb-progress { margin: 4px 0 8px; }
.wb-track { height: 14px; border-radius: 7px; background: var(--neutral-200); overflow: hidden; }
.wb-fill { height: 100%; background: var(--color-accent); transition: width .4s ease; }
.wb-finished .wb-fill { background: #16a34a; } .wb-stopped .wb-fill { background: #d97706; }
.wb-failed .wb-fill { background: #dc2626; }
.wb-progress-text { margin-top: 6px; font-size: 0.95em; }
.wb-warning p { color: #b45309; }
.wb-muted p { color: var(--body-text-color-subdued); font-size: 0.9em; }
.wb-hidden { display: none !important; }  /* hidden, yet drawn (the Data tab's charts: see _create_charts) */
"""

INTRO = (
    "## Fine-tuning workbench\nUpload a table (CSV, JSON Lines, Parquet, Excel...) or load a Hub dataset, "
    "fine-tune a BERT classifier or train a from-scratch MLP, watch it learn, evaluate it and try it out. "
    "Start with **Data**, or use the example CSV."
)


def build_app(settings: AppSettings | None = None, jobs: JobManager | None = None) -> gr.Blocks:
    settings = settings or AppSettings.from_env()
    with gr.Blocks(title="Fine-tuning workbench") as demo:
        browser_key = gr.BrowserState(None, storage_key="workbench-visitor")
        ctx = Context(settings, jobs or JobManager(), visitor=gr.State(), data=gr.State())
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Data", id="data"):
                create_data_tab(ctx)
            with gr.Tab("Train", id="train"):
                train = create_train_tab(ctx)
            with gr.Tab("Evaluate", id="evaluate") as evaluate_tab:
                evaluate_run = create_evaluate_tab(ctx)
            with gr.Tab("Predict", id="predict") as predict_tab:
                predict_run = create_predict_tab(ctx)
            with gr.Tab("Runs", id="runs") as runs_tab:
                runs_ui = create_runs_tab(ctx)
        _wire(
            demo,
            ctx,
            tabs,
            browser_key,
            train,
            evaluate_run,
            predict_run,
            runs_ui,
            (evaluate_tab, predict_tab, runs_tab),
        )
    return demo


def _wire(
    demo: gr.Blocks,
    ctx: Context,
    tabs: gr.Tabs,
    browser_key: gr.BrowserState,
    train: dict[str, Any],
    evaluate_run: gr.Dropdown,
    predict_run: gr.Dropdown,
    runs_ui: dict[str, Any],
    tab_list: tuple,
) -> None:
    """The cross-tab flow: who the visitor is, run pickers kept current, re-attaching to a running job."""

    def on_visit(stored: str | None) -> tuple[str, str]:
        key = stored or secrets.token_urlsafe(24)  # private to this browser; names the visitor's workspace
        return key, key

    def pickers(visitor: str | None, request: gr.Request, select: str | None = None) -> tuple:
        choices = ctx.loadable_runs(visitor, request)
        pick = select if select in choices else None
        return tuple(gr.update(choices=choices, **({"value": pick} if pick else {})) for _ in range(2))

    def on_trained(status: dict[str, Any] | None, visitor: str | None, request: gr.Request) -> tuple:
        return pickers(visitor, request, (status or {}).get("run_id"))

    def on_load_run(run_id: str | None, visitor: str | None, request: gr.Request) -> tuple:
        return (*pickers(visitor, request, run_id), gr.Tabs(selected="evaluate"))

    status = train["status"]  # the job's status JSON, whose run id picks the run in Evaluate and Predict
    demo.load(on_visit, inputs=[browser_key], outputs=[browser_key, ctx.visitor], api_visibility="private").then(
        pickers, inputs=[ctx.visitor], outputs=[evaluate_run, predict_run], api_visibility="private"
    ).then(
        train["reattach"], inputs=[ctx.visitor], outputs=train["outputs"], api_name="watch", concurrency_limit=None
    ).then(on_trained, inputs=[status, ctx.visitor], outputs=[evaluate_run, predict_run], api_visibility="private")
    demo.load(**runs_ui["listing"], api_visibility="private")
    demo.load(train["describe"], inputs=[train["model"], ctx.data], outputs=[train["panel"]], api_visibility="private")
    train["training"].then(
        on_trained, inputs=[status, ctx.visitor], outputs=[evaluate_run, predict_run], api_visibility="private"
    ).then(**runs_ui["listing"], api_visibility="private")
    for tab in tab_list:
        tab.select(pickers, inputs=[ctx.visitor], outputs=[evaluate_run, predict_run], api_visibility="private")
    tab_list[2].select(**runs_ui["listing"], api_visibility="private")
    runs_ui["load"].click(
        on_load_run,
        inputs=[runs_ui["selected"], ctx.visitor],
        outputs=[evaluate_run, predict_run, tabs],
        api_visibility="private",
    )


def launch(host: str | None = None, port: int | None = None, **kwargs: Any) -> None:
    quiet_libraries()
    settings = AppSettings.from_env()
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        max_file_size=f"{settings.max_upload_mb}mb",
        allowed_paths=[str(EXAMPLE_CSV.parent)],
        theme=gr.themes.Soft(),
        css=CSS,
        ssr_mode=False,
        **kwargs,
    )
