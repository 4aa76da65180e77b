"""`openenv-grpc` as a user runs it: real subprocesses, real ports, real signals."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator

import pytest

from openenv_grpc.client import EnvClient, RemoteEnv
from openenv_grpc.version import PROTOCOL_VERSION

from processes import CLI, ROOT, Served


@pytest.fixture
def served() -> Iterator[Served]:
    server = Served("--drain-seconds", "0")
    yield server
    server.kill()


def test_serve_defaults_to_cartpole_and_logs_one_startup_line(served: Served) -> None:
    assert served.env == "gymnasium:CartPole-v1"
    assert served.address.startswith("127.0.0.1:")
    env = RemoteEnv(served.address)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.step(env.action_space.sample())
    env.close()


def test_describe_prints_the_spec_as_json(served: Served) -> None:
    out = subprocess.run(
        [*CLI, "describe", served.address], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    spec = json.loads(out)
    assert spec["env_name"] == "CartPole-v1"
    assert spec["action_space"] == "Discrete(2)"
    assert spec["protocol_version"] == PROTOCOL_VERSION
    assert spec["capabilities"]["max_sessions"] == 1024


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_with_exit_code_0(served: Served, signum: int) -> None:
    with EnvClient(served.address) as client:
        client.reset()  # one open session, closed on the way out
    assert served.stop(signum) == 0
    log = served.log
    assert "draining: 1 sessions open" in log
    assert "ended: the server is shutting down" in log
    assert "openenv-grpc stopped" in log


def test_serve_a_python_file_factory_with_limits() -> None:
    server = Served("tests/testenvs.py:CounterEnv", "--max-sessions", "1", "--session-ttl", "0")
    try:
        with EnvClient(server.address) as client:
            spec = client.describe()
            assert (spec.env_name, spec.capabilities.max_sessions) == ("Counter", 1)
            assert spec.capabilities.session_ttl_seconds == 0
            session = client.reset().session_id
            assert client.step(session, 2).reward == 2.0
            client.close_session(session)  # with no session open, the drain ends at once
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("gymnasium:NoSuchEnv-v9", "no Gymnasium env 'NoSuchEnv-v9'"),
        ("no_such_module:make", "cannot import module 'no_such_module'"),
        ("tests/testenvs.py:Missing", "has no attribute 'Missing'"),
        ("CartPole", "is not of the form"),
    ],
)
def test_a_bad_env_argument_exits_2_with_a_message(env: str, message: str) -> None:
    result = subprocess.run(
        [*CLI, "serve", env, "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert message in result.stderr


def test_a_port_in_use_exits_1_with_a_message(served: Served) -> None:
    port = served.address.rsplit(":", 1)[1]
    result = subprocess.run(
        [*CLI, "serve", "--port", port], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_describe_of_a_dead_address_fails_with_a_message() -> None:
    result = subprocess.run(
        [*CLI, "describe", "127.0.0.1:1", "--timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
