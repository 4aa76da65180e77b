"""`openenv-grpc validate` and `describe` against real servers, good and deliberately broken."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import threading
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import grpc
import numpy as np
import pytest
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult, spaces
from openenv_grpc.adapters.gymnasium import gymnasium_factory
from openenv_grpc.codec import decode_for_space, encode_value
from openenv_grpc.env import EnvFactory
from openenv_grpc.envs.conformance import ConformanceEnv
from openenv_grpc.validate import Report, outside, validate
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from brokenenvs import OutOfSpaceEnv, SeedIgnoringEnv
from conftest import StartServer
from processes import CLI, ROOT
from serverutil import ServerThread
from testenvs import AllSpacesEnv

CHECKS = [
    "health",
    "reflection",
    "describe",
    "observations_in_space",
    "same_seed_same_observations",
    "action_out_of_space",
    "unknown_session",
    "stream_order",
    "step_out_of_order",
    "sessions_closed",
]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def failed(report: Report) -> set[str]:
    return {c.name for c in report.failed}


def wait_until_no_sessions(server: ServerThread) -> None:
    """Every session validate made is closed (streams close theirs as they end)."""
    server.run(asyncio.wait_for(server.server.sessions.wait_until_empty(), 30))


@pytest.mark.parametrize(
    "factory",
    [ConformanceEnv, gymnasium_factory("CartPole-v1"), AllSpacesEnv],
    ids=["conformance", "cartpole", "all-spaces"],
)
def test_a_good_server_passes_every_check_and_keeps_no_session(
    start_server: StartServer, factory: EnvFactory
) -> None:
    server = start_server(factory)
    report = validate(server.address, episodes=2, seed=3)
    assert [c.name for c in report.checks] == CHECKS
    assert report.ok, report.table()
    wait_until_no_sessions(server)


@pytest.mark.parametrize(
    "space",
    [
        gs.Discrete(3, start=-1),
        gs.Box(-1.0, 1.0, shape=(2, 2), dtype=np.float32),
        gs.Box(0, 255, shape=(3,), dtype=np.uint8),  # bounded by its dtype: wrong shape instead
        gs.Box(-np.inf, np.inf, shape=(2,), dtype=np.float64),
        gs.Box(-2.0, 2.0, shape=(), dtype=np.float16),
        gs.MultiDiscrete([[2, 3], [4, 5]]),
        gs.MultiBinary(4),
        gs.Text(5),
        gs.Dict([("a", gs.Discrete(2)), ("b", gs.Text(3))]),
        gs.Tuple([gs.MultiBinary(2), gs.Box(0, 1, shape=(1,))]),
    ],
    ids=str,
)
def test_outside_makes_a_well_formed_value_outside_each_space(space: gs.Space[Any]) -> None:
    value = decode_for_space(encode_value(outside(space)), space)
    assert not space.contains(value)


def test_the_cli_prints_a_table_and_exits_0_for_a_good_server(start_server: StartServer) -> None:
    server = start_server(ConformanceEnv)
    result = run_cli("validate", server.address, "--episodes", "2", "--seed", "7")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in CHECKS:
        assert any(line.split()[:2] == [name, "PASS"] for line in lines), result.stdout
    assert lines[-1] == f"{len(CHECKS)} passed, 0 failed"


def test_the_cli_prints_json_with_json(start_server: StartServer) -> None:
    server = start_server(ConformanceEnv)
    result = run_cli("validate", server.address, "--json", "--timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert (report["passed"], report["failed"]) == (len(CHECKS), 0)
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert all(c["passed"] and c["why"] for c in report["checks"])


def test_an_observation_outside_its_space_fails_observations_in_space(
    start_server: StartServer,
) -> None:
    server = start_server(OutOfSpaceEnv, check_observations=False)  # a server that trusts it
    report = validate(server.address)
    assert failed(report) == {"observations_in_space"}, report.table()
    why = report.check("observations_in_space").why
    assert "step 3" in why
    assert "is not in Box(0.0, 1.0, (2,), float32)" in why
    wait_until_no_sessions(server)
    result = run_cli("validate", server.address)
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_an_env_that_ignores_its_seed_fails_same_seed(start_server: StartServer) -> None:
    server = start_server(SeedIgnoringEnv)
    report = validate(server.address)
    assert failed(report) == {"same_seed_same_observations"}, report.table()
    assert "differ between two sessions" in report.check("same_seed_same_observations").why
    assert run_cli("validate", server.address, "--json").returncode == 1


class WrongCodesServicer(pb_grpc.EnvServiceServicer):
    """EnvService with the right answers and the wrong errors.

    An action outside the space is INTERNAL, an unknown session NOT_FOUND
    without an ErrorInfo, and step_index is ignored: a server written
    without reading errors.proto.
    """

    observation_space = gs.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gs.Discrete(2)

    def __init__(self) -> None:
        self.sessions: set[str] = set()

    async def Describe(self, request: Any, context: Any) -> pb.DescribeResponse:
        return pb.DescribeResponse(
            env_name="WrongCodes",
            protocol_version="1.1",
            observation_space=spaces.to_proto(self.observation_space),
            action_space=spaces.to_proto(self.action_space),
            reward_range=pb.RewardRange(low=0.0, high=1.0),
            capabilities=pb.Capabilities(max_message_bytes=4 * 2**20),
        )

    async def Reset(self, request: Any, context: Any) -> pb.ResetResponse:
        session_id = str(uuid.uuid4())
        self.sessions.add(session_id)
        return pb.ResetResponse(
            session_id=session_id,
            episode_id=str(uuid.uuid4()),
            observation=encode_value(np.zeros(2, dtype=np.float32)),
        )

    async def Step(self, request: Any, context: Any) -> pb.StepResponse:
        if request.session_id not in self.sessions:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such session")
        action = request.action
        if action.WhichOneof("kind") != "int_value" or action.int_value not in (0, 1):
            await context.abort(grpc.StatusCode.INTERNAL, "cannot apply that action")
        return pb.StepResponse(
            observation=encode_value(np.full(2, 0.5, dtype=np.float32)),
            reward=0.5,
            truncated=request.step_index >= 5,
            step_index=request.step_index,
        )

    async def CloseSession(self, request: Any, context: Any) -> pb.CloseSessionResponse:
        self.sessions.discard(request.session_id)
        return pb.CloseSessionResponse()


@pytest.fixture
def wrong_codes_address() -> Iterator[str]:
    """A grpc.aio server of WrongCodesServicer on its own loop thread (no health, reflection)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        pb_grpc.add_EnvServiceServicer_to_server(WrongCodesServicer(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    yield f"127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    loop.close()


def test_a_server_with_wrong_error_codes_fails_the_error_checks(wrong_codes_address: str) -> None:
    report = validate(wrong_codes_address)
    assert report.check("describe").passed, report.table()
    assert report.check("observations_in_space").passed, report.table()
    assert {"action_out_of_space", "unknown_session", "step_out_of_order"} <= failed(report)
    assert "got INTERNAL: cannot apply that action" in report.check("action_out_of_space").why
    assert "no google.rpc.Status" in report.check("unknown_session").why
    assert "the call succeeded" in report.check("step_out_of_order").why
    assert "UNIMPLEMENTED" in report.check("health").why  # it serves no health service
    result = run_cli("validate", wrong_codes_address)
    assert result.returncode == 1
    assert any(
        line.split()[:2] == ["action_out_of_space", "FAIL"] for line in result.stdout.splitlines()
    )


def test_an_unreachable_address_fails_every_check_quickly() -> None:
    result = run_cli("validate", "127.0.0.1:1", "--timeout", "2", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["passed"] == 0
    assert "UNAVAILABLE" in report["checks"][0]["why"]


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "127.0.0.1:1", "--episodes", "0"],
        ["validate", "127.0.0.1:1", "--timeout", "-1"],
        ["validate", "127.0.0.1:1", "--seed", "x"],
        ["validate", "127.0.0.1:1", "--no-such-flag"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "usage:" in result.stderr


class UnboundedEnv(Environment):
    """Infinite reward bounds (the default) and non-finite numbers in its metadata."""

    name = "Unbounded"
    metadata: ClassVar[dict[str, Any]] = {
        "render_fps": math.nan,
        "limits": np.array([-np.inf, 1.0]),
        "nested": {"x": math.inf, "label": "ok"},
    }
    observation_space = gs.Box(-np.inf, np.inf, shape=(2,), dtype=np.float64)
    action_space = gs.Discrete(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        return ResetResult(observation=np.zeros(2))

    def step(self, action: Any) -> StepResult:
        return StepResult(observation=np.zeros(2))


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"describe printed {name}, which is not JSON")


def test_describe_prints_strict_json_with_null_for_non_finite_numbers(
    start_server: StartServer,
) -> None:
    server = start_server(UnboundedEnv)
    result = run_cli("describe", server.address)
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout, parse_constant=_refuse_constant)
    assert spec["env_name"] == "Unbounded"
    assert spec["reward_range"] == [None, None]
    assert spec["observation_space"] == "Box(-inf, inf, (2,), float64)"
    assert spec["metadata"] == {
        "render_fps": None,
        "limits": [None, 1.0],
        "nested": {"x": None, "label": "ok"},
    }
    assert spec["capabilities"]["max_sessions"] == 1024
    assert spec["capabilities"]["session_ttl_seconds"] == 600.0


def test_describe_help_says_non_finite_numbers_are_null() -> None:
    result = run_cli("describe", "--help")
    assert result.returncode == 0
    assert "null" in result.stdout
