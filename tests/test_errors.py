"""The error model on the wire: every reason, the same on unary calls and on streams.

Each case provokes one fault twice against a real server, once through a
unary call (the reason read from the `grpc-status-details-bin` trailer) and
once on a StepStream (the reason read from the in-band google.rpc.Status),
with raw stubs so that nothing of the Python client sits in between.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2, status_pb2

from openenv_grpc import errors, status
from openenv_grpc.codec import encode_value
from openenv_grpc.tensors import encode_tensor
from openenv_grpc.version import PROTOCOL_HEADER, PROTOCOL_VERSION
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import errors_pb2

from conftest import StartServer
from serverutil import ServerThread
from testenvs import CounterEnv, GatedEnv

Stub = pb_grpc.EnvServiceStub


@dataclass(frozen=True)
class Failure:
    """What a failed request carried: its code and its ErrorInfo and RetryInfo."""

    code: int
    reason: str
    metadata: dict[str, str]
    retry_seconds: float | None
    message: str


def _failure(message: status_pb2.Status) -> Failure:
    reason, metadata, retry = "", {}, None
    for detail in message.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "openenv.v1"
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            delay = error_details_pb2.RetryInfo()
            detail.Unpack(delay)
            retry = delay.retry_delay.ToNanoseconds() / 1e9
    return Failure(message.code, reason, metadata, retry, message.message)


def unary_failure(call: Callable[[], Any]) -> Failure:
    """Make a unary call that must fail; its status as the trailer details tell it."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error: Any = caught.value
    trailer = dict(error.trailing_metadata() or ())[status.DETAILS_KEY]
    details = status_pb2.Status.FromString(trailer)
    assert details.code == error.code().value[0]  # the details agree with the status
    assert details.message == error.details()
    return _failure(details)


def stream_answers(stub: Stub, *requests: pb.StepStreamRequest) -> list[pb.StepStreamResponse]:
    """Send requests on one new stream (seq 1, 2, ...) and read every answer."""
    for seq, request in enumerate(requests, start=1):
        request.seq = seq
    return list(stub.StepStream(iter(requests)))


def stream_failure(stub: Stub, *requests: pb.StepStreamRequest) -> Failure:
    """The in-band error answering the last request; the stream went on to answer it."""
    answers = stream_answers(stub, *requests)
    assert len(answers) == len(requests)
    assert answers[-1].WhichOneof("response") == "error"
    return _failure(answers[-1].error)


def new_reset(seed: int = 0, **fields: Any) -> pb.ResetRequest:
    return pb.ResetRequest(new_session=pb.NewSession(request_id=""), seed=seed, **fields)


def step(action: Any, session_id: str = "", step_index: int = 0) -> pb.StepRequest:
    request = pb.StepRequest(session_id=session_id, step_index=step_index)
    encode_value(action, out=request.action)
    return request


def on_stream(**kind: Any) -> pb.StepStreamRequest:
    return pb.StepStreamRequest(**kind)


@pytest.fixture
def stub(start_server: StartServer) -> Iterator[Stub]:
    server = start_server(CounterEnv, max_num_envs=4)
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.EnvServiceStub(channel)


def new_session(stub: Stub, **fields: Any) -> str:
    return str(stub.Reset(new_reset(**fields)).session_id)


def malformed() -> pb.StepRequest:
    request = pb.StepRequest()
    request.action.tensor.dtype = 5  # int64 needs 8 bytes for a scalar
    request.action.tensor.data = b"\x01\x00"
    return request


# name: (code, reason, unary call, stream requests) built from a stub
CASES: dict[str, Callable[[Stub], tuple[int, str, Callable[[], Any], list[Any]]]] = {
    "session_not_found": lambda s: (
        5,
        "SESSION_NOT_FOUND",
        lambda: s.Step(step(1, "no-such-session")),
        [on_stream(attach_request=pb.AttachRequest(session_id="no-such-session"))],
    ),
    "episode_ended": lambda s: (
        9,
        "EPISODE_ENDED",
        lambda: [
            session := new_session(s, options=_start(9)),
            s.Step(step(1, session)),  # the counter reaches its limit: terminated
            s.Step(step(1, session)),
        ],
        [
            on_stream(reset_request=new_reset(options=_start(9))),
            on_stream(step_request=step(1, step_index=1)),
            on_stream(step_request=step(1, step_index=2)),
        ],
    ),
    "step_out_of_order": lambda s: (
        10,
        "STEP_OUT_OF_ORDER",
        lambda: s.Step(step(1, new_session(s), step_index=5)),
        [on_stream(reset_request=new_reset()), on_stream(step_request=step(1, step_index=5))],
    ),
    "action_out_of_space": lambda s: (
        3,
        "ACTION_OUT_OF_SPACE",
        lambda: s.Step(step(7, new_session(s))),
        [on_stream(reset_request=new_reset()), on_stream(step_request=step(7))],
    ),
    "invalid_value": lambda s: (
        3,
        "INVALID_VALUE",
        lambda: s.Step(_named(malformed(), new_session(s))),
        [on_stream(reset_request=new_reset()), on_stream(step_request=malformed())],
    ),
    "invalid_request": lambda s: (
        3,
        "INVALID_REQUEST",
        lambda: s.Step(pb.StepRequest(session_id=new_session(s))),  # no action
        [on_stream(reset_request=new_reset()), on_stream(step_request=pb.StepRequest())],
    ),
    "env_limit": lambda s: (
        8,
        "ENV_LIMIT",
        lambda: s.ResetBatch(_new_batch(5)),
        [on_stream(reset_batch_request=_new_batch(5))],
    ),
    "env_error": lambda s: (
        13,
        "ENV_ERROR",
        lambda: s.Step(step(3, new_session(s))),  # action 3 raises inside the env
        [on_stream(reset_request=new_reset()), on_stream(step_request=step(3))],
    ),
    "env_rejected": lambda s: (
        3,
        "ENV_REJECTED",
        lambda: s.Reset(new_reset(task_id="refuse")),
        [on_stream(reset_request=new_reset(task_id="refuse"))],
    ),
    "wrong_session_kind": lambda s: (
        9,
        "WRONG_SESSION_KIND",
        lambda: s.StepBatch(_actions(new_session(s))),
        [on_stream(reset_request=new_reset()), on_stream(step_batch_request=_actions(""))],
    ),
}


