"""The REINFORCE example learns CartPole through a batched RemoteVectorEnv on a real server."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from PIL import Image

from processes import ROOT, Served

RANDOM_POLICY_MEAN = 22.0  # CartPole-v1 under uniformly random actions
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cartpole() -> Iterator[Served]:
    served = Served("gymnasium:CartPole-v1")
    yield served
    assert served.stop() == 0


@pytest.fixture(scope="module")
def example() -> ModuleType:
    path = ROOT / "examples" / "python" / "train_cartpole_reinforce.py"
    spec = importlib.util.spec_from_file_location("train_cartpole_reinforce", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_trainer_learns_what_a_random_policy_never_reaches(
    cartpole: Served, example: ModuleType, tmp_path: pathlib.Path
) -> None:
    curve = tmp_path / "curve.png"
    args = ["--address", cartpole.address, "--seed", "1", "--max-steps", "40000"]
    run = example.main([*args, "--plot", str(curve)])
    assert run.steps <= 40_000 + 16  # one batched step of 16 sub-envs past the budget at most
    assert len(run.returns) >= 100
    assert sum(run.returns[:20]) / 20 < 2 * RANDOM_POLICY_MEAN  # it starts near random
    assert run.mean(100) >= 100.0  # over 4x what a random policy averages
    with Image.open(curve) as image:
        assert image.format == "PNG"
        assert image.size == (800, 480)


def test_a_seed_makes_the_same_run(cartpole: Served, example: ModuleType) -> None:
    args = ["--address", cartpole.address, "--seed", "5", "--max-steps", "3000"]
    first, second = example.main(args), example.main(args)
    assert first.returns == second.returns
    assert first.ended_at == second.ended_at
