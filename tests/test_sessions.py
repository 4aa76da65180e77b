"""The session table on its own: limits, TTL reaping on a controlled clock, env lifecycle."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_grpc.env import StepResult
from openenv_grpc.sessions import INLINE_AFTER, SLOW_CALL, CloseReason, SessionManager

from conftest import StartServer
from testenvs import CounterEnv

T = TypeVar("T")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_idle_sessions_are_reaped_after_the_ttl_and_their_env_closed() -> None:
    clock = FakeClock()
    envs: list[CounterEnv] = []

    def factory() -> CounterEnv:
        envs.append(CounterEnv())
        return envs[-1]

    async def scenario() -> None:
        manager = SessionManager(factory, ttl_seconds=60, clock=clock)
        (idle, _), (busy_one, _) = await manager.open(), await manager.open()
        await manager.reset(idle)
        await manager.reset(busy_one)
        clock.now += 59
        await manager.step(busy_one, 1)  # used: its idle time starts again
        assert await manager.reap_expired() == []
        clock.now += 2
        assert await manager.reap_expired() == [idle.id]
        assert (envs[0].closed, envs[1].closed) == (True, False)
        with pytest.raises(errors.NotFound):
            manager.get(idle.id)
        assert manager.get(busy_one.id) is busy_one
        clock.now += 61
        assert await manager.reap_expired() == [busy_one.id]
        assert len(manager) == 0
        manager.shutdown()

    run(scenario())
    assert [env.closed for env in envs] == [True, True]


def test_ttl_zero_never_reaps() -> None:
    clock = FakeClock()

    async def scenario() -> None:
        manager = SessionManager(CounterEnv, ttl_seconds=0, clock=clock)
        session, _ = await manager.open()
        clock.now += 10**9
        assert await manager.reap_expired() == []
        assert manager.get(session.id) is session
        manager.shutdown()

    run(scenario())


def test_the_limit_counts_sessions_still_being_created() -> None:
    async def scenario() -> None:
        manager = SessionManager(CounterEnv, max_sessions=2)
        results = await asyncio.gather(*(manager.open() for _ in range(3)), return_exceptions=True)
        assert sum(isinstance(r, errors.SessionLimitReached) for r in results) == 1
        assert len(manager) == 2
        manager.shutdown()

    run(scenario())


def test_a_factory_that_raises_is_internal_and_takes_no_slot() -> None:
    def broken() -> CounterEnv:
        raise OSError("no GPU here")

    async def scenario() -> None:
        manager = SessionManager(broken, max_sessions=1)
        with pytest.raises(errors.Internal, match=r"OSError.*no GPU here"):
            await manager.open()
        assert len(manager) == 0
        manager.shutdown()

    run(scenario())


def test_the_server_reaper_closes_idle_sessions_on_its_own(start_server: StartServer) -> None:
    server = start_server(CounterEnv, session_ttl=0.2)
    with EnvClient(server.address) as client:
        session = client.reset().session_id
        # Wait for the condition, bounded; the reaper runs every ttl/4.
        for _ in range(2000):
            if server.call(lambda: len(server.server.sessions)) == 0:
                break
            server.run(asyncio.sleep(0.01))
        with pytest.raises(errors.NotFound, match="idle for longer than the session TTL"):
            client.step(session, 1)


def test_reaping_through_a_real_server_on_a_controlled_clock(start_server: StartServer) -> None:
    clock = FakeClock()
    server = start_server(CounterEnv, session_ttl=30, clock=clock)
    with EnvClient(server.address) as client:
        old = client.reset().session_id
        clock.now += 20
        fresh = client.reset().session_id
        clock.now += 15
        assert server.run(server.server.sessions.reap_expired()) == [old]
        with pytest.raises(errors.NotFound):
            client.state(old)
        assert client.state(fresh).episode_done is False


class ThreadRecordingEnv(CounterEnv):
    """Records which thread ran each step; action 2 stands for a slow call."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def step(self, action: Any) -> StepResult:
        self.threads.append(threading.current_thread())
        if int(action) == 2:
            time.sleep(SLOW_CALL * 2)  # the env's own slow work, not synchronisation
        return super().step(action)


