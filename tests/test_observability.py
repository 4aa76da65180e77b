"""Traces, metrics, logs, health and the drain, observed from outside as an operator would.

Servers run as subprocesses exporting OTLP/gRPC to a receiver in the test;
signals are real; a step is held inside the env with named pipes, so "in
flight" is a fact, not a guess about timing.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id

from openenv_grpc import errors
from openenv_grpc.client import EnvClient, StepReply

from conftest import StartServer
from otlp_receiver import OtlpReceiver, attributes
from processes import Served
from testenvs import CounterEnv

SERVICE = "openenv.v1.EnvService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


def otel_env(receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_SERVICE_NAME": "env-under-test",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_METRIC_EXPORT_INTERVAL": "200",
        **extra,
    }


@pytest.fixture
def fifos(tmp_path: pathlib.Path) -> pathlib.Path:
    os.mkfifo(tmp_path / "entered")
    os.mkfifo(tmp_path / "release")
    return tmp_path


class HealthWatch:
    """A health Watch stream read on a thread; `next()` is its next status."""

    def __init__(self, address: str, service: str) -> None:
        self._channel = grpc.insecure_channel(address)
        stub = health_pb2_grpc.HealthStub(self._channel)
        self._call = stub.Watch(health_pb2.HealthCheckRequest(service=service))

    def next(self) -> int:
        status: int = next(self._call).status
        return status

    def close(self) -> None:
        self._call.cancel()
        self._channel.close()


def test_a_trainer_span_is_the_parent_of_the_server_spans(receiver: OtlpReceiver) -> None:
    server = Served("--drain-seconds", "0", env=otel_env(receiver))
    tracer = TracerProvider().get_tracer("trainer")
    try:
        with EnvClient(server.address) as client:
            with tracer.start_as_current_span("rollout") as rollout:
                session = client.reset(seed=1).session_id
                client.step(session, 1)
                with client.stream() as stream:
                    stream.reset(seed=2)
                    stream.step(0)
            client.step(session, 0)  # outside the trainer's span: a trace of its own
        trace_id = format_trace_id(rollout.get_span_context().trace_id)
        parent_id = format_span_id(rollout.get_span_context().span_id)

        def server_spans() -> list[Any] | None:
            spans = [s for s in receiver.spans() if s.trace_id.hex() == trace_id]
            names = [s.name for s in spans]
            wanted = [f"{SERVICE}/Reset", f"{SERVICE}/Step", f"{SERVICE}/StepStream"]
            complete = names.count(f"{SERVICE}/StepStream") >= 2 and names.count("env.step") >= 2
            return spans if all(n in names for n in wanted) and complete else None

        spans = receiver.wait_for(server_spans)
        by_id = {s.span_id.hex(): s for s in spans}
        rpc_spans = [s for s in spans if s.name.startswith(SERVICE)]
        assert {s.parent_span_id.hex() for s in rpc_spans} == {parent_id}
        unary_step = next(s for s in rpc_spans if s.name == f"{SERVICE}/Step")
        assert unary_step.kind == unary_step.SPAN_KIND_SERVER
        assert attributes(unary_step) == {
            "rpc.system.name": "grpc",
            "rpc.method": f"{SERVICE}/Step",
            "rpc.response.status_code": "OK",
        }
        stream_requests = sorted(
            attributes(s)["openenv.stream.request"]
            for s in rpc_spans
            if s.name == f"{SERVICE}/StepStream"
        )
        assert stream_requests == ["reset_request", "step_request"]  # one span per message
        env_steps = [s for s in spans if s.name == "env.step"]
        assert len(env_steps) == 2
        for env_step in env_steps:
            parent = by_id[env_step.parent_span_id.hex()]
            assert parent.name in (f"{SERVICE}/Step", f"{SERVICE}/StepStream")
            found = attributes(env_step)
            assert found["openenv.env.name"] == "CartPole-v1"
            assert found["openenv.step.index"] == 1
            assert found["openenv.reward"] == 1.0
            assert found["openenv.terminated"] is False
            assert found["openenv.batch.size"] == 1
            assert len(found["openenv.session.id"]) == 32
            assert len(found["openenv.episode.id"]) == 32
        resources = list(receiver.resource_attributes())
        assert resources[0]["service.name"] == "env-under-test"
        assert resources[0]["deployment.environment"] == "ci"
    finally:
        assert server.stop() == 0


def test_metrics_arrive_over_otlp(receiver: OtlpReceiver) -> None:
    server = Served("--drain-seconds", "0", env=otel_env(receiver))
    try:
        with EnvClient(server.address) as client:
            session = client.reset().session_id
            client.step(session, 1)
            with pytest.raises(errors.NotFound):
                client.step("missing", 1)
            client.close_session(session)
        wanted = {
            "rpc.server.call.duration",
            "openenv.env.step.duration",
            "openenv.env.steps",
            "openenv.sessions.active",
            "openenv.sessions.created",
            "openenv.sessions.closed",
            "openenv.rpc.errors",
        }
        receiver.wait_for(lambda: wanted <= receiver.metric_names())
    finally:
        assert server.stop() == 0


def test_sigterm_mid_stream_answers_the_step_refuses_new_sessions_and_exits_0(
    receiver: OtlpReceiver, fifos: pathlib.Path
) -> None:
    server = Served(
        "tests/testenvs.py:FifoGatedEnv",
        "--drain-seconds",
        "60",
        env=otel_env(receiver, OPENENV_TEST_FIFOS=str(fifos)),
    )
    watch = HealthWatch(server.address, SERVICE)
    try:
        assert watch.next() == SERVING
        with EnvClient(server.address) as client:
            stream = client.stream()
            stream.reset()
            answers: list[StepReply] = []
            stepping = threading.Thread(target=lambda: answers.append(stream.step(2)))
            stepping.start()
            with open(fifos / "entered", "rb") as entered:
                assert entered.read(1) == b"x"  # the env is inside step now
            server.send()
            assert watch.next() == NOT_SERVING  # the drain has begun
            with pytest.raises(errors.Unavailable, match="draining"):
                client.reset()
            with open(fifos / "release", "wb") as release:
                release.write(b"x")
            stepping.join(60)
            assert [a.info["count"] for a in answers] == [2]  # the in-flight step was answered
            stream.close()  # the last session ends, so the drain is over
        assert server.wait() == 0
        assert "openenv-grpc stopped" in server.log
        receiver.wait_for(
            lambda: [
                s
                for s in receiver.spans()
                if s.name == "env.step" and attributes(s)["openenv.env.name"] == "FifoGated"
            ]
        )
    finally:
        watch.close()
        server.kill()


def test_an_idle_stream_is_ended_unavailable_when_the_drain_time_is_up() -> None:
    server = Served("--drain-seconds", "0")
    try:
        with EnvClient(server.address) as client:
            stream = client.stream()
            stream.reset()
            assert server.stop() == 0
            with pytest.raises(errors.Unavailable):
                stream.step(1)
        assert "drain time is up with 1 sessions still open" in server.log
    finally:
        server.kill()


def test_a_second_signal_stops_at_once_with_exit_code_1() -> None:
    server = Served("--drain-seconds", "600")
    watch = HealthWatch(server.address, "")
    try:
        assert watch.next() == SERVING
        with EnvClient(server.address) as client:
            client.reset()  # an open session keeps the drain waiting
            server.send()
            assert watch.next() == NOT_SERVING
            server.send()
            assert server.wait() == 1
        assert "second signal: stopping at once" in server.log
        assert "ended: the server is shutting down" in server.log
    finally:
        watch.close()
        server.kill()


def test_health_watch_sees_serving_then_not_serving_during_a_drain(
    start_server: StartServer,
) -> None:
    server = start_server(CounterEnv, drain_seconds=600)
    overall, service = HealthWatch(server.address, ""), HealthWatch(server.address, SERVICE)
    try:
        assert (overall.next(), service.next()) == (SERVING, SERVING)
        with EnvClient(server.address) as client:
            session = client.reset().session_id
            drain = server.loop.call_soon_threadsafe(server.loop.create_task, server.server.drain())
            assert drain is not None
            assert (overall.next(), service.next()) == (NOT_SERVING, NOT_SERVING)
            assert client.step(session, 1).step_index == 1  # open sessions go on
            with pytest.raises(errors.Unavailable, match="draining"):
                client.reset()
            client.close_session(session)
    finally:
        overall.close()
        service.close()


def test_readiness_follows_the_session_limit_when_asked(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_sessions=1, unready_at_limit=True)
    overall, service = HealthWatch(server.address, ""), HealthWatch(server.address, SERVICE)
    try:
        assert service.next() == SERVING
        with EnvClient(server.address) as client:
            session = client.reset().session_id
            assert service.next() == NOT_SERVING
            client.close_session(session)
            assert service.next() == SERVING
        assert overall.next() == SERVING  # liveness never flips for the limit
    finally:
        overall.close()
        service.close()


def test_json_logs_carry_session_events_and_trace_ids(receiver: OtlpReceiver) -> None:
    server = Served("--drain-seconds", "0", "--log-format", "json", env=otel_env(receiver))
    tracer = TracerProvider().get_tracer("trainer")
    with EnvClient(server.address) as client, tracer.start_as_current_span("rollout") as rollout:
        session = client.reset().session_id
        client.close_session(session)
    assert server.stop() == 0
    entries = [json.loads(line) for line in server.lines if line.strip()]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    start = next(e for e in entries if e.get("event") == "session_start")
    end = next(e for e in entries if e.get("event") == "session_end")
    assert start["session_id"] == end["session_id"] == session[:8]  # a prefix correlates
    assert all(session not in line for line in server.lines)  # the whole id is never logged
    assert end["reason"] == "client"
    assert start["trace_id"] == format_trace_id(rollout.get_span_context().trace_id)


def test_prometheus_endpoint_serves_the_metrics() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Served("--drain-seconds", "0", "--metrics-port", str(port))
    try:
        with EnvClient(server.address) as client:
            client.step(client.reset().session_id, 1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
            text = reply.read().decode()
        assert "rpc_server_call_duration_seconds_bucket" in text
        assert 'rpc_method="openenv.v1.EnvService/Step"' in text
        assert "openenv_sessions_created" in text
    finally:
        assert server.stop() == 0