def _start(count: int) -> Any:
    options = pb.ResetRequest().options
    encode_value(count, out=options.entries.add(key="start").value)
    return options


def _named(request: pb.StepRequest, session_id: str) -> pb.StepRequest:
    request.session_id = session_id
    return request


def _new_batch(num_envs: int) -> pb.ResetBatchRequest:
    return pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=num_envs))


def _actions(session_id: str) -> pb.StepBatchRequest:
    request = pb.StepBatchRequest(session_id=session_id)
    encode_tensor(np.array([1], dtype=np.int64), request.actions.tensor)
    return request


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_reason_is_the_same_on_unary_calls_and_streams(stub: Stub, case: str) -> None:
    code, reason, unary, stream = CASES[case](stub)
    by_call = unary_failure(unary)
    by_stream = stream_failure(stub, *stream)
    assert (by_call.code, by_call.reason) == (code, reason)
    assert (by_stream.code, by_stream.reason) == (code, reason)
    assert by_call.message  # says what to do, on both paths
    assert by_stream.message
    assert set(by_call.metadata) == set(by_stream.metadata)


def test_step_out_of_order_names_the_server_count(stub: Stub) -> None:
    session = new_session(stub)
    stub.Step(step(1, session, step_index=1))
    failure = unary_failure(lambda: stub.Step(step(1, session, step_index=3)))
    assert failure.metadata == {"step_index": "3", "step_count": "1"}
    assert "next step is 2" in failure.message


def test_stream_only_reasons(stub: Stub) -> None:
    not_bound = stream_failure(stub, on_stream(step_request=step(1)))
    assert (not_bound.code, not_bound.reason) == (9, "STREAM_NOT_BOUND")
    bound = stream_failure(
        stub, on_stream(reset_request=new_reset()), on_stream(reset_request=new_reset())
    )
    assert (bound.code, bound.reason) == (9, "STREAM_ALREADY_BOUND")
    sends = pb.SendRequest(env_ids=[0])
    encode_tensor(np.array([1], dtype=np.int64), sends.actions.tensor)
    in_flight = stream_failure(
        stub,
        on_stream(reset_batch_request=_new_batch(2)),
        on_stream(recv_request=pb.RecvRequest(num_envs=1)),  # nothing was sent
    )
    assert (in_flight.code, in_flight.reason) == (9, "SUB_ENVS_IN_FLIGHT")
    assert in_flight.metadata == {"in_flight": "0"}


def test_limits_and_draining_ask_for_a_retry_later(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_sessions=1)
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        new_session(stub)
        by_call = unary_failure(lambda: stub.Reset(new_reset()))
        by_stream = stream_failure(stub, on_stream(reset_request=new_reset()))
        for failure in (by_call, by_stream):
            assert (failure.code, failure.reason, failure.metadata) == (
                8,
                "SESSION_LIMIT",
                {"limit": "1"},
            )
            assert failure.retry_seconds == 1.0
        server.call(server.server.sessions.start_draining)
        for failure in (
            unary_failure(lambda: stub.Reset(new_reset())),
            stream_failure(stub, on_stream(reset_request=new_reset())),
        ):
            assert (failure.code, failure.reason) == (14, "DRAINING")
            assert failure.retry_seconds == 1.0


def test_a_busy_session_is_busy_on_both_paths(
    start_server: StartServer, gate: type[GatedEnv]
) -> None:
    server = start_server(gate)
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = new_session(stub)
        running = threading.Thread(target=stub.Step, args=(step(1, session),))
        running.start()
        assert gate.entered.wait(30)
        by_call = unary_failure(lambda: stub.State(pb.StateRequest(session_id=session)))
        by_stream = stream_failure(
            stub, on_stream(attach_request=pb.AttachRequest(session_id=session))
        )
        gate.gate.set()
        running.join(30)
    for failure in (by_call, by_stream):
        assert (failure.code, failure.reason) == (9, "SESSION_BUSY")
        assert failure.metadata == {"session_id": session}


