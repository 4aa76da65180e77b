"""Where env code runs: daemon worker threads whose hung calls can be written off.

Env code is untrusted: a call may never return. A standard
ThreadPoolExecutor then loses that thread for good (the pool shrinks until
nothing runs) and holds the process at exit (its workers are joined).
`EnvThreads` is a pool of daemon threads with a capacity of `workers` plus
every call written off: when the session table gives up on a call (its
timeout passed), `write_off` grows the pool by one so that the others never
wait behind the hung thread, and `restore` takes the place back if the call
ever returns. Daemon threads never hold the interpreter at exit, so a
shutdown always ends.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def default_workers() -> int:
    """As ThreadPoolExecutor's default: enough threads for I/O-bound envs on few cores."""
    return min(32, (os.cpu_count() or 1) + 4)


class EnvThreads(Executor):
    """A pool of daemon threads that runs env calls; see the module docstring."""

    _names = itertools.count()

    def __init__(self, workers: int | None = None, name: str = "openenv-env") -> None:
        self.workers = workers or default_workers()
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._written_off = 0
        self._closed = False

    @property
    def written_off(self) -> int:
        """Calls given up on that have not returned (each holds a thread)."""
        return self._written_off

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the env threads are shut down")
            self._jobs.put((future, fn, args, kwargs))
            self._grow()
        return future

    def write_off(self) -> None:
        """A call will not be waited for: its thread no longer counts towards capacity."""
        with self._lock:
            self._written_off += 1
            self._grow()

    def restore(self) -> None:
        """A written-off call has returned: its thread serves again."""
        with self._lock:
            self._written_off -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work; idle threads end. Running calls are never waited for."""
        with self._lock:
            self._closed = True
            threads = self._threads
        if cancel_futures:
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
        for _ in range(threads):
            self._jobs.put(None)

    def _grow(self) -> None:
        """Start a thread when work waits and no idle thread will take it (lock held)."""
        if self._jobs.qsize() > self._idle and self._threads < self.workers + self._written_off:
            self._threads += 1
            name = f"{self._name}-{next(self._names)}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
            if job is None:
                with self._lock:
                    self._threads -= 1
                return
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            del job, future, fn, args, kwargs
