"""Describe's load (since 1.5): what a server holds now, read fresh on every call, so a
client spreading sessions over servers can pick one with room; real servers on loopback."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from openenv_grpc import errors
from openenv_grpc.client import AsyncEnvClient, ServerLoad
from openenv_grpc.errors import Reason
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from conftest import StartServer
from serverutil import ServerThread
from testenvs import CounterEnv, GatedEnv


def test_load_counts_sessions_and_sub_envs_and_forgets_closed_ones(
    start_server: StartServer,
) -> None:
    server = start_server(CounterEnv, max_sessions=5, max_envs=10)

    async def scenario() -> list[ServerLoad]:
        loads = []
        async with AsyncEnvClient(server.address, timeout=30) as client:
            spec, load = await client.load()
            loads.append(load)
            single = (await client.reset()).session_id
            loads.append((await client.load())[1])
            batch = (await client.reset_batch(3)).session_id
            loads.append((await client.load())[1])
            async with await client.stream() as stream:
                await stream.reset_batch(2)
                loads.append((await client.load())[1])
            loads.append((await client.load())[1])  # the stream's session ended with it
            await client.close_session(batch)
            loads.append((await client.load())[1])
            await client.close_session(single)
            last, load = await client.load()
            loads.append(load)
            assert await client.spec() is last  # each load refreshes the kept spec
            assert last == spec
        assert (spec.capabilities.max_sessions, spec.capabilities.max_envs) == (5, 10)
        return loads

    loads = asyncio.run(scenario())
    assert [(load.sessions, load.batched_envs) for load in loads] == [
        (0, 0),
        (1, 0),
        (2, 3),
        (3, 5),
        (2, 3),
        (1, 0),
        (0, 0),
    ]
    assert not any(load.draining or load.saturated for load in loads)


def test_describe_fills_in_the_load_of_each_call_without_changing_the_rest(
    counter_server: ServerThread,
) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        before = stub.Describe(pb.DescribeRequest())
        stub.Reset(pb.ResetRequest(new_session=pb.NewSession()))
        after = stub.Describe(pb.DescribeRequest())
    assert before.HasField("load")
    assert (before.load.sessions, after.load.sessions) == (0, 1)
    after.ClearField("load")
    before.ClearField("load")
    assert after == before


def test_describe_answers_during_a_drain_and_says_draining(start_server: StartServer) -> None:
    server = start_server(CounterEnv, drain_seconds=60)

    async def begin_drain() -> asyncio.Task[None]:
        drain = asyncio.create_task(server.server.drain())
        await asyncio.sleep(0)  # its first step, which refuses new sessions from then on
        return drain

    async def until(drain: asyncio.Task[None]) -> None:
        await drain

    async def scenario() -> tuple[ServerLoad, ServerLoad]:
        async with AsyncEnvClient(server.address, timeout=30) as client:
            session = (await client.reset()).session_id
            _, before = await client.load()
            drain = server.run(begin_drain())
            _, during = await client.load()
            with pytest.raises(errors.Unavailable) as refused:
                await client.reset()
            assert refused.value.reason == Reason.DRAINING
            await client.step(session, 1)  # an open session goes on
            await client.close_session(session)  # the last one ends: so does the drain
            await asyncio.to_thread(server.run, until(drain))
        return before, during

    before, during = asyncio.run(scenario())
    assert (before.sessions, before.draining) == (1, False)
    assert (during.sessions, during.draining, during.saturated) == (1, True, False)


def test_load_says_saturated_when_too_many_env_calls_are_stuck(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    server = start_server(gate, step_timeout=0.2, max_abandoned=1)

    async def scenario() -> tuple[ServerLoad, ServerLoad]:
        async with AsyncEnvClient(server.address, timeout=30) as client:
            session = (await client.reset()).session_id
            _, before = await client.load()
            with pytest.raises(errors.EnvError) as stuck:
                await client.step(session, 1)  # the gate stays shut: written off
            assert stuck.value.reason == Reason.ENV_TIMEOUT
            _, after = await client.load()
        return before, after

    before, after = asyncio.run(scenario())
    assert (before.sessions, before.saturated) == (1, False)
    # The stuck step's session is closed; the server takes no new ones.
    assert (after.sessions, after.saturated, after.draining) == (0, True, False)


def test_an_older_server_sends_no_load_and_reads_as_all_zero() -> None:
    assert ServerLoad.from_proto(pb.DescribeResponse().load) == ServerLoad(0, 0, False, False)
    assert ServerLoad.from_proto(
        pb.ServerLoad(sessions=2, batched_envs=8, draining=True, saturated=True)
    ) == ServerLoad(2, 8, True, True)


def test_a_stream_left_idle_when_its_drain_is_over_ends_with_draining(
    start_server: StartServer,
) -> None:
    """Its client learns why its session ended (and goes elsewhere), not only that the
    connection is gone."""
    server = start_server(CounterEnv, drain_seconds=0)

    async def drain() -> None:
        await server.server.drain()

    async def scenario() -> errors.EnvError:
        async with AsyncEnvClient(server.address, timeout=30) as client:
            stream = await client.stream()
            await stream.reset()
            # The stream sends nothing while the server drains and stops; the client's
            # loop runs all along (awaiting the drain), so the status reaches it.
            await asyncio.to_thread(server.run, drain())
            with pytest.raises(errors.EnvError) as ended:
                await stream.step(1)
            assert stream.lost
            return ended.value

    error = asyncio.run(scenario())
    assert (error.code, error.reason) == (errors.Code.UNAVAILABLE, Reason.DRAINING)
    assert "ended its drain" in error.message
