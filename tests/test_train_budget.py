"""The length of a run: a time budget fits runs whose epochs are on auto into it, re-planned as the measured step
and evaluation times come in (driven here by a fake clock that the model's forward passes advance), and the learning
rate warms up and then decays to zero at whatever end the run has."""

import pytest
from engine_helpers import of_kind, run_to_end

from workbench import train as train_module
from workbench.budget import FIRST_PLAN_STEP
from workbench.config import TrainConfig
from workbench.events import Evaluated, Finished, Planned, Step, describe_event


def test_a_time_budget_fits_an_auto_length_run_into_it(digits_data, tmp_path):
    # a budget spent before the first steps are timed ends the run at once, and it ends properly
    config = TrainConfig(model="mlp", time_budget=1e-6, patience=0, output=str(tmp_path))

    events = run_to_end(config, digits_data)

    started, planned, steps = events[0], of_kind(events, Planned), of_kind(events, Step)
    assert len(planned) == 1 and planned[0].step == FIRST_PLAN_STEP
    assert planned[0].total_steps == FIRST_PLAN_STEP < started.total_steps
    assert isinstance(events[-1], Finished) and events[-1].step == FIRST_PLAN_STEP
    assert steps[-1].total_steps == FIRST_PLAN_STEP
    assert of_kind(events, Evaluated)[-1].step == FIRST_PLAN_STEP  # the cut epoch was evaluated
    assert planned[0].epochs < started.epochs and planned[0].seconds_per_step > 0


def test_given_epochs_are_kept_whatever_the_budget(digits_data, tmp_path):
    config = TrainConfig(model="mlp", epochs=2, patience=0, time_budget=0.0001, output=str(tmp_path))

    events = run_to_end(config, digits_data)

    assert not of_kind(events, Planned)
    assert events[-1].step == events[0].total_steps


def test_learning_rate_warms_up_then_decays_to_zero_at_the_last_step(digits_data, tmp_path):
    config = TrainConfig(model="mlp", epochs=10, patience=0, warmup=0.2, lr=0.01, output=str(tmp_path))

    rates = [e.learning_rate for e in of_kind(run_to_end(config, digits_data), Step)]

    peak = rates.index(max(rates))
    assert max(rates) == pytest.approx(0.01, rel=0.05)
    assert 0.15 < peak / len(rates) < 0.25  # the peak where the warmup ends
    assert all(a <= b for a, b in zip(rates[:peak], rates[1 : peak + 1]))
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :]))
    assert rates[-1] == pytest.approx(0.0, abs=1e-9)


class FakeClock:
    """Seconds that pass only when the model runs: `step_cost(n)` for the n-th training batch, `evaluation_cost`
    for each evaluation batch."""

    def __init__(self, step_cost, evaluation_cost: float):
        self.now, self.steps, self.step_cost, self.evaluation_cost = 1000.0, 0, step_cost, evaluation_cost

    def __call__(self) -> float:
        return self.now

    def forward_pass(self, module, _inputs) -> None:
        if module.training:
            self.steps += 1
            self.now += self.step_cost(self.steps)
        else:
            self.now += self.evaluation_cost


def run_on_fake_clock(monkeypatch, data, tmp_path, clock: FakeClock, minutes: float = 1.0, **settings) -> list:
    """Train the MLP with a time budget, its forward passes costing what `clock` says."""
    family_for = train_module.family_for

    class Timed:
        def __init__(self, family):
            self.family = family

        def __getattr__(self, name):
            return getattr(self.family, name)

        def build(self, *args, **kwargs):
            bundle = self.family.build(*args, **kwargs)
            bundle.model.register_forward_pre_hook(clock.forward_pass)
            return bundle

    monkeypatch.setattr(train_module, "family_for", lambda name: Timed(family_for(name)))
    config = TrainConfig(model="mlp", time_budget=minutes, output=str(tmp_path), **settings)
    return list(train_module.train(config, data, clock=clock))


