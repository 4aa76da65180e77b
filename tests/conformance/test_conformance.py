"""Every language's conformance client against a live server: one test per language.

Each test starts `openenv-grpc serve conformance` as a real subprocess on
loopback, exporting its traces over OTLP to a receiver the test runs, then
runs the language's client over the scenario (README.md beside this file)
and reads its verdict: exit 0, a PASS line for each of the 13 checks in
order, "13 passed, 0 failed" last. The `trace` check cannot see the server's
side, so the test does: the receiver must hold a server span of the
scenario's trace. A missing client fails (build it with `make langs`):
conformance is never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.proto.trace.v1 import trace_pb2

from otlp_receiver import OtlpReceiver
from processes import ROOT, Served

HERE = ROOT / "tests" / "conformance"
SCENARIO = HERE / "scenario.json"
GOLDEN = HERE / "golden"
LANGS = ["python", "go", "ts", "rust", "java", "cpp"]
CHECKS = [
    "describe",
    "trace",
    "unary_episode",
    "step_after_end",
    "unknown_session",
    "action_out_of_space",
    "out_of_order",
    "retried_step",
    "request_id_twice",
    "deadline_retry",
    "stream_episode",
    "batched",
    "golden",
]
CLIENT_TIMEOUT = 180  # seconds; a run takes a few (one deliberately slow step), a JVM start more


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


def client_command(lang: str) -> list[str]:
    """How to run a language's client; a failure (never a skip) when it is not built."""
    if lang == "python":
        script = HERE / "python_client.py"
        if not script.is_file():
            pytest.fail(f"the Python conformance client {script} does not exist")
        return [sys.executable, str(script)]
    client = ROOT / ".tools" / "conformance" / lang
    if not (client.is_file() and os.access(client, os.X_OK)):
        pytest.fail(
            f"no {lang} conformance client at {client}: run `make langs` "
            f"(or `make build-{lang}`) first"
        )
    return [str(client)]


def server_spans_of(receiver: OtlpReceiver, trace_id: str) -> list[trace_pb2.Span]:
    return [
        span
        for span in receiver.spans()
        if span.trace_id.hex() == trace_id and span.kind == trace_pb2.Span.SPAN_KIND_SERVER
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_the_client_passes_every_check(lang: str, receiver: OtlpReceiver) -> None:
    command = client_command(lang)
    trace_id = json.loads(SCENARIO.read_text())["traceparent"].split("-")[1]
    server = Served(
        "conformance",
        "--drain-seconds",
        "0",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        },
    )
    try:
        args = ["--address", server.address, "--scenario", str(SCENARIO), "--golden", str(GOLDEN)]
        run = subprocess.run(
            [*command, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
        )
        said = f"{lang} client said:\n{run.stdout}\nstderr:\n{run.stderr}"
        lines = run.stdout.rstrip().splitlines()
        assert run.returncode == 0, said
        assert lines, said
        assert lines[-1] == f"{len(CHECKS)} passed, 0 failed", said
        assert [line for line in lines if line.startswith("PASS ")] == [
            f"PASS {check}" for check in CHECKS
        ], said
        try:
            spans = receiver.wait_for(lambda: server_spans_of(receiver, trace_id), timeout=30)
        except AssertionError:
            pytest.fail(
                f"the server exported no span of trace {trace_id}: the {lang} client's `trace` "
                "check must send the scenario's traceparent header with Describe"
            )
        assert any(span.name == "openenv.v1.EnvService/Describe" for span in spans), spans
    finally:
        code = server.stop()
    assert code == 0, server.log
