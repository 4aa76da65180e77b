"""Timing loops, bounded in steps and in seconds, and latency percentiles.

Every loop stops at `max_steps` or once `max_seconds` have passed (after at
least `min_steps`), so no row can run away, however slow the path. Paths
that are compared are measured in alternating rounds (`split`, `merge`), so
that load from elsewhere on the machine falls on both sides alike. Only
step calls are timed one by one; resets (CartPole episodes end) count in
the wall time but not as steps, the same way for every row.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

SyncStep = Callable[[int], bool]
AsyncStep = Callable[[int], Awaitable[bool]]


@dataclass(frozen=True)
class Budget:
    """How long one measurement may run; `warmup` steps are untimed."""

    warmup: int
    max_steps: int
    max_seconds: float
    min_steps: int = 3


@dataclass
class Sample:
    """What a measurement saw: every step latency (seconds) and the wall time."""

    latencies: list[float]
    wall: float

    @property
    def steps(self) -> int:
        return len(self.latencies)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall if self.wall > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3


def merge(samples: Sequence[Sample]) -> Sample:
    """Several rounds of one path as one sample: all latencies, the summed wall time."""
    return Sample([x for s in samples for x in s.latencies], sum(s.wall for s in samples))


def split(budget: Budget, rounds: int) -> Budget:
    """The budget of one of `rounds` rounds: the same warm-up, a share of the time."""
    share = max(1, rounds)
    return Budget(
        budget.warmup, budget.max_steps // share, budget.max_seconds / share, budget.min_steps
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run_sync(reset: Callable[[], None], step: SyncStep, budget: Budget) -> Sample:
    """One session, sequential steps; `step(i)` returns True when the episode ended."""
    reset()
    for i in range(budget.warmup):
        if step(i):
            reset()
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + budget.max_seconds
    for i in range(budget.max_steps):
        t0 = time.perf_counter()
        done = step(i)
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        if done:
            reset()
        if t1 >= deadline and len(latencies) >= budget.min_steps:
            break
    return Sample(latencies, time.perf_counter() - start)


async def _warm(reset: Callable[[], Awaitable[None]], step: AsyncStep, warmup: int) -> None:
    await reset()
    for i in range(warmup):
        if await step(i):
            await reset()


async def _timed(
    reset: Callable[[], Awaitable[None]],
    step: AsyncStep,
    budget: Budget,
    deadline: float,
    out: list[float],
) -> None:
    for i in range(budget.max_steps):
        t0 = time.perf_counter()
        done = await step(i)
        t1 = time.perf_counter()
        out.append(t1 - t0)
        if done:
            await reset()
        if t1 >= deadline and i + 1 >= budget.min_steps:
            return


async def run_async(
    sessions: Sequence[tuple[Callable[[], Awaitable[None]], AsyncStep]],
    budget: Budget,
    *,
    warmed: bool = False,
) -> Sample:
    """Sessions stepping concurrently on one event loop; `max_steps` is per session.

    All sessions warm up first (unless `warmed`), then start timing together.
    """
    if not warmed:
        await asyncio.gather(*(_warm(reset, step, budget.warmup) for reset, step in sessions))
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + budget.max_seconds
    await asyncio.gather(
        *(_timed(reset, step, budget, deadline, latencies) for reset, step in sessions)
    )
    return Sample(latencies, time.perf_counter() - start)


def run_threads(sessions: Sequence[tuple[Callable[[], None], SyncStep]], budget: Budget) -> Sample:
    """Sessions stepping at once, one thread each (blocking clients, as a trainer with one
    env per thread runs them); `max_steps` is per session. All warm up, then start
    timing together; an error in any thread stops them all and is raised here."""
    n = len(sessions)
    gate = threading.Barrier(n + 1)
    timed: list[list[float]] = [[] for _ in sessions]
    failures: list[BaseException] = []
    deadline: list[float] = []

    def one(out: list[float], reset: Callable[[], None], step: SyncStep) -> None:
        try:
            reset()
            for i in range(budget.warmup):
                if step(i):
                    reset()
            gate.wait()  # every session is warm
            gate.wait()  # the clock has started
            for i in range(budget.max_steps):
                t0 = time.perf_counter()
                done = step(i)
                t1 = time.perf_counter()
                out.append(t1 - t0)
                if done:
                    reset()
                if t1 >= deadline[0] and i + 1 >= budget.min_steps:
                    return
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)
            gate.abort()

    threads = [
        threading.Thread(target=one, args=(out, reset, step))
        for out, (reset, step) in zip(timed, sessions, strict=True)
    ]
    for thread in threads:
        thread.start()
    start = 0.0
    try:
        gate.wait()
        start = time.perf_counter()
        deadline.append(start + budget.max_seconds)
        gate.wait()
    except threading.BrokenBarrierError:
        pass
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return Sample([x for out in timed for x in out], time.perf_counter() - start)
