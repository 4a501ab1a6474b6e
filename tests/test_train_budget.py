"""The length of a run: a time budget fits runs whose epochs are on auto into it, and the learning rate warms up
and then decays to zero at whatever end the run has."""

import pytest
from engine_helpers import of_kind, run_to_end

from workbench.config import TrainConfig
from workbench.events import Evaluated, Finished, Planned, Step
from workbench.train import CALIBRATION_STEPS


def test_a_time_budget_fits_an_auto_length_run_into_it(digits_data, tmp_path):
    # a budget spent before the first step is timed leaves one more step: the run is cut there and ends properly
    config = TrainConfig(model="mlp", time_budget=1e-6, patience=0, output=str(tmp_path))

    events = run_to_end(config, digits_data)

    started, planned, steps = events[0], of_kind(events, Planned), of_kind(events, Step)
    assert len(planned) == 1 and planned[0].step == CALIBRATION_STEPS
    assert planned[0].total_steps == CALIBRATION_STEPS + 1 < started.total_steps
    assert isinstance(events[-1], Finished) and events[-1].step == CALIBRATION_STEPS + 1
    assert steps[-1].total_steps == CALIBRATION_STEPS + 1
    assert steps[-1].learning_rate == pytest.approx(0.0, abs=1e-12)  # the schedule decayed to the new end
    assert of_kind(events, Evaluated)[-1].step == CALIBRATION_STEPS + 1  # the cut epoch was evaluated
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
