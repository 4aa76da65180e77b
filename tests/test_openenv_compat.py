"""Code written for OpenEnv's client runs against openenv-grpc by changing one import.

The proof: `tests/openenv_client_program.py`, a program written for OpenEnv's
`EnvClient` (typed, sync, async, `.sync()`) and `GenericEnvClient`, runs
unchanged against OpenEnv's own server and, with its `openenv.core` import
swapped for `openenv_grpc.compat.openenv`, against `openenv-grpc serve` of the
same env; both print the same transcript.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from openenv_grpc import errors
from openenv_grpc.compat import openenv as compat
from openenv_grpc.loader import load_env_factory

from conftest import StartServer
from processes import ROOT, Served

TESTS = ROOT / "tests"
PROGRAM = TESTS / "openenv_client_program.py"
OPENENV_IMPORT = "from openenv.core import EnvClient, GenericEnvClient\n"
OUR_IMPORT = "from openenv_grpc.compat.openenv import EnvClient, GenericEnvClient\n"
UVICORN_READY = re.compile(r"Uvicorn running on (http://\S+)")
pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def openenv_server() -> Iterator[str]:
    """The Walk env under OpenEnv's own FastAPI server (uvicorn on loopback)."""
    argv = [sys.executable, "-m", "uvicorn", "--factory", "openenvenvs:walk_app"]
    argv += ["--host", "127.0.0.1", "--port", "0", "--no-access-log"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if match := UVICORN_READY.search(line):
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # drain the rest
            try:
                yield match[1]
            finally:
                proc.terminate()
                proc.wait(60)
            return
    raise AssertionError(f"uvicorn exited before serving: {''.join(lines)}")


def _run(program: pathlib.Path, url: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    done = subprocess.run(
        [sys.executable, str(program), url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_an_openenv_program_runs_with_one_import_changed(
    openenv_server: str, tmp_path: pathlib.Path
) -> None:
    source = PROGRAM.read_text()
    assert source.count(OPENENV_IMPORT) == 1
    ours = tmp_path / PROGRAM.name
    ours.write_text(source.replace(OPENENV_IMPORT, OUR_IMPORT))

    theirs = _run(PROGRAM, openenv_server)
    served = Served("openenv:tests/openenvenvs.py:Walk")
    try:
        mine = _run(ours, f"http://{served.address}")
    finally:
        assert served.stop() == 0
    assert len(theirs) == 11
    assert '"at": "sync last"' in theirs[2]
    assert '"done": true' in theirs[2]
    assert mine == theirs


def test_the_generic_client_plays_a_gymnasium_env(start_server: StartServer) -> None:
    server = start_server(load_env_factory("gymnasium:CartPole-v1"))
    with compat.GenericEnvClient(base_url=f"http://{server.address}") as env:
        first = env.reset(seed=0)
        assert isinstance(first.observation, list)
        assert len(first.observation) == 4
        assert first.reward is None
        assert not first.done
        steps = 0
        result = first
        while not result.done:
            result = env.step({"action": steps % 2})  # a non-Dict space takes one entry
            steps += 1
            assert result.reward == 1.0
        assert steps >= 8
        state = env.state()
        assert state["step_count"] == steps
        with pytest.raises(ValueError, match="one entry"):
            env.step({"push": 1, "force": 2})
        env.reset()
        with pytest.raises(errors.InvalidArgument) as caught:
            env.step(compat.GenericAction(action=5))  # Discrete(2)
        assert caught.value.reason == errors.Reason.ACTION_OUT_OF_SPACE


def test_the_async_face_awaits_and_modes_do_not_mix(start_server: StartServer) -> None:
    server = start_server(load_env_factory("gymnasium:CartPole-v1"))

    async def play() -> tuple[list[float], float | None]:
        env = compat.GenericEnvClient(base_url=server.address)
        async with env:
            reset = await env.reset(seed=1)
            step = await env.step({"action": 0})
        return reset.observation, step.reward

    observation, reward = asyncio.run(play())
    assert np.asarray(observation).shape == (4,)
    assert reward == 1.0

    env = compat.GenericEnvClient(base_url=server.address)
    env.reset()  # sync from here on

    async def mixed() -> None:
        await env.step({"action": 0})

    with pytest.raises(RuntimeError, match="sync mode"):
        asyncio.run(mixed())
    env.close()


@pytest.mark.parametrize(
    ("url", "target", "tls"),
    [
        ("localhost:50051", "localhost:50051", False),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("ws://[::1]:9000/", "[::1]:9000", False),
        ("https://env.example", "env.example:443", True),
        ("grpc://h:1", "h:1", False),
    ],
)
def test_base_urls_become_grpc_targets(url: str, target: str, tls: bool) -> None:
    client = compat.GenericEnvClient(base_url=url, headers={"Authorization": "Bearer abc"})
    assert (client.address, client._tls, client._token) == (target, tls, "abc")


def test_containers_and_hub_envs_are_refused_with_what_to_do() -> None:
    with pytest.raises(NotImplementedError, match="openenv-grpc serve"):
        compat.GenericEnvClient.from_docker_image("echo-env:latest")
    with pytest.raises(NotImplementedError, match="openenv-grpc serve"):
        compat.GenericEnvClient(base_url="localhost:1", provider=object())
