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

`call` is the hot path of the session table: one env call as an asyncio
future that the worker completes itself (one `call_soon_threadsafe`), with
none of `run_in_executor`'s machinery (a concurrent Future, its callbacks,
a chained asyncio future). A step costs one hop to a worker and one back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
# A job: what the worker runs, and how to cancel it while it waits (pool shut down).
_Job = tuple[Callable[[], None], Callable[[], Any]]


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

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        self._put((run, future.cancel))
        return future

    def call(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[[], T], wait: float = 0.0
    ) -> asyncio.Future[T]:
        """Run `fn` on a worker; its outcome arrives in the returned future of `loop`.

        The future is never cancelled by a waiter going away (the session table waits
        on it through a waiter of its own), so it is done only when `fn` has returned.

        With `wait` > 0 the calling thread (the loop's) blocks up to `wait` seconds for
        the outcome: a call done by then is handed over directly and the future comes
        back done, without a write to the loop's self-pipe and a wake-up of the loop to
        read it; a longer call is answered through the future as above.
        """
        future: asyncio.Future[T] = loop.create_future()
        if wait <= 0:

            def run() -> None:
                try:
                    result = fn()
                except BaseException as exc:
                    _on(loop, _set_exception, future, exc)
                else:
                    _on(loop, _set_result, future, result)

            self._put((run, lambda: _on(loop, future.cancel)))
            return future

        handoff = _Handoff()

        def run_handed() -> None:
            try:
                outcome: _Outcome = (True, fn())
            except BaseException as exc:
                outcome = (False, exc)
            if handoff.finish(outcome):  # the loop has stopped waiting: through the future
                _on(loop, _settle, future, outcome)

        self._put((run_handed, lambda: _on(loop, future.cancel)))
        outcome = handoff.wait(wait)
        if outcome is not None:
            _settle(future, outcome)
        return future

    def _put(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the env threads are shut down")
            self._jobs.put(job)
            self._grow()

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
                    job[1]()
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
            job[0]()
            del job


_Outcome = tuple[bool, Any]  # (returned, its result) or (raised, the exception)


class _Handoff:
    """An env call's outcome, passed from its worker to a loop thread that waits briefly."""

    __slots__ = ("_done", "_guard", "_late", "_outcome")

    def __init__(self) -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self._guard = threading.Lock()
        self._outcome: _Outcome | None = None
        self._late = False

    def finish(self, outcome: _Outcome) -> bool:
        """Keep the outcome; True when the waiter has given up (the future carries it)."""
        with self._guard:
            self._outcome = outcome
            late = self._late
        if not late:
            self._done.release()
        return late

    def wait(self, seconds: float) -> _Outcome | None:
        """The outcome within `seconds`, or None (then `finish` reports it late)."""
        if self._done.acquire(timeout=seconds):
            return self._outcome
        with self._guard:
            if self._outcome is None:
                self._late = True
            return self._outcome


def _settle(future: asyncio.Future[Any], outcome: _Outcome) -> None:
    returned, value = outcome
    if returned:
        _set_result(future, value)
    else:
        _set_exception(future, value)


def _on(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """Call fn(*args) on the loop's thread; nothing when the loop has closed (no one waits)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def _set_result(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
