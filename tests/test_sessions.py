"""The session table on its own: limits, TTL reaping on a controlled clock, env lifecycle."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_grpc.sessions import SessionManager

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
        idle, busy_one = await manager.open(), await manager.open()
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
        session = await manager.open()
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
        with pytest.raises(errors.NotFound, match="reaped after being idle"):
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
