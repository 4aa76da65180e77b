"""The server as tools outside the project see it: grpcurl (reflection) and grpc-health-probe.

Both are the real Go binaries that `make tools-grpcurl` builds into
.tools/bin; a missing one fails the test (never skips), since a user or a
Kubernetes probe relies on exactly these working against the server.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from processes import ROOT, Served

TOOLS_BIN = ROOT / ".tools" / "bin"
SERVICE = "openenv.v1.EnvService"
PROBE_UNHEALTHY, PROBE_CONNECTION_FAILED = 4, 2  # grpc-health-probe's documented exit codes
GRPCURL_STATUS_BASE = 64  # grpcurl exits 64 + the gRPC code of a failed call


def tool(name: str) -> str:
    path = TOOLS_BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{path} is missing: run `make tools-grpcurl` to build grpcurl and grpc-health-probe"
        )
    return str(path)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def grpcurl(address: str, *args: str, data: Any = None) -> subprocess.CompletedProcess[str]:
    body = [] if data is None else ["-d", json.dumps(data) if not isinstance(data, str) else data]
    return run(tool("grpcurl"), "-plaintext", *body, address, *args)


def call(address: str, method: str, data: Any) -> dict[str, Any]:
    result = grpcurl(address, f"{SERVICE}/{method}", data=data)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def float32s(tensor: dict[str, Any]) -> list[float]:
    assert tensor["dtype"] == "DTYPE_FLOAT32"
    values: list[float] = np.frombuffer(base64.b64decode(tensor["data"]), "<f4").tolist()
    return values


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served("conformance", "--drain-seconds", "0")
    yield server
    server.kill()


def test_grpcurl_lists_and_describes_the_env_service(served: Served) -> None:
    listed = grpcurl(served.address, "list")
    assert listed.returncode == 0, listed.stderr
    assert SERVICE in listed.stdout.split()
    described = grpcurl(served.address, "describe", SERVICE)
    assert described.returncode == 0, described.stderr
    assert "service EnvService {" in described.stdout
    assert (
        "rpc StepStream ( stream .openenv.v1.StepStreamRequest ) returns "
        "( stream .openenv.v1.StepStreamResponse );"
    ) in described.stdout


def test_grpcurl_calls_describe_reset_and_step_with_json_bodies(served: Served) -> None:
    spec = call(served.address, "Describe", {})
    assert spec["envName"] == "Conformance-v1"
    assert spec["protocolVersion"].split(".")[0] == "1"
    assert spec["actionSpace"] == {"discrete": {"n": "3", "dtype": "DTYPE_INT64"}}

    reset = call(
        served.address, "Reset", {"newSession": {"requestId": str(uuid.uuid4())}, "seed": 42}
    )
    session = reset["sessionId"]
    assert float32s(reset["observation"]["tensor"]) == [42.0, 0.0, 0.0]

    step = call(
        served.address,
        "Step",
        {"sessionId": session, "action": {"intValue": 1}, "stepIndex": 1},
    )
    # s = (31 * 42 + 1 + 7) % 997 = 313 at t = 1, after action 1 (the conformance env's rule)
    assert float32s(step["observation"]["tensor"]) == [313.0, 1.0, 1.0]
    assert (step["reward"], step["stepIndex"]) == (0.25, "1")
    assert step["rewardComponents"] == {"action": 0.5, "penalty": -0.25}

    refused = grpcurl(
        served.address,
        f"{SERVICE}/Step",
        data={"sessionId": session, "action": {"intValue": 7}, "stepIndex": 2},
    )
    assert refused.returncode == GRPCURL_STATUS_BASE + grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "Code: InvalidArgument" in refused.stderr + refused.stdout
    assert '"reason": "ACTION_OUT_OF_SPACE"' in refused.stderr + refused.stdout  # the ErrorInfo

    assert call(served.address, "CloseSession", {"sessionId": session}) == {}


def test_grpcurl_drives_a_step_stream(served: Served) -> None:
    requests = [
        {"seq": 1, "resetRequest": {"newSession": {}, "seed": 42}},
        {"seq": 2, "stepRequest": {"action": {"intValue": 1}, "stepIndex": 1}},
    ]
    result = grpcurl(
        served.address, f"{SERVICE}/StepStream", data="\n".join(map(json.dumps, requests))
    )
    assert result.returncode == 0, result.stderr
    decoder, text, answers = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].strip()
    assert [a["seq"] for a in answers] == ["1", "2"]
    assert float32s(answers[1]["stepResponse"]["observation"]["tensor"]) == [313.0, 1.0, 1.0]


def probe(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(tool("grpc-health-probe"), "-addr", address, *args)


def test_grpc_health_probe_is_healthy_then_not_once_draining_then_stopped() -> None:
    server = Served("conformance", "--drain-seconds", "60")
    try:
        for service in ([], ["-service", SERVICE]):
            healthy = probe(server.address, *service)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr
            assert "status: SERVING" in healthy.stderr  # the probe logs to stderr
        # An open session keeps the drain going, so the probe sees the draining server.
        session = call(server.address, "Reset", {"newSession": {}})["sessionId"]
        with grpc.insecure_channel(server.address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=SERVICE), timeout=60
            )
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            server.send(signal.SIGTERM)
            assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
            watch.cancel()
        for service in ([], ["-service", SERVICE]):
            draining = probe(server.address, *service)
            assert draining.returncode == PROBE_UNHEALTHY, draining.stdout + draining.stderr
        assert call(server.address, "CloseSession", {"sessionId": session}) == {}
        assert server.wait() == 0  # the last session closed: the drain ends, the server exits
        stopped = probe(server.address, "-connect-timeout", "2s")
        assert stopped.returncode == PROBE_CONNECTION_FAILED, stopped.stdout + stopped.stderr
    finally:
        server.kill()
