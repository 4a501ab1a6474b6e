"""Background training jobs: one training at a time on the device, the rest wait in line; each job can be
stopped through its flag and watched (or re-attached to after a page reload) by its id or its owner.

The UI and the API only ever watch a job; the training itself runs here, in a worker thread, so a closed browser
tab neither stops a run nor leaves it half-written. On a ZeroGPU Space the training is the function that gets the
GPU (see `gpu_function`).
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .config import DataSpec, TrainConfig
from .data import load_data
from .events import Ended, Event, Failed, Started, Status, Stopped
from .train import never, train


def training_events(spec: DataSpec, config: TrainConfig, should_stop: Callable[[], bool]) -> Iterator[Event]:
    """Read the data and train: the whole of a job's GPU work, in one function that ZeroGPU can wrap."""
    data = load_data(spec, seed=config.seed)
    yield from train(config, data, should_stop=should_stop)


def gpu_function(function: Callable) -> Callable:
    """ZeroGPU (the `spaces` package, present on a ZeroGPU Space) lends a GPU only to a function decorated with
    `spaces.GPU`, for at most `duration` seconds (WORKBENCH_GPU_SECONDS); elsewhere the package is absent and the
    function stays as it is. On other Space hardware `spaces.GPU` leaves the function as it is too."""
    try:
        import spaces
    except ImportError:
        return function
    return spaces.GPU(duration=int(os.environ.get("WORKBENCH_GPU_SECONDS", "300")))(function)


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
    stop_flag: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.status.is_final

    def stop(self) -> None:
        self.stop_flag.set()


class JobManager:
    """A queue with one worker: jobs train one after another, in the order they came."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Job] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._training_events = gpu_function(training_events)
        # ZeroGPU may run the function in a process of its own, which a thread's stop flag cannot reach: there the
        # flag is watched here and a stop closes the stream of events instead.
        self._gpu_wrapped = self._training_events is not training_events

    def submit(self, owner: str, spec: DataSpec, config: TrainConfig) -> Job:
        job = Job(owner=owner, spec=spec, config=config)
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
                self._run(job)
            finally:
                job.done.set()

    def _run(self, job: Job) -> None:
        if job.stop_flag.is_set():
            job.status = Status.CANCELLED
            return
        job.status = Status.RUNNING
        try:
            should_stop = never if self._gpu_wrapped else job.stop_flag.is_set
            events = self._training_events(job.spec, job.config, should_stop)
            for event in events:
                if self._gpu_wrapped and job.stop_flag.is_set():
                    events.close()  # the training keeps the weights so far when its generator is closed
                    job.status = Status.STOPPED
                    job.events.append(Stopped(step=0, elapsed_seconds=0.0))
                    break
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