@pytest.mark.parametrize(
    "step_cost, evaluation_cost",
    [
        (lambda n: 0.25, 1.0),  # steady
        (lambda n: 0.1 if n <= 40 else 0.3, 1.0),  # the first steps under-estimate: the machine got busy
        (lambda n: 0.6 if n <= 20 else 0.2, 1.0),  # they over-estimate: a slow start (caches, one-off costs)
        (lambda n: 0.25, 3.5),  # evaluations cost more than an epoch of training
    ],
    ids=["steady", "slower-later", "faster-later", "costly-evaluations"],
)
def test_the_whole_run_ends_within_its_budget_as_costs_change(
    monkeypatch, digits_data, tmp_path, step_cost, evaluation_cost
):
    clock = FakeClock(step_cost, evaluation_cost)

    events = run_on_fake_clock(monkeypatch, digits_data, tmp_path, clock)

    finished = events[-1]
    assert isinstance(finished, Finished)
    assert 0.95 * 60 <= finished.elapsed_seconds <= 1.02 * 60
    steps = of_kind(events, Step)
    assert steps[-1].step == steps[-1].total_steps == finished.step  # the bar's total is the end that was kept
    assert steps[-1].learning_rate == pytest.approx(0.0, abs=1e-12)  # the schedule was re-aimed at that end
    assert finished.step < events[0].total_steps  # the budget, not the epochs' bound, ended it
    assert not of_kind(events, Planned)[-1].all_epochs


def test_a_run_shorter_than_an_epoch_leaves_room_for_its_one_evaluation(monkeypatch, digits_data, tmp_path):
    # large data: the budget ends the run inside its first epoch, so no evaluation is timed before the last one
    clock = FakeClock(lambda n: 1.0, 10.0)

    events = run_on_fake_clock(monkeypatch, digits_data, tmp_path, clock, batch_size=8)  # 60 steps an epoch

    assert len(of_kind(events, Evaluated)) == 1 and events[-1].step < 60
    assert 0.95 * 60 <= events[-1].elapsed_seconds <= 1.02 * 60


def test_a_run_whose_epochs_all_fit_ends_before_the_budget_and_says_so(monkeypatch, digits_data, tmp_path):
    clock = FakeClock(lambda n: 0.01, 0.1)  # the epochs' bound takes seconds of the minute

    events = run_on_fake_clock(monkeypatch, digits_data, tmp_path, clock)

    planned = of_kind(events, Planned)
    assert planned[-1].all_epochs and planned[-1].total_steps == events[0].total_steps == events[-1].step
    assert events[-1].elapsed_seconds < 30
    assert "all " in describe_event(planned[-1]) and "the run ends before it" in describe_event(planned[-1])


def test_a_run_replans_as_the_steps_slow_down(monkeypatch, digits_data, tmp_path):
    clock = FakeClock(lambda n: 0.1 if n <= 40 else 0.3, 1.0)

    planned = of_kind(run_on_fake_clock(monkeypatch, digits_data, tmp_path, clock), Planned)

    assert planned[0].step == FIRST_PLAN_STEP and len(planned) >= 2
    assert planned[-1].total_steps < planned[0].total_steps  # shortened once the slower steps were measured
    assert planned[-1].seconds_per_step == pytest.approx(0.3, rel=0.1)


def test_the_progress_total_follows_the_plan_at_once(monkeypatch, digits_data, tmp_path):
    clock = FakeClock(lambda n: 0.25, 1.0)

    events = run_on_fake_clock(monkeypatch, digits_data, tmp_path, clock, minutes=0.5)

    first_plan = events.index(of_kind(events, Planned)[0])
    next_step = next(e for e in events[first_plan:] if isinstance(e, Step))
    assert next_step.step <= FIRST_PLAN_STEP + 5  # Step events as often as the planned length asks


def test_an_explicit_patience_still_stops_a_budgeted_run_early(monkeypatch, digits_data, tmp_path):
    config = TrainConfig(model="mlp", time_budget=60, patience=1, output=str(tmp_path))

    events = run_to_end(config, digits_data)

    assert events[-1].step < of_kind(events, Step)[-1].total_steps or len(of_kind(events, Evaluated)) < 38
