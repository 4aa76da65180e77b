"""Every unary RPC and every error a client can cause, against a real server on loopback."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from openenv_grpc import codec, errors
from openenv_grpc.client import EnvClient
from openenv_grpc.errors import Code
from openenv_grpc.version import PROTOCOL_HEADER, PROTOCOL_VERSION
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from conftest import StartServer
from serverutil import ServerThread
from testenvs import CounterEnv, GatedEnv


@pytest.fixture
def client(counter_server: ServerThread) -> Iterator[EnvClient]:
    with EnvClient(counter_server.address, timeout=30) as client:
        yield client


def test_describe_reports_the_env_spec_and_server_limits(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_sessions=7, session_ttl=42.5, max_message_bytes=2**20)
    with EnvClient(server.address) as client:
        spec = client.describe()
    assert spec.env_name == "Counter"
    assert spec.env_version == "1.2"
    assert spec.protocol_version == PROTOCOL_VERSION
    assert spec.observation_space == CounterEnv.observation_space
    assert spec.action_space == CounterEnv.action_space
    assert spec.reward_range == (0.0, 3.0)
    assert spec.metadata == {"render_modes": [], "author": "tests"}
    assert spec.capabilities.max_sessions == 7
    assert spec.capabilities.session_ttl_seconds == 42.5
    assert spec.capabilities.max_message_bytes == 2**20
    assert spec.capabilities.batched is True
    assert spec.capabilities.max_num_envs == 1024
    assert set(spec.capabilities.autoreset_modes) == set(AutoresetMode)
    assert spec.server_version.startswith("openenv-grpc ")


def test_reset_creates_a_session_and_passes_seed_options_and_task(client: EnvClient) -> None:
    reply = client.reset(seed=7, options={"start": 4}, task_id="easy")
    assert len(reply.session_id) == 32
    assert reply.episode_id
    np.testing.assert_array_equal(reply.observation, [4])
    assert reply.observation.dtype == np.int64
    assert reply.info == {"seed": 7, "task_id": "easy", "options": {"start": 4}}


def test_reset_of_an_existing_session_starts_a_new_episode_in_it(client: EnvClient) -> None:
    first = client.reset()
    client.step(first.session_id, 2)
    again = client.reset(session_id=first.session_id)
    assert again.session_id == first.session_id
    assert again.episode_id != first.episode_id
    state = client.state(first.session_id)
    assert (state.step_count, state.episode_id, state.state) == (0, again.episode_id, {"count": 0})


def test_step_returns_every_field_and_never_drops_info(client: EnvClient) -> None:
    session = client.reset().session_id
    reply = client.step(session, 2)
    np.testing.assert_array_equal(reply.observation, [2])
    assert reply.reward == 2.0
    assert (reply.terminated, reply.truncated, reply.step_index) == (False, False, 1)
    assert reply.info == {"count": 2, "nested": {"list": [1, "two", None], "flag": True}}
    assert reply.reward_components == {"base": 2.0, "bonus": 0.5}
    assert list(reply.reward_components) == ["base", "bonus"]  # sorted, the same every step


def test_state_reports_episode_progress_and_env_state(client: EnvClient) -> None:
    reset = client.reset()
    for _ in range(3):
        client.step(reset.session_id, 1)
    state = client.state(reset.session_id)
    assert state.session_id == reset.session_id
    assert state.episode_id == reset.episode_id
    assert state.step_count == 3
    assert state.state == {"count": 3}
    assert state.episode_done is False


def test_close_session_frees_it(client: EnvClient, counter_server: ServerThread) -> None:
    session = client.reset().session_id
    assert counter_server.call(lambda: len(counter_server.server.sessions)) == 1
    client.close_session(session)
    assert counter_server.call(lambda: len(counter_server.server.sessions)) == 0
    with pytest.raises(errors.NotFound):
        client.step(session, 1)
    with pytest.raises(errors.NotFound):
        client.close_session(session)


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.step("no-such-session", 1),
        lambda client: client.state("no-such-session"),
        lambda client: client.close_session("no-such-session"),
        lambda client: client.reset(session_id="no-such-session"),
    ],
    ids=["step", "state", "close_session", "reset"],
)
def test_unknown_session_is_not_found(client: EnvClient, call: Callable[[EnvClient], Any]) -> None:
    with pytest.raises(errors.NotFound) as caught:
        call(client)
    assert caught.value.code == Code.NOT_FOUND
    assert "no-such-session" in caught.value.message
    assert caught.value.reason == "SESSION_NOT_FOUND"
    assert caught.value.metadata == {"session_id": "no-such-session"}
    assert "start a new session" in caught.value.message


def test_action_outside_the_space_is_invalid_argument_naming_the_space(client: EnvClient) -> None:
    session = client.reset().session_id
    for bad in (7, -1, "left", np.zeros(3, dtype=np.float32)):
        with pytest.raises(errors.InvalidArgument) as caught:
            client.step(session, bad)
        assert "Discrete(4)" in caught.value.message
    assert client.step(session, 1).step_index == 1  # the session is unharmed


def test_step_without_an_action_is_invalid_argument(counter_server: ServerThread) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = stub.Reset(pb.ResetRequest(new_session=pb.NewSession())).session_id
        with pytest.raises(grpc.RpcError) as caught:
            stub.Step(pb.StepRequest(session_id=session))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "action" in caught.value.details()


def test_malformed_tensor_is_invalid_argument(counter_server: ServerThread) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = stub.Reset(pb.ResetRequest(new_session=pb.NewSession())).session_id
        request = pb.StepRequest(session_id=session)
        request.action.tensor.dtype = 5  # int64
        request.action.tensor.data = b"\x01\x00"  # 2 bytes, a scalar needs 8
        with pytest.raises(grpc.RpcError) as caught:
            stub.Step(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "needs 8 bytes" in caught.value.details()


def test_step_after_the_episode_ended_is_failed_precondition(client: EnvClient) -> None:
    session = client.reset().session_id
    replies = [client.step(session, 2) for _ in range(5)]  # the counter reaches its limit, 10
    assert [r.terminated for r in replies] == [False] * 4 + [True]
    with pytest.raises(errors.FailedPrecondition) as caught:
        client.step(session, 1)
    assert "terminated" in caught.value.message
    assert "Reset" in caught.value.message
    client.reset(session_id=session)
    assert client.step(session, 1).step_index == 1


def test_env_exception_is_internal_and_harms_no_other_session(client: EnvClient) -> None:
    broken, other = client.reset().session_id, client.reset().session_id
    client.step(other, 2)
    with pytest.raises(errors.Internal) as caught:
        client.step(broken, 3)
    assert caught.value.code == Code.INTERNAL
    assert "RuntimeError" in caught.value.message
    assert "action 3 breaks the counter" in caught.value.message
    # The broken session stays open but its episode is over until a Reset.
    assert client.state(broken).episode_done is True
    with pytest.raises(errors.FailedPrecondition, match="error in step"):
        client.step(broken, 1)
    client.reset(session_id=broken)
    assert client.step(broken, 1).step_index == 1
    # The other session never noticed.
    assert client.step(other, 1).info["count"] == 3


def test_a_result_the_server_cannot_send_is_internal_and_ends_the_episode(
    client: EnvClient,
) -> None:
    session = client.reset(options={"leak": True}).session_id
    with pytest.raises(errors.Internal, match=r"cannot encode a builtins\.object"):
        client.step(session, 1)
    # The env did step; its result is lost, so the episode cannot go on silently.
    state = client.state(session)
    assert (state.step_count, state.episode_done, state.state) == (1, True, {"count": 1})
    with pytest.raises(errors.FailedPrecondition, match="cannot send"):
        client.step(session, 1)
    client.reset(session_id=session)
    assert client.step(session, 1).step_index == 1


def test_env_raising_a_precise_error_keeps_its_status(client: EnvClient) -> None:
    with pytest.raises(errors.InvalidArgument, match="refused on purpose"):
        client.reset(task_id="refuse")


def test_failed_first_reset_leaves_no_session(
    client: EnvClient, counter_server: ServerThread
) -> None:
    with pytest.raises(errors.InvalidArgument):
        client.reset(task_id="refuse")
    assert counter_server.call(lambda: len(counter_server.server.sessions)) == 0


def test_session_limit_is_resource_exhausted(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_sessions=3)
    with EnvClient(server.address) as client:
        sessions = [client.reset().session_id for _ in range(3)]
        with pytest.raises(errors.ResourceExhausted) as caught:
            client.reset()
        assert "maximum of 3 sessions" in caught.value.message
        client.step(sessions[0], 1)  # existing sessions keep working
        client.close_session(sessions[0])
        assert client.reset().session_id not in sessions


def test_concurrent_call_on_one_session_is_failed_precondition(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    server = start_server(gate)
    with EnvClient(server.address) as client:
        session = client.reset().session_id
        other = client.reset().session_id
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            first = pool.submit(client.step, session, 1)
            assert gate.entered.wait(30)
            with pytest.raises(errors.FailedPrecondition, match="one call at a time") as busy:
                client.state(session)
            assert busy.value.reason == "SESSION_BUSY"
            with pytest.raises(errors.FailedPrecondition) as again:
                client.reset(session_id=session)
            assert again.value.reason == "SESSION_BUSY"
            # Another session is not blocked by the slow one's env.
            gate.gate.set()
            assert first.result(30).step_index == 1
        assert client.step(other, 2).step_index == 1


def test_a_step_retried_after_its_deadline_is_applied_once(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    server = start_server(gate)
    with EnvClient(server.address, timeout=30) as client:
        session = client.reset().session_id
        client.timeout = 0.5
        with pytest.raises(errors.DeadlineExceeded):
            client.step(session, 1)
        client.timeout = 30
        assert gate.entered.is_set()
        # The env is still inside step: other calls are refused, but the same step
        # again (same step index) joins the one that is running.
        with pytest.raises(errors.FailedPrecondition, match="one call at a time"):
            client.state(session)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            retried = pool.submit(client.step, session, 1)
            gate.gate.set()
            first = retried.result(30)
        assert first.step_index == 1
        # Once more by hand, after it completed: the same answer, from the server's memory.
        with grpc.insecure_channel(server.address) as channel:
            request = pb.StepRequest(session_id=session, step_index=1)
            request.action.int_value = 1
            repeat = pb_grpc.EnvServiceStub(channel).Step(request)
        assert repeat.step_index == 1
        np.testing.assert_array_equal(codec.decode_value(repeat.observation), first.observation)
        assert (repeat.reward, repeat.terminated) == (first.reward, first.terminated)
        state = client.state(session)
        assert state.step_count == 1  # applied once, answered three times
        assert state.state == {"count": 1}


def _wait_until_free(client: EnvClient, session: str):  # type: ignore[no-untyped-def]
    for _ in range(3000):
        try:
            return client.state(session)
        except errors.FailedPrecondition:
            continue
    raise AssertionError("session stayed busy")


def test_fifty_sessions_step_concurrently_with_isolated_state(client: EnvClient) -> None:
    sessions = [client.reset().session_id for _ in range(50)]

    def drive(index: int) -> list[int]:
        session = sessions[index]
        action = index % 3  # 0, 1 or 2: each session counts at its own pace
        return [int(client.step(session, action).observation[0]) for _ in range(3)]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(drive, range(50)))
    for index, counts in enumerate(results):
        step = index % 3
        assert counts == [step, 2 * step, 3 * step], index
    for index, session in enumerate(sessions):
        assert client.state(session).state == {"count": 3 * (index % 3)}


def test_messages_over_the_size_limit_are_refused_and_harm_nothing(
    start_server: StartServer,
) -> None:
    server = start_server(CounterEnv, max_message_bytes=64 * 1024)
    with EnvClient(server.address) as client:
        session = client.reset().session_id
        with pytest.raises(errors.ResourceExhausted):
            client.step(session, np.zeros(100_000, dtype=np.uint8))
        assert client.step(session, 1).step_index == 1


def test_a_client_of_another_protocol_major_is_refused(counter_server: ServerThread) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Reset(pb.ResetRequest(), metadata=((PROTOCOL_HEADER, "2.0"),))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "upgrade" in caught.value.details()
        minor = stub.Describe(pb.DescribeRequest(), metadata=((PROTOCOL_HEADER, "1.9"),))
        assert minor.env_name == "Counter"
