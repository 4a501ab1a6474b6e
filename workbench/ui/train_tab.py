"""The Train tab: choose the model and settings (a form built from `TrainConfig`), start a run in the background
and watch it (progress bar with ETA, live loss curve, throughput, log), stop it, and re-attach to it after a page
reload."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from ..config import AUTO, BUNDLED_BERT, DataSpec, TrainConfig
from ..data import PreparedData, load_data
from ..devices import device_summary
from ..events import Evaluated, Step, event_to_dict
from ..jobs import Job
from ..labels import Task
from ..models import FAMILIES, auto_choice, family_for
from ..models.catalog import model_choices
from . import render
from .common import Context, data_choice, data_spec, user_errors
from .settings_form import create_settings_form, read_settings, with_settings_parameters

TASK_HEADS = {
    Task.SINGLE_LABEL: "one output per class, softmax",
    Task.MULTI_LABEL: "one output per label, each a sigmoid against its threshold, chosen on the validation rows",
    Task.REGRESSION: "one output, the number",
}
POLL_SECONDS = 0.5


def prepared_data(state: dict[str, Any] | None) -> PreparedData | None:
    if not state:
        return None
    return load_data(data_spec(state))


def describe_model(model: str, state: dict[str, Any] | None, config: TrainConfig | None = None) -> str:
    """The model panel: what 'auto' picks for the loaded data (and the form's time budget and epochs, which decide
    how large a model fits), and that model's parts and parameter counts. Data that cannot train yet (the Data tab
    says why) leaves the panel about the model alone, not an error."""
    try:
        data, not_ready = prepared_data(state), ""
    except ValueError:
        data, not_ready = None, "The data loaded in the Data tab is not ready to train yet (it says why).\n\n"
    config = dataclasses.replace(config or TrainConfig(), model=model)
    chosen, why = auto_choice(config, data) if data is not None else (model, "")
    if chosen.lower() == AUTO:  # no data yet: auto will pick by the data
        chosen = BUNDLED_BERT
    panel = render.model_panel(family_for(chosen).describe(chosen, data))
    if data is None:
        return not_ready + panel
    picked = f"{why} " if why else ""  # which and why
    return f"{picked}Task: **{data.task.value}** ({TASK_HEADS[data.task]}).\n\n{panel}"


def auto_defaults_text() -> str:
    """What "auto" means for each family, from the families' own defaults."""
    parts = [
        f"{family.title}: up to {family.defaults.epochs} epochs "
        f"(more on small data, so that it takes at least {family.defaults.min_steps} steps), batch "
        f"{family.defaults.batch_size}"
        for family in FAMILIES
    ]
    return (
        f"Empty settings are auto — {'; '.join(parts)}; as many epochs as fit the time budget "
        f"({TrainConfig.time_budget:g} minutes unless changed); learning rate by model size; early stopping "
        f"keeps the best epoch."
    )


def job_view(job: Job, position: int) -> tuple:
    events = list(job.events)
    status = {
        "job_id": job.id,
        "status": job.status,
        "run_id": (job.run_dir or "").rsplit("/", 1)[-1] or None,
        "queue_position": position,
        "error": job.error,
        "last_event": event_to_dict(events[-1]) if events else None,
    }  # JSON at the API's edge
    has_loss = any(isinstance(e, (Step, Evaluated)) for e in events)
    plot = render.loss_frame(events) if has_loss else gr.skip()  # an all-blank first frame would break the plot
    return (
        render.progress_html(events, job.status, position),
        plot,
        render.throughput_text(events),
        render.log_text(events),
        status,
        job.id,
    )


def watch(ctx: Context, job: Job) -> Iterator[tuple]:
    """Yield the job's view whenever it changes, until the job is over."""
    seen = None
    while True:
        finished = job.finished  # read before the view, so the last view shown is the final one
        position = ctx.jobs.position(job)
        key = (job.status, len(job.events), position)
        if key != seen:
            seen = key
            yield job_view(job, position)
        if finished:
            return
        job.done.wait(POLL_SECONDS)


def model_for_new_data(state: dict[str, Any] | None, chosen: str | None) -> str:
    """A model that cannot read newly loaded data (BERT without a text column) goes back to auto."""
    chosen = chosen or AUTO
    return AUTO if state and not state["text"] and family_for(chosen).needs_text else chosen


