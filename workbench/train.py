"""The training loop: one `accelerate` loop for every model family, written as a generator of events.

`train(config, data, should_stop)` builds the model (yielding `Preparing` while a slow build goes on), creates a
run folder, yields `Started`, a `Step` every few optimiser steps, an `Evaluated` per epoch, and ends with
`Finished`, `Stopped` or `Failed`; every event from `Started` on is also appended to the run's `events.jsonl`, and
sent to the experiment trackers the run reports to (trackers.py). It never prints. AdamW
with linear warmup and decay, gradient clipping, class-weighted loss for imbalanced labels, and early stopping that
restores the best epoch's weights. Seeded and reproducible on the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed

from . import preparing, runs, trackers
from .budget import SAVE_BYTES_PER_SECOND, Budget, linear_schedule, with_budget
from .config import TrainConfig
from .data import PreparedData
from .devices import (
    autocast_on_cpu,
    cpu_threads_for,
    describe_device,
    make_accelerator,
    synchronize,
    training_precision,
)
from .events import Evaluated, Event, Failed, Finished, Planned, Started, Status, Step, Stopped
from .models import ModelBundle, auto_choice, family_for, with_family_defaults
from .scoring import evaluation_estimate, logits_of, predict_loader, shard_batches
from .tasks import is_better, rules_for

STEP_EVENTS = 300  # about this many Step events per run, whatever its length
GPU_EVENT_SECONDS = 0.5  # on a GPU, at most two Step events a second: each reads the loss back and stalls the queue
REPLANNED_CHANGE = 0.01  # a re-plan is shown (as a Planned event) when it moves the end by more than this share


def never() -> bool:
    return False


def train(
    config: TrainConfig,
    data: PreparedData,
    should_stop: Callable[[], bool] = never,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Event]:
    """Train one model on prepared data; yields events. Bad settings raise ValueError before a run exists. The
    run's time (and its budget) is counted on `clock` from here, so building the model is part of it."""
    started = clock()
    accelerator = make_accelerator(config)
    set_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model_name, route = auto_choice(config, data)
    family = family_for(model_name)
    config, budget_seconds = with_budget(config)
    config = with_family_defaults(config, family, len(data.train))
    try:  # a slow build (an encoder embedding every row) tells how far it is, and can be stopped
        bundle = yield from preparing.build_reporting(
            lambda: family.build(data, model_name, config, generator, accelerator.device.type == "cuda"),
            should_stop,
            lambda: clock() - started,
        )
    except preparing.PreparationStopped:
        yield Stopped(step=0, elapsed_seconds=round(clock() - started, 1), saved=False)
        return
    if route:  # recorded in run.json and said when the run starts
        bundle.info["route"] = route
    lr = config.lr or family.default_lr(bundle.info["parameters"])
    precision = training_precision(accelerator, bundle.model, config.cpu_bf16)
    record = runs.new_record(config, data, bundle, family.kind, describe_device(accelerator), lr, precision)
    loop = TrainingRun(config, data, bundle, accelerator, lr, precision, Clock(clock, started), budget_seconds)
    main = accelerator.is_main_process
    run_dir = loop.run_dir = runs.create_run(config.output, bundle.name, record) if main else None
    if run_dir is not None:  # kept beside the weights, so the run can be evaluated later on the same rows
        runs.atomic_write_with(run_dir / runs.VALIDATION_FILE, lambda tmp: data.validation.to_parquet(str(tmp)))

    def emit(event: Event) -> Event:
        if run_dir is not None:
            runs.append_event(run_dir, event)
        trackers.report(accelerator, event)
        return event

    yield emit(loop.started_event(record["device"]))
    try:
        trackers.start(accelerator, record, run_dir)
        with cpu_threads_for(bundle.model, accelerator.device):
            for event in loop.run(should_stop):
                yield emit(event)
    except GeneratorExit:  # the consumer went away mid-run: keep what was trained, marked stopped
        if loop.status == Status.RUNNING:
            emit(loop.save_stopped(reason="the watcher went away"))
        raise
    except Exception as error:  # one run fails with a readable reason; the process serving others goes on
        loop.status = Status.FAILED
        if run_dir is not None:
            runs.update_run(run_dir, status=Status.FAILED, error=_readable(error, config))
        yield emit(Failed(step=loop.step, error=_readable(error, config)))
    finally:  # finished, stopped, failed or abandoned
        trackers.end(accelerator, config.report_to)


