"""What a run does before it can start, told as it happens: unpacking an encoder, fine-tuning it on pairs, embedding
the rows. Those can take minutes (the first mpnet run embeds 600 reviews for two and a half), and without word of
them a user would watch a still bar, unable to stop it.

Deep code says how far it is with `report(stage, done, total)`; it costs nothing when no run listens (predicting,
tests). `build_reporting` runs a family's build in a worker thread that listens, turns the reports into `Preparing`
events for the training generator to yield, and asks the build to stop when the user does: the next report then
raises `PreparationStopped` in the build, so a stop lands within one batch.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from threading import Event
from typing import TypeVar

from .events import Preparing

T = TypeVar("T")
POLL_SECONDS = 0.2  # how often the generator looks for the build's reports (and then at the user's Stop)
EVENT_SECONDS = 1.0  # at most one event a second for the same stage (an embedding reports every batch)

_listener: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("preparing_listener", default=None)


class PreparationStopped(Exception):
    """The user stopped the run while it was being prepared: nothing was trained, nothing is saved."""


def report(stage: str, done: int = 0, total: int = 0) -> None:
    """Say how far a slow preparation is (`total` 0: no count to give). Raises PreparationStopped once the user
    has asked the run to stop."""
    listener = _listener.get()
    if listener is not None:
        listener(stage, done, total)


def build_reporting(
    build: Callable[[], T], should_stop: Callable[[], bool], elapsed: Callable[[], float]
) -> Generator[Preparing, None, T]:
    """Run `build` in a worker thread, yielding its reports as `Preparing` events; returns what it returns and
    raises what it raises (PreparationStopped where the user stopped it)."""
    events: queue.SimpleQueue[Preparing] = queue.SimpleQueue()
    stop = Event()
    last: dict[str, float] = {}

    def listen(stage: str, done: int, total: int) -> None:
        if stop.is_set():
            raise PreparationStopped
        now = time.monotonic()
        if stage not in last or now - last[stage] >= EVENT_SECONDS or (total and done >= total):
            last[stage] = now
            events.put(Preparing(stage=stage, done=done, total=total, elapsed_seconds=round(elapsed(), 1)))

    def listened() -> T:
        _listener.set(listen)  # the worker thread's own context: no other thread hears these reports
        return build()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-prepare") as pool:
        future = pool.submit(listened)
        try:
            while not future.done() or not events.empty():
                try:
                    event = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                yield event
                # asked only where the build reports, so a build that never does is not counted as a step of
                # waiting (the loop asks before every training step)
                if should_stop():
                    stop.set()
        finally:  # finished, failed, or the watcher went away: the build stops at its next report
            stop.set()
    return future.result()