def test_adaptive_env_calls_inline_a_cheap_env_until_it_is_slow_once() -> None:
    async def scenario() -> list[bool]:
        manager = SessionManager(ThreadRecordingEnv, env_calls="adaptive")
        session, _ = await manager.open()
        await manager.reset(session)
        for _ in range(INLINE_AFTER + 3):
            await manager.step(session, 0)
        await manager.step(session, 2)  # slow, on the event loop: back to threads for good
        for _ in range(INLINE_AFTER + 3):
            await manager.step(session, 0)
        env = session.env
        assert isinstance(env, ThreadRecordingEnv)
        loop_thread = threading.current_thread()
        manager.shutdown()
        return [thread is loop_thread for thread in env.threads]

    on_loop = run(scenario())
    first = INLINE_AFTER + 3
    proving = INLINE_AFTER - 1  # the reset was the first fast call
    assert on_loop[:proving] == [False] * proving  # proving itself, on threads
    assert on_loop[proving:first] == [True] * 4  # cheap: on the event loop
    assert on_loop[first] is True  # the slow call itself ran on the loop ...
    assert on_loop[first + 1 :] == [False] * (INLINE_AFTER + 3)  # ... and never again


@pytest.mark.parametrize("policy", ["thread", "inline"])
def test_fixed_env_call_policies(policy: str) -> None:
    async def scenario() -> list[bool]:
        manager = SessionManager(ThreadRecordingEnv, env_calls=policy)
        session, _ = await manager.open()
        await manager.reset(session)
        for _ in range(INLINE_AFTER + 3):
            await manager.step(session, 0)
        env = session.env
        assert isinstance(env, ThreadRecordingEnv)
        manager.shutdown()
        return [thread is threading.current_thread() for thread in env.threads]

    assert set(run(scenario())) == {policy == "inline"}


def test_an_unknown_env_call_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="env_calls must be one of"):
        SessionManager(CounterEnv, env_calls="fibers")


def test_a_creation_repeated_with_its_request_id_makes_one_session() -> None:
    async def scenario() -> None:
        manager = SessionManager(CounterEnv, max_sessions=5)
        # Both arrive while the first is still being made: one env, one session.
        (first, made), (second, again) = await asyncio.gather(
            manager.open(request_id="r-1"), manager.open(request_id="r-1")
        )
        assert (made, again) == (True, False)
        assert first is second
        assert len(manager) == 1
        other, made_other = await manager.open(request_id="r-2")
        assert made_other
        assert other is not first
        # Closed, its request id is forgotten: the same id makes a fresh session.
        await manager.close(first.id, CloseReason.CLIENT)
        fresh, made_fresh = await manager.open(request_id="r-1")
        assert made_fresh
        assert fresh.id != first.id
        manager.shutdown()

    run(scenario())


def test_steps_are_idempotent_by_index_and_refused_out_of_order() -> None:
    async def scenario() -> None:
        manager = SessionManager(CounterEnv)
        session, _ = await manager.open()
        await manager.reset(session, request_id="reset-1")
        first = await manager.step(session, 2, step_index=1)
        assert await manager.step(session, 2, step_index=1) is first  # a repeat: same result
        assert session.step_count == 1
        assert session.env is not None
        assert session.env.state() == {"count": 2}
        for wrong in (3, 7, -1):
            with pytest.raises(errors.Aborted) as caught:
                await manager.step(session, 2, step_index=wrong)
            assert caught.value.reason == "STEP_OUT_OF_ORDER"
            assert caught.value.metadata == {"step_index": str(wrong), "step_count": "1"}
        await manager.step(session, 1, step_index=2)
        # A reset repeated with its request id is answered again, not run again.
        episode = session.episode_id
        await manager.reset(session, request_id="reset-1")
        assert session.episode_id == episode
        assert session.step_count == 2
        await manager.reset(session, request_id="reset-2")
        assert session.episode_id != episode
        assert session.step_count == 0
        manager.shutdown()

    run(scenario())
