"""EnvThreads.call, the hot path of env calls: an outcome handed over within a short wait,
or through the loop; and the session table's rule of when the loop waits at all."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from openenv_grpc.env import StepResult
from openenv_grpc.runner import EnvThreads
from openenv_grpc.sessions import HANDOFF_BACKOFF, SessionManager

from testenvs import CounterEnv


def test_a_call_done_within_the_wait_comes_back_done() -> None:
    async def scenario() -> tuple[bool, int, bool]:
        threads = EnvThreads(2)
        loop = asyncio.get_running_loop()
        quick = threads.call(loop, lambda: 7, wait=30)
        failing = threads.call(loop, _raise, wait=30)
        done = quick.done() and failing.done()
        with pytest.raises(ValueError, match="no"):
            await failing
        threads.shutdown()
        return done, await quick, failing.done()

    assert asyncio.run(scenario()) == (True, 7, True)


def test_a_call_longer_than_the_wait_completes_through_the_loop() -> None:
    gate = threading.Event()

    async def scenario() -> tuple[bool, str, bool]:
        threads = EnvThreads(2)
        loop = asyncio.get_running_loop()
        slow = threads.call(loop, lambda: gate.wait(30) and "late", wait=0.001)
        pending = not slow.done()
        ticks = 0

        async def tick() -> None:  # the loop goes on serving others meanwhile
            nonlocal ticks
            ticks += 1

        await tick()
        gate.set()
        result = await slow
        threads.shutdown()
        return pending, result, ticks == 1

    assert asyncio.run(scenario()) == (True, "late", True)


def test_without_a_wait_the_outcome_arrives_through_the_loop() -> None:
    async def scenario() -> tuple[bool, int]:
        threads = EnvThreads(1)
        future = threads.call(asyncio.get_running_loop(), lambda: 3)
        pending = not future.done()
        result = await future
        threads.shutdown()
        return pending, result

    assert asyncio.run(scenario()) == (True, 3)


class SlowOnDemand(CounterEnv):
    """Action 2 waits for the test's gate: a call longer than the loop's wait."""

    gate = threading.Event()

    def step(self, action: Any) -> StepResult:
        if int(action) == 2:
            self.gate.wait(30)
        return super().step(action)


def test_a_slow_call_makes_the_loop_stop_waiting_for_a_while_and_a_quick_one_resumes() -> None:
    """After a call that outlasts the wait, the session's next 1, 2, 4, ... calls are not
    waited for; one handed over in time starts the count again. (The wait is set per call:
    long enough for any quick call, and short for the call held until the wait is over.)"""
    SlowOnDemand.gate.clear()

    async def scenario() -> list[tuple[int, int]]:
        manager = SessionManager(SlowOnDemand, env_calls="thread")

        def wait(seconds: float) -> None:
            manager.env_call_wait = seconds

        session, _ = await manager.open()
        wait(30)
        await manager.reset(session)
        seen = [(session.handoff_skip, session.handoff_backoff)]
        wait(0.001)
        slow = asyncio.ensure_future(manager.step(session, 2))
        await asyncio.sleep(0)  # the step has started, and outlasted the loop's wait
        seen.append((session.handoff_skip, session.handoff_backoff))
        SlowOnDemand.gate.set()
        await slow
        wait(30)
        await manager.step(session, 1)  # not waited for: its turn was skipped
        seen.append((session.handoff_skip, session.handoff_backoff))
        await manager.step(session, 1)  # waited for again, and handed over in time
        seen.append((session.handoff_skip, session.handoff_backoff))
        manager.shutdown()
        return seen

    assert asyncio.run(scenario()) == [(0, 1), (1, 2), (0, 2), (0, 1)]
    assert HANDOFF_BACKOFF >= 2


def _raise() -> None:
    raise ValueError("no")


def test_with_no_wait_every_call_completes_through_the_loop() -> None:
    async def scenario() -> tuple[bool, int]:
        manager = SessionManager(CounterEnv, env_calls="thread", env_call_wait=0)
        session, _ = await manager.open()
        await manager.reset(session)
        step = asyncio.ensure_future(manager.step(session, 1))
        await asyncio.sleep(0)  # started on a worker; not waited for
        pending = not step.done() and session.handoff_skip == 0
        result = await step
        manager.shutdown()
        return pending, int(result.observation[0])

    assert asyncio.run(scenario()) == (True, 1)