@dataclass
class BestEpoch:
    """The epoch with the best validation score so far (the task's `monitor`: macro-F1, micro-F1 or RMSE), a
    CPU copy of its weights to restore at the end, and its validation outputs (the final report reads them rather
    than scoring the rows again)."""

    score: float
    epoch: float
    weights: dict[str, torch.Tensor]
    logits: torch.Tensor
    labels: torch.Tensor


@dataclass(frozen=True)
class Clock:
    """What a run's time is read from, and when the run began."""

    now: Callable[[], float]
    started: float


class TrainingRun:
    """The state of one training run between events: prepared objects, step count, the best epoch so far."""

    def __init__(
        self,
        config: TrainConfig,
        data: PreparedData,
        bundle: ModelBundle,
        accelerator: Accelerator,
        lr: float,
        precision: str,
        clock: Clock,
        budget_seconds: float | None = None,
    ):
        self.config, self.data, self.bundle, self.accelerator = config, data, bundle, accelerator
        self.precision = precision
        self.autocast = lambda: autocast_on_cpu(precision, accelerator.device)
        self.epochs = config.epochs
        self.rules = rules_for(data, config.class_weights).to(accelerator.device)
        self.run_dir: Path | None = None  # set once the run folder exists
        # fused: one kernel for all parameters' updates instead of several per tensor (a tenth of a MiniLM step on
        # the CPU went to the unfused update's small operations)
        optimizer = torch.optim.AdamW(bundle.model.parameters(), lr=lr, weight_decay=config.weight_decay, fused=True)
        # Each process takes every n-th batch; the prepared scheduler steps once per process at each optimiser step.
        batches_per_process = math.ceil(len(bundle.train_loader) / accelerator.num_processes)
        self.steps_per_epoch = math.ceil(batches_per_process / config.grad_accumulation)
        self.total_steps = 0 if bundle.fitted else self.steps_per_epoch * config.epochs  # a budget may shorten it
        self.clock, self.last_event, self.evaluations = clock, 0.0, 0
        self.budget = self._budget(budget_seconds) if budget_seconds and not bundle.fitted else None
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.lr_factor)
        self.model, self.optimizer, self.train_loader, self.scheduler = accelerator.prepare(
            bundle.model, optimizer, bundle.train_loader, scheduler
        )
        self.eval_loader = shard_batches(bundle.eval_loader, accelerator)
        self.step, self.status = 0, Status.RUNNING
        self.best: BestEpoch | None = None
        self.log_every = max(1, self.total_steps // STEP_EVENTS)

    def _budget(self, seconds: float) -> Budget:
        weights = sum(p.numel() * p.element_size() for p in self.bundle.model.parameters())
        return Budget(
            seconds=seconds,
            clock=self.clock.now,
            started=self.clock.started,
            steps_per_epoch=self.steps_per_epoch,
            max_steps=self.total_steps,
            probe_evaluation=self.probe_evaluation,
            save_seconds=weights / SAVE_BYTES_PER_SECOND,
        )

    def started_event(self, device: str) -> Started:
        run_dir, data = self.run_dir, self.data
        return Started(
            run_id=run_dir.name if run_dir else "",
            model=self.bundle.name,
            device=device,
            precision=self.precision,
            total_steps=self.total_steps,
            epochs=self.config.epochs,
            train_rows=len(data.train),
            validation_rows=len(data.validation),
            labels=data.labels.names,
            max_length=self.bundle.info.get("max_length"),
            task=data.task.value,
            run_dir=str(run_dir or ""),
            route=self.bundle.info.get("route", ""),
        )

    @property
    def elapsed(self) -> float:
        return self.clock.now() - self.clock.started

    def probe_evaluation(self) -> float:
        model = self.accelerator.unwrap_model(self.model)
        return evaluation_estimate(model, self.eval_loader, self.accelerator.device, self.autocast, self.clock.now)

    def lr_factor(self, scheduler_step: int) -> float:
        """Linear warmup, then linear decay to zero at the last step (transformers' linear schedule), reading the
        total when asked, so that a time budget can set it during the warmup."""
        total = self.total_steps * self.accelerator.num_processes
        return linear_schedule(scheduler_step, int(self.config.warmup * total), total)

    def replan(self) -> Planned | None:
        """Fit the rest of the run into the budget from the costs measured so far; a Planned event the first time
        and whenever the end moves by more than REPLANNED_CHANGE."""
        synchronize(self.accelerator.device)  # a GPU may still be working through the queued steps
        first = not self.budget.marks
        fitted, seconds_per_step = self.budget.plan(self.step, self.evaluations)
        plan = [fitted]
        if self.accelerator.num_processes > 1:  # the processes' clocks differ; all follow the main one
            broadcast_object_list(plan, from_process=0)
        moved = abs(plan[0] - self.total_steps) > REPLANNED_CHANGE * self.total_steps
        self.total_steps = plan[0]
        self.epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        self.log_every = max(1, self.total_steps // STEP_EVENTS)
        if not (first or moved):
            return None
        return Planned(
            step=self.step,
            total_steps=self.total_steps,
            epochs=round(self.total_steps / self.steps_per_epoch, 2),
            budget_seconds=self.budget.seconds,
            seconds_per_step=round(seconds_per_step, 4),
            all_epochs=self.total_steps >= self.budget.max_steps,
        )

    def run(self, should_stop: Callable[[], bool]) -> Iterator[Event]:
        if self.bundle.fitted:  # nothing to step: the validation rows score the fitted model, then it is saved
            yield self.evaluate_epoch(0.0)  # epoch 0: no epoch was trained
            yield self.save_finished()
            return
        self.model.train()
        samples, stale = 0, 0
        epoch = 0
        while epoch < self.epochs:  # a time budget may lower self.epochs during the first one
            for batch_index, batch in enumerate(self.train_loader):
                if should_stop():
                    yield self.save_stopped()
                    return
                loss, size = self.train_step(batch)
                samples += size
                if self.accelerator.sync_gradients:
                    self.step += 1
                    if self.budget and self.step == 1:
                        synchronize(self.accelerator.device)
                        self.budget.start_timing()
                    if self.budget and self.budget.is_due(self.step) and self.step < self.total_steps:
                        yield from self._replanned()
                    if self.reports_step():
                        # reading the loss waits for the device; only here, so a GPU can run steps ahead
                        yield self.step_event(loss.item(), samples, epoch + (batch_index + 1) / len(self.train_loader))
                    if self.step >= self.total_steps:  # the budget can end the last epoch part way
                        break
            epoch += 1
            evaluated = self.evaluate_epoch(round(min(epoch, self.step / self.steps_per_epoch), 4))
            yield evaluated
            stale = 0 if evaluated.is_best else stale + 1
            if (self.config.patience and stale >= self.config.patience) or self.step >= self.total_steps:
                break
            if self.budget and self.budget.is_due(self.step, epoch_end=True):  # the evaluation's cost is known now
                yield from self._replanned()
        yield self.save_finished()

    def _replanned(self) -> Iterator[Planned]:
        planned = self.replan()
        if planned is not None:
            yield planned

    def reports_step(self) -> bool:
        """Whether this step yields a Step event: every `log_every` steps and the last, and on a GPU no more often
        than every GPU_EVENT_SECONDS."""
        if self.step == self.total_steps:
            return True
        if self.step % self.log_every:
            return False
        if self.accelerator.device.type == "cuda":
            if time.monotonic() - self.last_event < GPU_EVENT_SECONDS:
                return False
            self.last_event = time.monotonic()
        return True

    def train_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
        with self.accelerator.accumulate(self.model):
            labels = batch.pop("labels")
            with self.autocast():
                logits = logits_of(self.model(**batch)).float()
            loss = self.rules.loss(logits, labels)
            self.accelerator.backward(loss)
            if self.accelerator.sync_gradients and self.config.grad_clip:
                self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad()
        return loss.detach(), len(labels) * self.accelerator.num_processes

    def step_event(self, loss: float, samples: int, epoch: float) -> Step:
        elapsed = self.elapsed
        return Step(
            step=self.step,
            total_steps=self.total_steps,
            epoch=round(epoch, 4),
            loss=loss,
            learning_rate=self.scheduler.get_last_lr()[0],
            samples_per_second=samples / max(elapsed, 1e-9),
            eta_seconds=elapsed / self.step * (self.total_steps - self.step),
            elapsed_seconds=elapsed,
        )

    def validation_outputs(self) -> tuple[float, torch.Tensor, torch.Tensor]:
        return predict_loader(self.model, self.eval_loader, self.accelerator, self.rules, self.autocast)

    def evaluate_epoch(self, epoch: float) -> Evaluated:
        began = self.clock.now()
        loss, logits, labels = self.validation_outputs()
        scores = self.rules.epoch_scores(logits, labels)
        is_best = is_better(self.rules, scores[self.rules.monitor], self.best.score if self.best else None)
        if is_best:  # keep a CPU copy, so the best epoch can be restored when later ones overfit
            state = self.accelerator.unwrap_model(self.model).state_dict()
            weights = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
            self.best = BestEpoch(scores[self.rules.monitor], epoch, weights, logits, labels)
        self.evaluations += 1
        if self.budget:
            self.budget.evaluated(self.clock.now() - began)
        return Evaluated(step=self.step, epoch=epoch, loss=loss, scores=scores, is_best=is_best)

    def save_finished(self) -> Finished:
        if self.best is not None:
            self.accelerator.unwrap_model(self.model).load_state_dict(self.best.weights)
            logits, labels = self.best.logits, self.best.labels
        else:
            _, logits, labels = self.validation_outputs()
        self.rules.fit_decision(logits, labels)  # e.g. the multi-label threshold, on the kept epoch's outputs
        metrics = self.rules.report(logits, labels)
        self._save(Status.FINISHED, metrics)
        return Finished(
            step=self.step,
            elapsed_seconds=self.elapsed,
            best_epoch=self.best_epoch,
            metrics={k: metrics[k] for k in self.rules.headline},
        )

    @property
    def best_epoch(self) -> float | None:
        """None for a model fitted by a solver: it has no epochs to choose from."""
        return self.best.epoch if self.best and not self.bundle.fitted else None

    def save_stopped(self, reason: str = "stopped by the user") -> Stopped:
        self._save(Status.STOPPED, None)
        return Stopped(step=self.step, elapsed_seconds=self.elapsed, reason=reason)

    def _save(self, status: Status, metrics: dict[str, Any] | None) -> None:
        """Weights first, then metrics, then the status: a crash in between never leaves a run that looks done."""
        self.status = status
        self.accelerator.wait_for_everyone()
        if self.run_dir is None:
            return
        final = self.bundle.final if status == Status.FINISHED else None  # e.g. refitted on every labelled row
        model = final if final is not None else self.accelerator.unwrap_model(self.model)
        self.rules.finalise(model)  # the run is over: the model is only saved from here on
        self.bundle.save(model, self.run_dir)
        if metrics is not None:
            runs.atomic_write_json(self.run_dir / runs.METRICS_FILE, metrics)
        headline = {k: metrics[k] for k in self.rules.headline} if metrics else None
        runs.update_run(
            self.run_dir,
            status=status,
            metrics=headline,
            task={**runs.task_record(self.data), **self.rules.record()},
            steps=self.step,
            best_epoch=self.best_epoch,
            elapsed_seconds=round(self.elapsed, 2),
        )


def _readable(error: Exception, config: TrainConfig) -> str:
    if isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower():
        return (
            f"Out of memory with batch size {config.batch_size}"
            f"{f' and max length {config.max_length}' if config.max_length else ''}: "
            f"try a smaller batch size or max length."
        )
    return f"Training failed: {type(error).__name__}: {str(error).strip()[:300]}"
