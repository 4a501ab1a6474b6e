"""A run's time budget: how many optimiser steps fit in the minutes a user gave, re-planned as the measured costs
come in, so that the whole run (building the model, training, the evaluations and the save) ends on time.

The first plan is made as soon as one step is timed (a step may take seconds on a busy CPU, and a budget of a minute
cannot wait for ten), then remade at steps 4, 8, 16... until plans are `REPLAN_FRACTION` of the run apart, and after
every evaluation, from the recent step time (the machine's load changes, and batches of grouped lengths differ in
cost) and the measured evaluation time. `Budget` is plain arithmetic over a clock it is
given, so tests can drive it with a fake one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

FIRST_PLAN_STEP = 2  # the first step, with its one-off costs, is not timed; the second is
RECENT_STEPS = 8  # the step time is measured over at least this many recent steps
REPLAN_FRACTION = 0.05  # the plan is remade every 5% of the planned steps (and after each evaluation)
# what writing the weights at the end is allowed (0.6 s for the 90 MB MiniLM); an allowance, not a measurement: the
# 5-minute runs of docs/benchmarks.md ended within 0.5% of their budget with it
SAVE_BYTES_PER_SECOND = 150e6


@dataclass
class Budget:
    """The plan of a run with `seconds` to spend, counted on `clock` from `started` (when the run began)."""

    seconds: float
    clock: Callable[[], float]
    started: float
    steps_per_epoch: int
    max_steps: int  # the epochs' upper bound: a budget shortens a run, never lengthens it past that
    probe_evaluation: Callable[[], float]  # before an evaluation has run: what one will cost, from a probe
    save_seconds: float
    timed_from: float | None = None  # the clock after the first step (whose one-off costs are left out)
    evaluation_seconds: list[float] = field(default_factory=list)
    probed: float | None = None  # the probe's estimate of an evaluation
    untimed: float = 0.0  # seconds spent neither training nor evaluating (the probe)
    marks: list[tuple[int, float]] = field(default_factory=list)  # (step, training seconds so far) at each plan
    next_plan: int = FIRST_PLAN_STEP

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def start_timing(self) -> None:
        """Called once the first step is done (and, on a GPU, synchronised)."""
        self.timed_from = self.clock()

    def evaluated(self, seconds: float) -> None:
        self.evaluation_seconds.append(seconds)

    def is_due(self, step: int, epoch_end: bool = False) -> bool:
        """Whether the plan is remade at this step: every REPLAN_FRACTION of the run, and at each epoch's end once
        the first steps are timed (all processes agree: it depends on the step alone)."""
        if self.timed_from is None or step < FIRST_PLAN_STEP:
            return False
        return epoch_end or step >= self.next_plan

    def seconds_per_step(self, step: int) -> float:
        """Training seconds a step, over the recent fifth of the timed steps and at least RECENT_STEPS of them
        (evaluations left out): recent enough to follow a machine that gets busier, long enough to average over
        batches of different lengths."""
        training = self.clock() - self.timed_from - sum(self.evaluation_seconds) - self.untimed
        self.marks.append((step, training))
        window_start = step - max(RECENT_STEPS, step // 5)
        since_step, since_seconds = next(((s, t) for s, t in self.marks if s >= window_start), (1, 0.0))
        if since_step >= step:
            since_step, since_seconds = 1, 0.0
        return max(training - since_seconds, 1e-9) / (step - since_step)

    def evaluation_estimate(self) -> float:
        """The measured evaluations (the slower of the recent half), or before one has run, the probe's estimate:
        a run shorter than an epoch (large data) evaluates only at its end, and must leave room for it."""
        if self.evaluation_seconds:
            return max(self.evaluation_seconds[-len(self.evaluation_seconds) // 2 :])
        if self.probed is None:
            began = self.clock()
            self.probed = self.probe_evaluation()
            self.untimed += self.clock() - began
        return self.probed

    def plan(self, step: int, evaluations_done: int) -> tuple[int, float]:
        """The total steps that end the run within the budget, and the seconds a step it was planned at. Each epoch
        that ends before the total, and the total itself, costs an evaluation; the save comes last."""
        per_step = self.seconds_per_step(step)
        evaluation = self.evaluation_estimate()
        left = self.seconds - self.elapsed - self.save_seconds

        def cost(total: int) -> float:
            evaluations = max(0, math.ceil(total / self.steps_per_epoch) - evaluations_done)
            return (total - step) * per_step + evaluations * evaluation

        low, high = step, self.max_steps
        while low < high:  # the largest total whose cost fits (cost grows with the total)
            middle = (low + high + 1) // 2
            low, high = (middle, high) if cost(middle) <= left else (low, middle - 1)
        self.next_plan = step + max(1, min(step, math.ceil(REPLAN_FRACTION * low)))
        return low, per_step


def linear_schedule(done: int, warmup: int, total: int) -> float:
    """The learning rate's factor after `done` steps: transformers' linear schedule with warmup, so the first step
    is taken at zero and the rate reaches zero at `total`, which a re-plan may move between steps."""
    if done < warmup:
        return done / max(1, warmup)
    return max(0.0, (total - done) / max(1, total - warmup))


def with_budget(config: Any) -> tuple[Any, float | None]:
    """A run's settings and its time budget in seconds (none when the epochs are set or the budget is 0); with one,
    the budget, not patience, ends the run unless patience was asked for: the user gave the time."""
    seconds = config.time_budget * 60 if config.epochs is None and config.time_budget else None
    if seconds and config.patience is None:
        config = replace(config, patience=0)
    return config, seconds