def create_job_view() -> list[gr.components.Component]:
    """What a watched job updates: progress bar, loss plot, throughput, log, the status JSON and the job id."""
    progress = gr.HTML(render.progress_html([], "idle"))
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="loss", color="series", title="Loss", height=280)
        with gr.Column():
            throughput = gr.Textbox(label="Throughput", interactive=False)
            log = gr.Textbox(label="Log", lines=12, max_lines=12, interactive=False, autoscroll=True)
    return [progress, loss_plot, throughput, log, gr.JSON(label="Job", visible=False), gr.State()]


def job_settings(
    ctx: Context, state: dict[str, Any] | None, settings: dict[str, Any], output: str
) -> tuple[DataSpec, TrainConfig]:
    """The records a training job runs with: the Data tab's choice and the form's settings."""
    if not state:
        raise ValueError("Load data in the Data tab first.")
    spec = read_settings(settings, DataSpec, **data_choice(state))
    model = ctx.check_model_name(settings.get("model") or AUTO) or AUTO
    return spec, read_settings({**settings, "model": model}, TrainConfig, output=output)


def stop_job(job: Job | None) -> str:
    """Stop a training and say how it went: it ends within a step or so, keeping the weights so far."""
    if job is None or job.finished:
        return "No training is running."
    job.stop()
    job.done.wait(2.0)  # a step ends within about a second; the weights so far are then saved
    return f"Training {job.status}." if job.finished else "Stopping after the current step…"


def wire_model_panel(ctx: Context, form: dict[str, Any], panel: gr.Markdown) -> Callable[..., str]:
    """Describe the model in the panel whenever what auto's choice depends on changes: the model box, the loaded
    data (which also resets the model box), the time budget and the epochs. Returns the describing handler."""

    @user_errors
    def on_describe(
        model_name: str,
        state: dict[str, Any] | None = None,
        time_budget: float | None = None,
        epochs: int | None = None,
    ) -> str:
        config = read_settings({"time_budget": time_budget, "epochs": epochs}, TrainConfig)  # empty: the default
        return describe_model(ctx.check_model_name(model_name) or AUTO, state, config)

    model = form["model"]
    described = [model, ctx.data, form["time_budget"], form["epochs"]]
    model.change(on_describe, inputs=described, outputs=[panel], api_name="describe_model")
    for setting in (form["time_budget"], form["epochs"]):
        setting.change(on_describe, inputs=described, outputs=[panel], api_visibility="private")
    ctx.data.change(model_for_new_data, inputs=[ctx.data, model], outputs=[model], api_visibility="private").then(
        on_describe, inputs=described, outputs=[panel], api_visibility="private"
    )
    return on_describe


def create_train_tab(ctx: Context) -> dict[str, Any]:
    with gr.Row():
        with gr.Column(scale=2):
            form = create_settings_form([(choice.label(), choice.name) for choice in model_choices()])
            gr.Markdown(auto_defaults_text(), elem_classes=["wb-muted"])
            with gr.Row():
                start = gr.Button("Start training", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            gr.Markdown(f"**Device:** {device_summary()}")
        with gr.Column(scale=1):
            panel = gr.Markdown(label="Model")
    outputs = create_job_view()
    throughput, status, job_id, model = outputs[2], outputs[4], outputs[5], form["model"]

    @user_errors
    def on_train(
        state: dict[str, Any] | None, visitor: str | None = None, request: gr.Request = None, **settings: Any
    ) -> Iterator[tuple]:
        spec, config = job_settings(ctx, state, settings, str(ctx.workspace(visitor, request)))
        yield from watch(ctx, ctx.jobs.submit(ctx.owner(visitor, request), spec, config))

    def on_stop(current: str | None = None, visitor: str | None = None, request: gr.Request = None) -> str:
        owner = ctx.owner(visitor, request)
        return stop_job(ctx.jobs.get(current, owner) or ctx.jobs.latest_for(owner))

    def on_reattach(visitor: str | None = None, request: gr.Request = None) -> Iterator[tuple]:
        job = ctx.jobs.latest_for(ctx.owner(visitor, request))
        if job is None:
            yield tuple(gr.skip() for _ in outputs)  # nothing to re-attach to: leave the idle view as it is
            return
        yield from watch(ctx, job)

    training = start.click(
        with_settings_parameters(on_train, form),
        inputs=[ctx.data, ctx.visitor],
        inputs_kwargs=form,
        outputs=outputs,
        api_name="train",
        concurrency_limit=None,
    )
    stop.click(on_stop, inputs=[job_id, ctx.visitor], outputs=[throughput], api_name="stop", concurrency_limit=None)
    on_describe = wire_model_panel(ctx, form, panel)
    return {
        "training": training,
        "reattach": on_reattach,
        "outputs": outputs,
        "status": status,
        "panel": panel,
        "model": model,
        "describe": on_describe,
    }
