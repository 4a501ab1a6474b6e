"""The minutes before a run starts are told and can be stopped: a build's reports become `Preparing` events, a Stop
lands at the build's next report and leaves nothing behind, errors come through as they were raised, and the Train
tab and the CLI show how far the preparation is."""

import threading
import time

import pytest

from workbench import cli, preparing
from workbench.events import Preparing, Status, Stopped, describe_event
from workbench.ui import render


def drain(generator):
    """The events a generator yields and the value it returns."""
    events = []
    while True:
        try:
            events.append(next(generator))
        except StopIteration as end:
            return events, end.value


def counting_build(n: int, pause: float = 0.0):
    def build() -> str:
        for done in range(n + 1):
            preparing.report("Embedding the training rows", done, n)
            time.sleep(pause)
        return "bundle"

    return build


def test_reports_become_events_and_the_build_returns_its_value(monkeypatch):
    monkeypatch.setattr(preparing, "EVENT_SECONDS", 0.0)  # every report an event

    events, value = drain(preparing.build_reporting(counting_build(3), lambda: False, lambda: 1.5))

    assert value == "bundle"
    assert [(e.done, e.total) for e in events] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert describe_event(events[-1]) == "Embedding the training rows: 3/3 (2s)."


def test_reports_are_thinned_to_one_a_second_but_the_last_always_comes():
    events, _ = drain(preparing.build_reporting(counting_build(500), lambda: False, lambda: 0.0))

    assert (events[0].done, events[-1].done) == (0, 500) and len(events) < 10


def test_a_stop_lands_at_the_builds_next_report():
    stop = threading.Event()
    generator = preparing.build_reporting(counting_build(10_000, pause=0.01), stop.is_set, lambda: 0.0)
    next(generator)
    stop.set()
    started = time.monotonic()
    with pytest.raises(preparing.PreparationStopped):
        drain(generator)
    assert time.monotonic() - started < 5


def test_a_builds_error_comes_through_unchanged():
    def build():
        preparing.report("Loading the sentence encoder x")
        raise ValueError("Could not load the sentence encoder 'x'.")

    with pytest.raises(ValueError, match="Could not load"):
        drain(preparing.build_reporting(build, lambda: False, lambda: 0.0))


def test_a_watcher_that_goes_away_stops_the_build():
    finished = threading.Event()

    def build():
        try:
            for done in range(10_000):
                preparing.report("Embedding", done, 10_000)
                time.sleep(0.01)
        finally:
            finished.set()

    generator = preparing.build_reporting(build, lambda: False, lambda: 0.0)
    next(generator)
    generator.close()  # the worker thread is asked to stop and waited for
    assert finished.is_set()


def test_reports_outside_a_run_cost_nothing():
    preparing.report("Embedding", 1, 2)  # no listener: predicting, or a test calling the encoder directly


def test_the_train_tab_shows_how_far_the_preparation_is():
    events = [Preparing("Loading the sentence encoder x"), Preparing("Embedding the training rows", 128, 512, 40.0)]

    bar = render.progress_html(events, Status.RUNNING)
    log = render.log_text(events)

    assert "width:25.0%" in bar and "Embedding the training rows: 128/512 (40s)." in bar
    assert log.splitlines() == ["Loading the sentence encoder x (0s).", "Embedding the training rows: 128/512 (40s)."]


def test_a_run_stopped_while_preparing_says_nothing_was_saved():
    events = [Preparing("Embedding the training rows", 128, 512), Stopped(step=0, elapsed_seconds=41.0, saved=False)]

    bar = render.progress_html(events, Status.STOPPED)

    assert "Stopped before training began (stopped by the user); nothing was saved." in bar


def test_the_cli_prints_each_stage_once_and_its_end(capsys):
    events = [Preparing("Embedding the training rows", done, 600, 1.0) for done in (0, 128, 256, 600)]

    list(cli.render_events(iter(events), interactive=False))

    assert capsys.readouterr().out.splitlines() == [
        "Embedding the training rows: 0/600 (1s).",
        "Embedding the training rows: 600/600 (1s).",
    ]
