"""Background training jobs: one training at a time on the device, the rest wait in line; each job can be
stopped through its flag and watched (or re-attached to after a page reload) by its id or its owner.

The UI and the API only ever watch a job; the training itself runs here, in a worker thread, so a closed browser
tab neither stops a run nor leaves it half-written. On a ZeroGPU Space the training is the function that gets the
GPU (see `gpu_function`): ZeroGPU runs it in a process forked from the server, its arguments and events travel as
pickles, and the visitor's GPU quota is read from the Gradio request of the context that calls it. So a job's stop
flag is a file (a thread's Event cannot reach another process), and the job trains in a copy of the context it was
submitted from (the visitor's request), not the worker thread's own.
"""

from __future__ import annotations

import contextvars
import dataclasses
import os
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import DataSpec, TrainConfig
from .data import load_data
from .events import Ended, Event, Failed, Started, Status
from .train import train

GPU_START_SECONDS = 30  # of a ZeroGPU lease, for the process to start and the data to load before the budget counts


def training_events(spec: DataSpec, config: TrainConfig, should_stop: Callable[[], bool]) -> Iterator[Event]:
    """Read the data and train: the whole of a job's GPU work, in one function that ZeroGPU can wrap."""
    data = load_data(spec, seed=config.seed)
    yield from train(config, data, should_stop=should_stop)


def gpu_seconds() -> int:
    """The longest GPU lease asked of ZeroGPU (WORKBENCH_GPU_SECONDS)."""
    return int(os.environ.get("WORKBENCH_GPU_SECONDS", "300"))


def lease_seconds(spec: DataSpec, config: TrainConfig, should_stop: Callable[[], bool]) -> int:
    """The lease one training asks for: its time budget and the start, within the longest lease."""
    if config.epochs is None and config.time_budget:
        return min(gpu_seconds(), round(config.time_budget * 60) + GPU_START_SECONDS)
    return gpu_seconds()


def gpu_function(function: Callable) -> Callable:
    """ZeroGPU (the `spaces` package, present on a ZeroGPU Space) lends a GPU only to a function decorated with
    `spaces.GPU`, for the seconds its `duration` gives; elsewhere the package is absent and the function stays as it
    is. On other Space hardware `spaces.GPU` leaves the function as it is too."""
    try:
        import spaces
    except ImportError:
        return function
    return spaces.GPU(duration=lease_seconds)(function)


def within_lease(config: TrainConfig) -> TrainConfig:
    """A ZeroGPU lease ends the process that trains: a budget that would outlast it is shortened to fit, so the run
    ends (and is saved) on its own."""
    longest = (gpu_seconds() - GPU_START_SECONDS) / 60
    if config.epochs is None and (not config.time_budget or config.time_budget > longest):
        return dataclasses.replace(config, time_budget=longest)
    return config


class StopFlag:
    """A job's request to stop, as a file: readable from the process ZeroGPU forks for the training, and picklable
    (only its path travels). Training polls it between steps."""

    folder = Path(tempfile.gettempdir()) / "workbench-stops"

    def __init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / secrets.token_hex(8)

    def set(self) -> None:
        self.path.touch()

    def is_set(self) -> bool:
        return self.path.exists()

    __call__ = is_set

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Job:
    owner: str
    spec: DataSpec
    config: TrainConfig
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    status: Status = Status.QUEUED  # queued -> running -> finished | stopped | failed | cancelled
    events: list[Event] = field(default_factory=list)
    run_dir: str | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    stop_flag: StopFlag = field(default_factory=StopFlag)
    done: threading.Event = field(default_factory=threading.Event)
    # the submitter's context (in the app, the visitor's Gradio request: ZeroGPU charges that visitor's quota)
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    @property
    def finished(self) -> bool:
        return self.status.is_final

    def stop(self) -> None:
        if not self.finished:  # a finished job's flag file is gone, and stays gone
            self.stop_flag.set()


class JobManager:
    """A queue with one worker: jobs train one after another, in the order they came."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Job] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._training_events = gpu_function(training_events)
        self._gpu_wrapped = self._training_events is not training_events

    def submit(self, owner: str, spec: DataSpec, config: TrainConfig) -> Job:
        job = Job(owner=owner, spec=spec, config=within_lease(config) if self._gpu_wrapped else config)
        with self._lock:
            self._jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="workbench-trainer", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str | None, owner: str) -> Job | None:
        job = self._jobs.get(job_id or "")
        return job if job is not None and job.owner == owner else None  # never another visitor's job

    def latest_for(self, owner: str) -> Job | None:
        mine = [job for job in self._jobs.values() if job.owner == owner]
        return max(mine, key=lambda job: job.created) if mine else None

    def position(self, job: Job) -> int:
        """How many jobs train before this one (0 once it runs)."""
        if job.status != Status.QUEUED:
            return 0
        return sum(
            1
            for other in list(self._jobs.values())
            if other.created < job.created and not other.finished and other is not job
        )

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job.context.run(self._run, job)
            finally:
                job.stop_flag.clear()
                job.done.set()

    def _run(self, job: Job) -> None:
        if job.stop_flag.is_set():
            job.status = Status.CANCELLED
            return
        job.status = Status.RUNNING
        try:
            for event in self._training_events(job.spec, job.config, job.stop_flag):
                if isinstance(event, Started):
                    job.run_dir = event.run_dir
                if isinstance(event, Ended):
                    job.error = getattr(event, "error", None)
                    job.status = event.status
                job.events.append(event)
        except ValueError as error:  # bad settings or data: the user's to fix, said in one sentence
            self._fail(job, str(error))
        except Exception as error:  # anything else fails this job only; the worker goes on with the next
            self._fail(job, f"Training could not start: {type(error).__name__}: {error}")
        if not job.finished:
            self._fail(job, "Training ended without a result.")

    @staticmethod
    def _fail(job: Job, message: str) -> None:
        job.error, job.status = message, Status.FAILED
        job.events.append(Failed(step=0, error=message))
