"""Where scans are processed: in this process, in N local worker processes, or on a Dask cluster.

Every backend runs the same task on the same items and hands the results back **in the items' order**, whatever
order they finish in, so the tables a run writes do not depend on where it ran. At most a few items per worker
are in flight (:func:`ordered`), so memory stays flat however long the list.

A task is any picklable object with ``spec`` (what the worker builds once: :meth:`build` loads the models) and
``run(model, item)``. Each worker process builds its models once, on its first item (:func:`model_for`), and keeps
them; the local workers build them as they start.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Protocol

from antseg.errors import AntsegInputError

#: The most local worker processes (more than cores is refused anyway: see :func:`check_workers`).
MAX_WORKERS = 256
#: Items in flight per worker: one running, one queued so no worker waits for the next.
IN_FLIGHT_PER_WORKER = 2


class Task(Protocol):
    spec: Any

    def run(self, model: Any, item: Any) -> Any: ...


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as ``taskset`` and containers set it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch/OpenCV threads each of ``workers`` processes gets: the cores shared out, at least one each (so N
    workers never run more threads than there are cores, unless there are more workers than cores)."""
    return max(1, (cores or usable_cores()) // max(1, workers))


def check_workers(workers: int, what: str = "--workers") -> int:
    """A number of worker processes: a whole number from 1 to :data:`MAX_WORKERS`."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise AntsegInputError(None, f"{what} must be a whole number from 1 to {MAX_WORKERS}, got {workers!r}")
    return workers


def set_threads(n: int) -> None:
    """Let torch and OpenCV use ``n`` threads in this process."""
    import cv2
    import torch

    torch.set_num_threads(n)
    cv2.setNumThreads(n)


# -- the models of this process ------------------------------------------------------------------------------
_local = threading.local()  # a Dask worker may run several threads: each gets its own models


def model_for(spec: Any) -> Any:
    """The models ``spec`` describes, built once per process and thread and kept (one spec at a time)."""
    key = repr(spec)
    cached = getattr(_local, "cached", None)
    if cached is None or cached[0] != key:
        cached = (key, spec.build())
        _local.cached = cached
    return cached[1]


def execute(task: Task, item: Any) -> Any:
    """Run one item in a worker: the process's models, then the task."""
    return task.run(model_for(task.spec), item)


def _start_worker(spec: Any, threads: int) -> None:
    set_threads(threads)
    model_for(spec)  # load the models now: the first item is not slower than the rest


# -- ordering -------------------------------------------------------------------------------------------------
def ordered(submit: Callable[[Any], Future], items: Iterable[Any], window: int) -> Iterator[Any]:
    """Submit ``items`` keeping at most ``window`` in flight; yield their results in the items' order."""
    pending: deque[Future] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


# -- backends -------------------------------------------------------------------------------------------------
class Inline:
    """This process, with models already loaded (``model``): the default, ``--workers 1``."""

    name = "inline"
    workers = 1

    def __init__(self, model: Any) -> None:
        self.model = model

    def map(self, task: Task, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield task.run(self.model, item)

    def close(self) -> None:
        pass


class LocalProcesses:
    """``workers`` processes on this machine (spawned, so nothing of this process's state is shared), each with
    :func:`threads_per_worker` threads, each loading the models once as it starts."""

    name = "processes"

    def __init__(self, workers: int, spec: Any, threads: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = check_workers(workers)
        self.threads = threads or threads_per_worker(workers)
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
            initargs=(spec, self.threads),
        )  # fmt: skip

    def map(self, task: Task, items: Iterable[Any]) -> Iterator[Any]:
        return ordered(lambda it: self.pool.submit(execute, task, it), items, IN_FLIGHT_PER_WORKER * self.workers)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
