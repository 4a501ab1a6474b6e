"""The Train tab: choose the model and settings, start a run in the background and watch it (progress bar with
ETA, live loss curve, throughput, log), stop it, and re-attach to it after a page reload."""
from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from ..config import BUNDLED_BERT, MLP, DataSpec, TrainConfig
from ..jobs import Job
from ..models import bert, mlp
from ..devices import device_summary
from ..train import FAMILY_DEFAULTS
from . import render
from .common import Context, user_errors

MODEL_CHOICES = [BUNDLED_BERT, "bert-base-uncased", MLP]
POLL_SECONDS = 0.5


def describe_model(model: str, state: dict[str, Any] | None) -> str:
    n_labels = 2
    if state:
        from ..data import load_data

        data = load_data(DataSpec(state["path"], text_column=state["text"], label_column=state["label"],
                                  feature_columns=tuple(state["features"])))
        n_labels = len(data.labels)
        if model == MLP:
            featurizer = mlp.Featurizer.fit(data.train["text"], data.train["features"])
            return render.model_panel(mlp.describe(featurizer.size, n_labels))
    if model == MLP:
        return render.model_panel(mlp.describe(784, 10)) + "\n\n(Shown for 784 inputs and 10 classes, as in the " \
                                                            "article; load data to see yours.)"
    return render.model_panel(bert.describe(model, n_labels))


def job_view(job: Job, position: int) -> tuple:
    events = list(job.events)
    status = {"job_id": job.id, "status": job.status, "run_id": (job.run_dir or "").rsplit("/", 1)[-1] or None,
              "queue_position": position, "error": job.error, "last_event": events[-1] if events else None}
    has_loss = any(e["kind"] in ("step", "evaluated") for e in events)
    plot = render.loss_frame(events) if has_loss else gr.skip()  # an all-blank first frame would break the plot
    return (render.progress_html(events, job.status, position), plot,
            render.throughput_text(events), render.log_text(events), status, job.id)


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


