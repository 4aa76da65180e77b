"""One client core: the asyncio client and its blocking face, in threads, in event loops,
and when the stream under them is lost (a restarted server, a reaped session).

Real servers on loopback: in-process `ServerThread`s, and `openenv-grpc serve`
subprocesses where a server must die and come back on the same port.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from openenv_grpc import errors
from openenv_grpc.client import (
    AsyncEnvClient,
    AsyncStreamSession,
    EnvClient,
    RemoteEnv,
    RemoteVectorEnv,
    StreamSession,
)
from openenv_grpc.client.blocking import ClientLoop

from conftest import StartServer
from processes import Served
from serverutil import ServerThread
from testenvs import CounterEnv, GatedEnv

THREADS = 8
STEPS = 30


class FakeClock:
    """A monotonic clock the test moves by hand (the server reaps by it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LongCounter(CounterEnv):
    """A counter whose episodes do not end at 10."""

    limit = 10**9


@pytest.fixture
def counter(start_server: StartServer) -> ServerThread:
    return start_server(LongCounter)


def _counts(stream: StreamSession, start: int, action: int, steps: int) -> list[int]:
    """The counter a stream sees: reset to `start`, then `steps` steps of `action`."""
    seen = [int(stream.reset(options={"start": start}).observation[0])]
    for _ in range(steps):
        seen.append(int(stream.step(action).observation[0]))
    return seen


def _expected(start: int, action: int, steps: int) -> list[int]:
    return [start + action * k for k in range(steps + 1)]


def _in_threads(work: Callable[[int], Any], n: int = THREADS) -> list[Any]:
    """Run work(0..n-1) in n threads started together; their results (errors re-raised)."""
    results: list[Any] = [None] * n
    failures: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = work(k)
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if failures:
        raise failures[0]
    return results


# --- one core, two faces ---


def test_the_blocking_face_has_every_call_of_the_core_and_no_more() -> None:
    def calls(cls: type) -> set[str]:
        return {name for name in vars(cls) if not name.startswith("_")}

    options = {"address", "token", "timeout", "deadline_retries"}  # attributes of the core
    assert calls(EnvClient) - {"spec"} - options == calls(AsyncEnvClient) - {"spec"}
    core = calls(AsyncStreamSession) | {"session_id"}  # (an attribute of each instance)
    assert calls(StreamSession) == core - {"space", "num_envs"}
    for name in calls(AsyncEnvClient) - {"spec", "watch"}:
        assert inspect.iscoroutinefunction(getattr(AsyncEnvClient, name)), name
    # The blocking call has the core's signature and docstring.
    assert EnvClient.reset.__doc__ == AsyncEnvClient.reset.__doc__


def test_the_async_client_has_the_batched_calls(counter_server: ServerThread) -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        async with AsyncEnvClient(counter_server.address, timeout=30) as client:
            created = await client.reset_batch(3, options={"start": 4})
            stepped = await client.step_batch(created.session_id, np.array([0, 1, 2]))
            stream = await client.stream()
            async with stream:
                await stream.reset_batch(2, options={"start": 1})
                streamed = await stream.step_batch(np.array([2, 2]))
            await client.close_session(created.session_id)
            return (
                created.observations[:, 0].tolist(),
                stepped.observations[:, 0].tolist(),
                streamed.observations[:, 0].tolist(),
            )

    assert asyncio.run(scenario()) == ([4, 4, 4], [4, 5, 6], [3, 3])


# --- the blocking face: threads and event loops ---


def test_a_blocking_client_works_inside_a_thread(counter: ServerThread) -> None:
    def work(k: int) -> list[int]:
        env = RemoteEnv(counter.address, timeout=30)
        try:
            obs, _ = env.reset(options={"start": k})
            return [int(obs[0])] + [int(env.step(1)[0][0]) for _ in range(3)]
        finally:
            env.close()

    assert _in_threads(work, 1) == [[0, 1, 2, 3]]


def test_a_blocking_client_works_inside_a_running_event_loop(
    counter: ServerThread,
) -> None:
    """It drives its loop from a helper thread while the caller's loop waits (documented);
    the caller's loop goes on afterwards."""

    async def scenario() -> tuple[list[int], int, int]:
        env = RemoteEnv(counter.address, timeout=30)
        try:
            obs, _ = env.reset(options={"start": 2})
            seen = [int(obs[0])] + [int(env.step(2)[0][0]) for _ in range(3)]
        finally:
            env.close()
        with EnvClient(counter.address, timeout=30) as client:
            session = client.reset(options={"start": 7}).session_id
            unary = int(client.step(session, 1).observation[0])
        await asyncio.sleep(0)  # the caller's own loop still runs
        return seen, unary, len(asyncio.all_tasks())

    seen, unary, tasks = asyncio.run(scenario())
    assert seen == [2, 4, 6, 8]
    assert unary == 8
    assert tasks == 1  # nothing of the client was left on the caller's loop


def test_one_client_shared_by_many_threads_keeps_every_thread_to_its_own_replies(
    counter: ServerThread,
) -> None:
    with EnvClient(counter.address, timeout=30) as client:

        def work(k: int) -> tuple[list[int], list[int]]:
            action = k % 3  # 0, 1 or 2: never the action that breaks the counter
            with client.stream() as stream:
                streamed = _counts(stream, 100 * k, action, STEPS)
            session = client.reset(options={"start": 100 * k}).session_id
            unary = [int(client.step(session, action).observation[0]) for _ in range(5)]
            client.close_session(session)
            return streamed, unary

        results = _in_threads(work)
    for k, (streamed, unary) in enumerate(results):
        action = k % 3
        assert streamed == _expected(100 * k, action, STEPS)
        assert unary == _expected(100 * k, action, 5)[1:]


def test_one_client_per_thread_each_on_its_own(counter: ServerThread) -> None:
    def work(k: int) -> list[int]:
        with EnvClient(counter.address, timeout=30) as client, client.stream() as stream:
            return _counts(stream, 1000 + k, 1 + k % 2, STEPS)

    results = _in_threads(work)
    assert results == [_expected(1000 + k, 1 + k % 2, STEPS) for k in range(THREADS)]


def test_calls_on_one_stream_from_many_threads_and_tasks_are_applied_in_turn(
    counter: ServerThread,
) -> None:
    """A stream is one session: concurrent steps on it wait their turn, each its own step."""
    with EnvClient(counter.address, timeout=30) as client, client.stream() as shared:
        shared.reset()
        replies = _in_threads(lambda k: [shared.step(1) for _ in range(5)])
        indices = sorted(reply.step_index for per_thread in replies for reply in per_thread)
        assert indices == list(range(1, 5 * THREADS + 1))
        assert shared.state().state == {"count": 5 * THREADS}

    async def tasks() -> tuple[list[int], Any]:
        async with (
            AsyncEnvClient(counter.address, timeout=30) as client,
            await client.stream() as stream,
        ):
            await stream.reset()
            steps = await asyncio.gather(*(stream.step(2) for _ in range(10)))
            return sorted(step.step_index for step in steps), (await stream.state()).state

    assert asyncio.run(tasks()) == (list(range(1, 11)), {"count": 20})


def test_a_thread_whose_call_waits_long_holds_up_no_other_thread(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    """The thread driving the loop waits on a step the env holds; meanwhile other threads'
    calls on the same loop complete, and the held step completes once the env lets it."""
    gated = start_server(GatedEnv)
    counter = start_server(LongCounter)
    with EnvClient(gated.address, timeout=30) as slow, EnvClient(counter.address) as fast:
        held = slow.stream()
        held.reset()
        outcome: list[int] = []
        waiter = threading.Thread(target=lambda: outcome.append(int(held.step(1).reward)))
        waiter.start()
        assert gate.entered.wait(30)  # the env is inside the held step
        others = _in_threads(lambda k: _counts(fast.stream(), k, 1, 5), 4)
        assert others == [_expected(k, 1, 5) for k in range(4)]
        assert waiter.is_alive()
        assert not outcome
        gate.gate.set()
        waiter.join(30)
        held.close()
    assert outcome == [1]


def test_a_blocking_step_interrupted_while_it_waits_still_gets_its_answer(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    """A blocking call runs its coroutine without a task. A KeyboardInterrupt while it waits
    (here raised by a loop callback, as a signal handler's would be) reaches the caller, and
    the rest of the call goes on as a task: the step is applied once, and the next call on
    the stream reads its own answer, not the interrupted one's."""
    gated = start_server(GatedEnv)
    with EnvClient(gated.address, timeout=30) as client, client.stream() as held:
        held.reset()
        loop = held._loop._loop

        def interrupt() -> None:
            raise KeyboardInterrupt

        def when_held() -> None:
            assert gate.entered.wait(30)
            loop.call_soon_threadsafe(interrupt)

        interrupter = threading.Thread(target=when_held)
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            held.step(1)
        interrupter.join(30)
        gate.gate.set()
        after = held.step(1)
        assert after.step_index == 2
        assert held.state().state == {"count": 2}


def test_a_private_loop_serves_a_caller_that_is_not_its_own() -> None:
    loop = ClientLoop()

    async def inside() -> int:
        return 7

    assert loop.run(inside()) == 7

    async def nested() -> int:
        return loop.run(inside())  # a blocking call from a coroutine on the loop itself

    with pytest.raises(RuntimeError, match="inside the client's own loop"):
        loop.run(nested())


# --- a lost stream is reported once and reopened by the next reset ---


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def restartable() -> Iterator[Callable[[], Served]]:
    """`serve CartPole` on one fixed loopback port, started again after each kill."""
    port = _free_port()
    started: list[Served] = []

    def start() -> Served:
        server = Served("gymnasium:CartPole-v1", "--port", str(port))
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def test_a_stream_whose_first_request_is_not_answered_in_time_is_lost_and_opens_anew(
    restartable: Callable[[], Served],
) -> None:
    """A stopped server (SIGSTOP: its port still takes the connection) never answers a new
    stream's first request: after the client's timeout the call raises DEADLINE_EXCEEDED
    and the stream is lost; once the server runs again, the next reset opens a new one."""
    server = restartable()
    with EnvClient(server.address, timeout=1) as client, client.stream() as stream:
        server.proc.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(errors.DeadlineExceeded, match="first request within 1 s"):
                stream.reset(seed=0)
            assert stream.lost
        finally:
            server.proc.send_signal(signal.SIGCONT)
        assert stream.reset(seed=0).observation.shape == (4,)
        assert stream.step(0).step_index == 1


def test_a_remote_env_whose_server_restarted_truncates_the_episode_and_resets_anew(
    restartable: Callable[[], Served],
) -> None:
    server = restartable()
    env = RemoteEnv(server.address, timeout=30)
    try:
        env.reset(seed=1)
        last = env.step(0)[0]
        first = env.session_id
        server.kill()
        obs, reward, terminated, truncated, info = env.step(1)
        assert (reward, terminated, truncated) == (0.0, False, True)
        assert np.array_equal(obs, last)
        assert info["error"]["reason"] == "UNAVAILABLE"
        with pytest.raises(gym.error.ResetNeeded, match="stream to the server was lost"):
            env.step(1)
        restarted = restartable()
        assert restarted.address == server.address
        obs, _ = env.reset(seed=1)  # waits for the server to be reachable again
        assert env.session_id
        assert env.session_id != first
        assert env.observation_space.contains(obs)
        assert env.step(1)[0].shape == (4,)
    finally:
        env.close()


def test_a_remote_env_told_to_raise_raises_a_reaped_session_once_and_resets_anew(
    start_server: StartServer,
) -> None:
    clock = FakeClock()
    server = start_server(CounterEnv, session_ttl=30, clock=clock)
    env = RemoteEnv(server.address, timeout=30, on_lost="raise")
    try:
        env.reset(options={"start": 5})
        env.step(1)
        first = env.session_id
        clock.now += 31
        assert server.run(server.server.sessions.reap_expired()) == [first]
        with pytest.raises(errors.NotFound, match="idle for longer than the session TTL") as reaped:
            env.step(1)
        assert reaped.value.reason == errors.Reason.SESSION_EXPIRED
        with pytest.raises(gym.error.ResetNeeded):
            env.step(1)
        obs, _ = env.reset(options={"start": 2})
        assert env.session_id != first
        assert int(obs[0]) == 2
        assert int(env.step(1)[0][0]) == 3
    finally:
        env.close()


def test_a_remote_vector_env_whose_session_was_reaped_truncates_its_episodes_and_goes_on(
    start_server: StartServer,
) -> None:
    """The step that meets the lost session ends every episode in it, truncated, the
    reason in info; the next step makes the sub-envs anew (an autoreset step)."""
    clock = FakeClock()
    server = start_server(CounterEnv, session_ttl=30, clock=clock)
    envs = RemoteVectorEnv(server.address, num_envs=3, timeout=30)
    try:
        envs.reset(options={"start": 1})
        last = envs.step(np.array([1, 1, 1]))[0]
        (first,) = envs.session_ids
        clock.now += 31
        assert server.run(server.server.sessions.reap_expired()) == [first]
        obs, rewards, terminations, truncations, infos = envs.step(np.array([1, 1, 1]))
        assert truncations.tolist() == [True] * 3
        assert terminations.tolist() == [False] * 3
        assert rewards.tolist() == [0.0] * 3
        assert np.array_equal(obs, last)  # their last observations
        assert infos["_error"].tolist() == [True] * 3
        assert infos["error"]["reason"].tolist() == [errors.Reason.SESSION_EXPIRED] * 3
        assert envs.session_ids == [""]
        obs, rewards, terminations, truncations, _ = envs.step(np.array([1, 1, 1]))
        (second,) = envs.session_ids
        assert second not in ("", first)
        assert obs[:, 0].tolist() == [0, 0, 0]  # first observations, no option given
        assert not terminations.any()
        assert not truncations.any()
        assert rewards.tolist() == [0.0] * 3
        obs, _ = envs.reset(options={"start": 4})
        assert envs.session_ids == [second]
        assert obs[:, 0].tolist() == [4, 4, 4]
        assert envs.step(np.array([0, 1, 2]))[0][:, 0].tolist() == [4, 5, 6]
    finally:
        envs.close()


def test_a_remote_vector_env_told_to_raise_raises_the_loss_once_and_resets_anew(
    start_server: StartServer,
) -> None:
    clock = FakeClock()
    server = start_server(CounterEnv, session_ttl=30, clock=clock)
    envs = RemoteVectorEnv(server.address, num_envs=3, timeout=30, on_lost="raise")
    try:
        envs.reset(options={"start": 1})
        (first,) = envs.session_ids
        clock.now += 31
        assert server.run(server.server.sessions.reap_expired()) == [first]
        with pytest.raises(errors.NotFound) as reaped:
            envs.step(np.array([1, 1, 1]))
        assert reaped.value.reason == errors.Reason.SESSION_EXPIRED
        obs, _ = envs.reset(options={"start": 4})
        assert envs.session_ids[0] not in ("", first)
        assert obs[:, 0].tolist() == [4, 4, 4]
    finally:
        envs.close()


def test_a_call_cancelled_on_an_async_stream_loses_the_stream_not_the_client(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    """Its answer would arrive for the next request: the stream is given up (reported
    once) and the next reset opens a new one."""
    server = start_server(GatedEnv)

    async def scenario() -> tuple[str, int]:
        async with AsyncEnvClient(server.address, timeout=30) as client:
            stream = await client.stream()
            first = (await stream.reset()).session_id
            step = asyncio.ensure_future(stream.step(1))
            assert await asyncio.to_thread(gate.entered.wait, 30)
            step.cancel()
            with pytest.raises(asyncio.CancelledError):
                await step
            assert stream.lost
            with pytest.raises(errors.Unavailable, match="cancelled"):
                await stream.step(1)
            gate.gate.set()
            second = (await stream.reset()).session_id
            reward = int((await stream.step(2)).reward)
            await stream.close()
            assert second != first
            return second, reward

    second, reward = asyncio.run(scenario())
    assert second
    assert reward == 2
