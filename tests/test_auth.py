"""Who may call and whose sessions they reach: tokens, ownership, per-principal limits.

Real servers on loopback with a real tokens file; clients send
`authorization: Bearer TOKEN` as every language's client does.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from conftest import StartServer
from otlp_receiver import OtlpReceiver, attributes
from processes import Served
from serverutil import ServerThread
from testenvs import CounterEnv

ALICE, BOB = "alice-token-0123456789", "bob-token-9876543210"


@pytest.fixture
def tokens(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "tokens"
    path.write_text(f"# principal token\nalice {ALICE}\nbob {BOB}  # the second trainer\n")
    return path


@pytest.fixture
def server(start_server: StartServer, tokens: pathlib.Path) -> ServerThread:
    return start_server(
        CounterEnv, tokens_file=tokens, max_sessions_per_principal=2, max_envs_per_principal=6
    )


def refused(call: Callable[[], Any]) -> errors.EnvError:
    with pytest.raises(errors.Unauthenticated) as caught:
        call()
    assert caught.value.reason == "UNAUTHENTICATED"
    return caught.value


def test_calls_need_a_known_token_and_health_stays_open(server: ServerThread) -> None:
    with EnvClient(server.address, token="") as anonymous:
        assert "brought none" in refused(anonymous.describe).message
    with EnvClient(server.address, token="not-a-token") as stranger:
        assert "not one this server knows" in refused(stranger.describe).message
        refused(lambda: stranger.stream().reset())
    with EnvClient(server.address, token=ALICE) as alice:
        assert alice.describe().env_name == "Counter"
        session = alice.reset().session_id
        assert alice.step(session, 1).step_index == 1
        with alice.stream() as stream:
            stream.reset()
            assert stream.step(2).step_index == 1
    with grpc.insecure_channel(server.address) as channel:  # probes need no token
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service="openenv.v1.EnvService"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_the_token_comes_from_the_environment_too(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENENV_GRPC_TOKEN", BOB)
    with EnvClient(server.address) as bob:
        assert bob.describe().env_name == "Counter"


def test_another_principal_does_not_find_a_session(server: ServerThread) -> None:
    with (
        EnvClient(server.address, token=ALICE) as alice,
        EnvClient(server.address, token=BOB) as bob,
    ):
        single = alice.reset().session_id
        batch = alice.reset_batch(2).session_id
        calls: list[Callable[[], Any]] = [
            lambda: bob.step(single, 1),
            lambda: bob.state(single),
            lambda: bob.reset(session_id=single),
            lambda: bob.close_session(single),
            lambda: bob.reset_batch(session_id=batch),
            lambda: bob.step_batch(batch, [1, 1]),
            lambda: bob.stream().attach(single),
        ]
        for call in calls:
            with pytest.raises(errors.NotFound) as caught:
                call()
            assert caught.value.reason == "SESSION_NOT_FOUND"  # the same as a wrong id
        # Alice's sessions are untouched by all of that.
        assert alice.step(single, 1).step_index == 1
        assert alice.state(batch).num_envs == 2


def test_request_ids_belong_to_their_principal(server: ServerThread) -> None:
    with (
        EnvClient(server.address, token=ALICE) as alice,
        EnvClient(server.address, token=BOB) as bob,
    ):
        mine = alice.reset(request_id="shared-id").session_id
        theirs = bob.reset(request_id="shared-id").session_id
        assert mine != theirs  # the same request id never hands over Alice's session
        assert alice.reset(request_id="shared-id").session_id == mine


def test_each_principal_has_its_own_session_limit(server: ServerThread) -> None:
    with (
        EnvClient(server.address, token=ALICE) as alice,
        EnvClient(server.address, token=BOB) as bob,
    ):
        alice.reset()
        alice.reset()
        with pytest.raises(errors.ResourceExhausted) as caught:
            alice.reset()
        assert caught.value.reason == "SESSION_LIMIT"
        assert caught.value.metadata == {"limit": "2", "scope": "principal"}
        single = bob.reset().session_id  # another principal still has room
        bob.close_session(single)
        bob.reset_batch(4)
        with pytest.raises(errors.ResourceExhausted) as envs:
            bob.reset_batch(3)  # a second session, but 4 + 3 sub-envs is over Bob's 6
        assert envs.value.reason == "ENV_LIMIT"
        assert envs.value.metadata == {"limit": "6", "requested": "3", "scope": "principal"}


def test_tokens_are_read_again_when_the_file_changes(
    server: ServerThread, tokens: pathlib.Path
) -> None:
    with EnvClient(server.address, token=BOB) as bob:
        assert bob.describe().env_name == "Counter"
        tokens.write_text(f"alice {ALICE}\n")  # Bob's token is revoked
        refused(bob.describe)


def test_a_token_never_reaches_the_log_and_reflection_can_be_off(tokens: pathlib.Path) -> None:
    server = Served("--tokens-file", str(tokens), "--no-reflection", "--drain-seconds", "0")
    try:
        with EnvClient(server.address, token=ALICE) as alice:
            session = alice.reset().session_id
            alice.step(session, 1)
            alice.close_session(session)
        with EnvClient(server.address, token="wrong-" + BOB) as stranger:
            refused(stranger.describe)
        with grpc.insecure_channel(server.address) as channel:
            stub = pb_grpc.EnvServiceStub(channel)
            with pytest.raises(grpc.RpcError) as no_token:
                stub.Describe(pb.DescribeRequest(), timeout=10)
            assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
            reflection = channel.stream_stream(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
            )
            with pytest.raises(grpc.RpcError) as off:
                list(reflection(iter([b"\x3a\x00"]), timeout=10))
            assert off.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        assert server.stop() == 0
    for secret in (ALICE, BOB):
        assert secret not in server.log


def test_spans_name_the_principal(tokens: pathlib.Path) -> None:
    receiver = OtlpReceiver()
    environment = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
    server = Served("--tokens-file", str(tokens), "--drain-seconds", "0", env=environment)
    try:
        with EnvClient(server.address, token=ALICE) as alice:
            session = alice.reset().session_id
            with alice.stream() as stream:
                stream.reset()
            alice.close_session(session)

        def named() -> set[str] | None:
            found = {
                span.name
                for span in receiver.spans()
                if attributes(span).get("enduser.id") == "alice"
            }
            wanted = {"openenv.v1.EnvService/Reset", "openenv.v1.EnvService/StepStream"}
            return found if wanted <= found else None

        assert receiver.wait_for(named)
    finally:
        assert server.stop() == 0
        receiver.stop()
    assert ALICE not in server.log