def create_train_tab(ctx: Context) -> dict[str, Any]:
    with gr.Row():
        with gr.Column(scale=2):
            model = gr.Dropdown(MODEL_CHOICES, value=BUNDLED_BERT, allow_custom_value=True, label="Model",
                                info="The bundled offline BERT, a Hub id (e.g. bert-base-uncased), a model folder, "
                                     "or 'mlp' for the from-scratch MLP.")
            with gr.Row():
                epochs = gr.Number(0, label="Epochs (0 = auto)", precision=0, minimum=0)
                lr = gr.Number(0, label="Learning rate (0 = auto)", minimum=0)
                batch_size = gr.Number(0, label="Batch size (0 = auto)", precision=0, minimum=0)
                max_length = gr.Number(0, label="Max length (0 = from the data)", precision=0, minimum=0)
            with gr.Accordion("More settings", open=False):
                with gr.Row():
                    seed = gr.Number(value=42, label="Seed", precision=0)
                    validation = gr.Number(value=0.2, label="Validation share")
                    patience = gr.Number(-1, label="Early-stopping patience (0 = off, -1 = auto)", precision=0,
                                         minimum=-1)
                    budget = gr.Number(value=TrainConfig.time_budget, label="Time budget, minutes (0 = none)",
                                       minimum=0)
                with gr.Row():
                    warmup = gr.Number(value=0.1, label="Warmup share")
                    weight_decay = gr.Number(value=0.01, label="Weight decay")
                    accumulation = gr.Number(value=1, label="Gradient accumulation", precision=0)
                    hidden = gr.Number(value=256, label="MLP hidden units", precision=0)
                    weighting = gr.Checkbox(value=True, label="Weigh classes by rarity")
            bert_defaults, mlp_defaults = FAMILY_DEFAULTS["bert"], FAMILY_DEFAULTS["mlp"]
            gr.Markdown(f"Auto — BERT: up to {bert_defaults['epochs']} epochs (more on small data, so that it takes "
                        f"at least {bert_defaults['min_steps']} steps), batch {bert_defaults['batch_size']}; MLP: up "
                        f"to {mlp_defaults['epochs']} epochs (at least {mlp_defaults['min_steps']} steps), batch "
                        f"{mlp_defaults['batch_size']}; as many epochs as fit the time budget "
                        f"({TrainConfig.time_budget:g} minutes unless changed); learning rate by model size; early "
                        f"stopping keeps the best epoch.", elem_classes=["wb-muted"])
            with gr.Row():
                start = gr.Button("Start training", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            device = gr.Markdown(f"**Device:** {device_summary()}")
        with gr.Column(scale=1):
            panel = gr.Markdown(label="Model")
    progress = gr.HTML(render.progress_html([], "idle"))
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="loss", color="series", title="Loss", height=280)
        with gr.Column():
            throughput = gr.Textbox(label="Throughput", interactive=False)
            log = gr.Textbox(label="Log", lines=12, max_lines=12, interactive=False, autoscroll=True)
    status = gr.JSON(label="Job", visible=False)
    job_id = gr.State()

    @user_errors
    def on_train(state: dict[str, Any] | None, model_name: str = "auto", n_epochs: float | None = 0,
                 rate: float | None = 0, batch: float | None = 0, length: float | None = 0,
                 seed_value: float = 42, val_share: float = 0.2, patience_value: float | None = -1,
                 weigh: bool = True, warm: float = 0.1, decay: float = 0.01, accumulate: float = 1,
                 hidden_units: float = 256, budget_minutes: float | None = TrainConfig.time_budget,
                 visitor: str | None = None,
                 request: gr.Request = None) -> Iterator[tuple]:
        if not state:
            raise ValueError("Load a CSV in the Data tab first.")
        auto = lambda v, cast=int: None if v in (None, "") or v <= 0 else cast(v)  # noqa: E731  0 means "auto"
        spec = DataSpec(path=state["path"], text_column=state["text"], label_column=state["label"],
                        feature_columns=tuple(state["features"]), validation_fraction=float(val_share))
        config = TrainConfig(model=ctx.check_model_name(model_name) or "auto", epochs=auto(n_epochs),
                             batch_size=auto(batch),
                             lr=auto(rate, float), max_length=auto(length),
                             seed=int(seed_value), warmup=float(warm), weight_decay=float(decay),
                             grad_accumulation=int(accumulate), class_weights=bool(weigh),
                             patience=None if patience_value in (None, "") or patience_value < 0
                             else int(patience_value),
                             hidden_size=int(hidden_units), time_budget=float(budget_minutes or 0),
                             output=str(ctx.workspace(visitor, request)))
        job = ctx.jobs.submit(ctx.owner(visitor, request), spec, config)
        yield from watch(ctx, job)

    def on_stop(current: str | None = None, visitor: str | None = None, request: gr.Request = None) -> str:
        owner = ctx.owner(visitor, request)
        job = ctx.jobs.get(current, owner) or ctx.jobs.latest_for(owner)
        if job is None or job.finished:
            return "No training is running."
        job.stop()
        job.done.wait(2.0)  # a step ends within about a second; the weights so far are then saved
        return f"Training {job.status}." if job.finished else "Stopping after the current step…"

    def on_reattach(visitor: str | None = None, request: gr.Request = None) -> Iterator[tuple]:
        job = ctx.jobs.latest_for(ctx.owner(visitor, request))
        if job is None:
            yield tuple(gr.skip() for _ in outputs)  # nothing to re-attach to: leave the idle view as it is
            return
        yield from watch(ctx, job)

    @user_errors
    def on_describe(model_name: str, state: dict[str, Any] | None = None) -> str:
        return describe_model(ctx.check_model_name(model_name) or BUNDLED_BERT, state)

    inputs = [ctx.data, model, epochs, lr, batch_size, max_length, seed, validation, patience, weighting, warmup,
              weight_decay, accumulation, hidden, budget, ctx.visitor]
    outputs = [progress, loss_plot, throughput, log, status, job_id]
    training = start.click(on_train, inputs=inputs, outputs=outputs, api_name="train", concurrency_limit=None)
    stop.click(on_stop, inputs=[job_id, ctx.visitor], outputs=[throughput], api_name="stop", concurrency_limit=None)
    model.change(on_describe, inputs=[model, ctx.data], outputs=[panel], api_name="describe_model")
    ctx.data.change(lambda state, chosen: MLP if state and not state["text"] else chosen or BUNDLED_BERT,
                    inputs=[ctx.data, model], outputs=[model], api_visibility="private").then(
        on_describe, inputs=[model, ctx.data], outputs=[panel], api_visibility="private")
    return {"training": training, "reattach": (on_reattach, outputs), "panel": panel, "model": model,
            "describe": on_describe}