def test_a_reaped_session_is_expired_on_both_paths(start_server: StartServer) -> None:
    now = [0.0]
    server = start_server(CounterEnv, session_ttl=60, clock=lambda: now[0])
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = new_session(stub)
        now[0] = 61.0
        assert server.run(server.server.sessions.reap_expired()) == [session]
        by_call = unary_failure(lambda: stub.Step(step(1, session)))
        by_stream = stream_failure(
            stub, on_stream(attach_request=pb.AttachRequest(session_id=session))
        )
    for failure in (by_call, by_stream):
        assert (failure.code, failure.reason) == (5, "SESSION_EXPIRED")
        assert failure.metadata == {"session_id": session, "ttl_seconds": "60"}


def test_another_protocol_major_is_refused_with_its_reason(counter_server: ServerThread) -> None:
    header = ((PROTOCOL_HEADER, "2.0"),)
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        by_call = unary_failure(lambda: stub.Reset(new_reset(), metadata=header))
        # A stream of another major is refused as a whole, with the same status.
        by_stream = unary_failure(
            lambda: list(
                stub.StepStream(iter([on_stream(reset_request=new_reset())]), metadata=header)
            )
        )
    for failure in (by_call, by_stream):
        assert (failure.code, failure.reason) == (9, "PROTOCOL_MISMATCH")
        assert failure.metadata == {"server_version": PROTOCOL_VERSION, "client_version": "2.0"}


def test_a_long_session_id_is_not_echoed_whole(counter_server: ServerThread) -> None:
    long_id = "x" * 100_000
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        failure = unary_failure(lambda: stub.Step(step(1, long_id)))
    assert (failure.code, failure.reason) == (5, "SESSION_NOT_FOUND")
    assert len(failure.message) < 400
    assert len(failure.metadata["session_id"]) <= 128


def test_the_python_reasons_are_the_contracts() -> None:
    prefix = "ERROR_REASON_"
    contract = {
        name.removeprefix(prefix)
        for name in errors_pb2.ErrorReason.DESCRIPTOR.values_by_name
        if name != f"{prefix}UNSPECIFIED"
    }
    assert {reason.value for reason in errors.Reason} == contract


def test_python_errors_round_trip_through_google_rpc_status() -> None:
    original = errors.StepOutOfOrder(7, 3)
    back = status.from_proto(
        status_pb2.Status.FromString(status.to_proto(original).SerializeToString())
    )
    assert isinstance(back, errors.Aborted)
    assert (back.code, back.reason, back.metadata, back.message) == (
        errors.Code.ABORTED,
        "STEP_OUT_OF_ORDER",
        {"step_index": "7", "step_count": "3"},
        original.message,
    )
    limit = status.from_proto(status.to_proto(errors.SessionLimitReached(4)))
    assert isinstance(limit, errors.ResourceExhausted)
    assert limit.retry_delay == 1.0


def test_the_env_api_and_the_core_load_no_grpc() -> None:
    code = """
import sys
import openenv_grpc
from openenv_grpc import Environment, EnvFactory, ResetResult, StepResult, PROTOCOL_VERSION
import openenv_grpc.env, openenv_grpc.spaces, openenv_grpc.codec, openenv_grpc.tensors
import openenv_grpc.errors, openenv_grpc.status, openenv_grpc.sessions, openenv_grpc.vector
import openenv_grpc.vector_infos, openenv_grpc.workers
loaded = [m for m in sys.modules if m == "grpc" or m.startswith(("grpc.", "grpc_"))]
services = [m for m in sys.modules if m.endswith("env_service_pb2")]
print(loaded, services)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[] []"


def test_the_clients_come_from_the_package_itself_loaded_on_first_use() -> None:
    code = """
import sys
import openenv_grpc
before = "grpc" in sys.modules
from openenv_grpc import AsyncEnvClient, EnvClient, RemoteEnv, RemoteVectorEnv
import openenv_grpc.client as client
same = (AsyncEnvClient, EnvClient, RemoteEnv, RemoteVectorEnv) == (
    client.AsyncEnvClient, client.EnvClient, client.RemoteEnv, client.RemoteVectorEnv)
print(before, "grpc" in sys.modules, same, hasattr(openenv_grpc, "NoSuchName"))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["False", "True", "True", "False"]


def test_client_text_is_escaped_before_it_is_echoed() -> None:
    forged = "abc\n2026-01-01 INFO openenv_grpc.server: forged line\x1b[31m"
    echoed = errors.echo(forged)
    assert "\n" not in echoed
    assert "\x1b" not in echoed
    assert echoed.startswith("abc\\n2026")
    assert len(errors.echo("x" * 10_000)) == 128
