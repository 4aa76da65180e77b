"""StepStream: one stream is one session; errors come back in-band and the stream goes on."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Iterator

import grpc
import numpy as np
import pytest

from openenv_grpc import errors, status
from openenv_grpc.client import AsyncEnvClient, EnvClient
from openenv_grpc.codec import encode_value
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from serverutil import ServerThread


@pytest.fixture
def client(counter_server: ServerThread) -> Iterator[EnvClient]:
    with EnvClient(counter_server.address, timeout=30) as client:
        yield client


def _open_sessions(server: ServerThread) -> int:
    return server.call(lambda: len(server.server.sessions))


def test_a_stream_resets_steps_and_reads_state(client: EnvClient) -> None:
    with client.stream() as stream:
        reset = stream.reset(options={"start": 1})
        assert stream.session_id == reset.session_id
        np.testing.assert_array_equal(reset.observation, [1])
        step = stream.step(2)
        assert (step.reward, step.step_index, step.info["count"]) == (2.0, 1, 3)
        assert step.reward_components == {"base": 2.0, "bonus": 0.5}
        state = stream.state()
        assert (state.session_id, state.step_count, state.state) == (
            reset.session_id,
            1,
            {"count": 3},
        )
        # The stream's session is an ordinary session, visible to unary calls.
        assert client.state(reset.session_id).step_count == 1


def test_errors_come_back_in_band_and_the_stream_goes_on(client: EnvClient) -> None:
    with client.stream() as stream:
        with pytest.raises(
            errors.FailedPrecondition, match="send a reset with new_session, or attach first"
        ):
            stream.step(1)
        stream.reset()
        with pytest.raises(errors.InvalidArgument, match="Discrete"):
            stream.step(9)
        with pytest.raises(errors.Internal, match="RuntimeError"):
            stream.step(3)
        with pytest.raises(errors.FailedPrecondition, match="Reset"):
            stream.step(1)
        stream.reset()
        assert stream.step(1).step_index == 1


def test_a_failed_first_reset_on_a_stream_leaves_no_session(
    client: EnvClient, counter_server: ServerThread
) -> None:
    with client.stream() as stream:
        with pytest.raises(errors.InvalidArgument, match="refused on purpose"):
            stream.reset(task_id="refuse")
        assert _open_sessions(counter_server) == 0
        assert stream.reset().session_id
        assert _open_sessions(counter_server) == 1


def test_closing_the_stream_closes_the_session_it_created(
    client: EnvClient, counter_server: ServerThread
) -> None:
    stream = client.stream()
    session = stream.reset().session_id
    assert _open_sessions(counter_server) == 1
    stream.close()
    assert _open_sessions(counter_server) == 0
    with pytest.raises(errors.NotFound):
        client.state(session)


def test_attach_binds_a_stream_to_a_unary_session_and_leaves_it_open(
    client: EnvClient, counter_server: ServerThread
) -> None:
    session = client.reset(options={"start": 5}).session_id
    client.step(session, 1)
    with client.stream() as stream:
        attached = stream.attach(session)
        assert (attached.session_id, attached.step_count, attached.state) == (
            session,
            1,
            {"count": 6},
        )
        assert stream.step(2).info["count"] == 8
        with pytest.raises(errors.FailedPrecondition, match="only as its first request"):
            stream.attach(session)
    assert client.state(session).step_count == 2  # still open after the stream ended
    assert _open_sessions(counter_server) == 1


def test_attach_to_an_unknown_session_is_not_found_in_band(client: EnvClient) -> None:
    with client.stream() as stream:
        with pytest.raises(errors.NotFound):
            stream.attach("missing")
        assert stream.reset().session_id  # the stream is still usable


def test_a_stream_whose_session_is_closed_elsewhere_ends_with_not_found(
    client: EnvClient,
) -> None:
    stream = client.stream()
    session = stream.reset().session_id
    client.close_session(session)
    with pytest.raises(errors.NotFound):
        stream.step(1)
    with pytest.raises(errors.Unavailable, match="closed"):
        stream.step(1)


def test_pipelined_requests_are_answered_in_order_with_their_seq(
    counter_server: ServerThread,
) -> None:
    requests: queue.SimpleQueue[pb.StepStreamRequest | None] = queue.SimpleQueue()
    requests.put(
        pb.StepStreamRequest(seq=100, reset_request=pb.ResetRequest(new_session=pb.NewSession()))
    )
    for seq in range(101, 109):
        step = pb.StepRequest()
        encode_value(1, out=step.action)
        requests.put(pb.StepStreamRequest(seq=seq, step_request=step))
    requests.put(pb.StepStreamRequest(seq=109))  # sets no request: an in-band error
    requests.put(pb.StepStreamRequest(seq=110, state_request=pb.StateRequest()))
    requests.put(None)
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        responses = list(stub.StepStream(iter(requests.get, None)))
    assert [r.seq for r in responses] == list(range(100, 111))
    assert [r.WhichOneof("response") for r in responses] == (
        ["reset_response"] + ["step_response"] * 8 + ["error", "state_response"]
    )
    assert [r.step_response.step_index for r in responses[1:9]] == list(range(1, 9))
    assert responses[9].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert status.from_proto(responses[9].error).reason == "INVALID_REQUEST"
    assert responses[10].state_response.step_count == 8


def test_async_client_streams_and_unary_calls(counter_server: ServerThread) -> None:
    async def scenario() -> None:
        async with AsyncEnvClient(counter_server.address, timeout=30) as client:
            spec = await client.describe()
            assert spec.env_name == "Counter"
            async with await client.stream() as stream:
                reset = await stream.reset(options={"start": 2})
                step = await stream.step(1)
                assert step.info["count"] == 3
                with pytest.raises(errors.InvalidArgument):
                    await stream.step(11)
                assert (await stream.state()).step_count == 1
                assert (await client.state(reset.session_id)).state == {"count": 3}
            unary = await client.reset()
            assert (await client.step(unary.session_id, 2)).reward == 2.0
            await client.close_session(unary.session_id)
            with pytest.raises(errors.NotFound):
                await client.state(unary.session_id)

    asyncio.run(scenario())


def test_many_async_streams_on_one_channel_keep_isolated_state(
    counter_server: ServerThread,
) -> None:
    async def drive(client: AsyncEnvClient, action: int) -> list[int]:
        async with await client.stream() as stream:
            await stream.reset()
            return [int((await stream.step(action)).observation[0]) for _ in range(3)]

    async def scenario() -> list[list[int]]:
        async with AsyncEnvClient(counter_server.address, timeout=30) as client:
            return await asyncio.gather(*(drive(client, i % 3) for i in range(50)))

    results = asyncio.run(scenario())
    for index, counts in enumerate(results):
        step = index % 3
        assert counts == [step, 2 * step, 3 * step]
    assert _open_sessions(counter_server) == 0
