"""The examples run as a user runs them: against a real server, to a real result."""

from __future__ import annotations

import importlib.util
import pathlib
from types import ModuleType

import pytest

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_grpc.loader import load_env_factory

from conftest import StartServer

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "python"


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cartpole_trainer_learns_and_is_deterministic(start_server: StartServer) -> None:
    server = start_server(load_env_factory("gymnasium:CartPole-v1"))
    train = _example("train_cartpole")
    args = ["--address", server.address, "--iterations", "4", "--seed", "3"]
    first, second = train.main(args), train.main(args)
    assert first == second
    assert first >= 9.0  # CartPole pays 1 per step; an episode lasts at least 8 steps


@pytest.mark.parametrize(("task", "most_steps"), [("easy", 7), ("hard", 10)])
def test_the_text_env_is_won_by_binary_search(
    start_server: StartServer, task: str, most_steps: int
) -> None:
    server = start_server(load_env_factory(str(EXAMPLES / "text_env.py") + ":make_env"))
    play = _example("play_text_env")
    for seed in range(3):
        steps = play.main(["--address", server.address, "--task", task, "--seed", str(seed)])
        assert 1 <= steps <= most_steps


def test_the_text_env_refuses_an_unknown_task(start_server: StartServer) -> None:
    server = start_server(load_env_factory(str(EXAMPLES / "text_env.py") + ":make_env"))
    with EnvClient(server.address) as client:
        spec = client.describe()
        with pytest.raises(errors.InvalidArgument, match="unknown task_id 'medium'"):
            client.reset(task_id="medium")
        reply = client.reset(seed=0, task_id="hard")
    assert spec.observation_space.contains(reply.observation)
