"""Gymnasium both ways: a served Gymnasium env, driven through `RemoteEnv`, is CartPole itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from openenv_grpc import errors
from openenv_grpc.adapters.gymnasium import gymnasium_factory
from openenv_grpc.client import EnvClient, RemoteEnv

from conftest import StartServer
from serverutil import ServerThread
from testenvs import AllSpacesEnv, BytesEnv, CounterEnv


@pytest.fixture
def cartpole(start_server: StartServer) -> ServerThread:
    return start_server(gymnasium_factory("CartPole-v1"))


@pytest.fixture
def remote(cartpole: ServerThread) -> Iterator[RemoteEnv]:
    env = RemoteEnv(cartpole.address)
    yield env
    env.close()


def test_remote_env_is_a_gymnasium_env_with_the_served_spaces(remote: RemoteEnv) -> None:
    local = gym.make("CartPole-v1")
    assert isinstance(remote, gym.Env)
    assert remote.observation_space == local.observation_space
    assert remote.action_space == local.action_space
    assert remote.metadata["render_fps"] == local.metadata["render_fps"]
    assert remote.remote_spec.env_name == "CartPole-v1"


@pytest.mark.parametrize("seed", [0, 42, 2**32 + 5])
def test_seeded_episodes_match_local_gymnasium_step_for_step(remote: RemoteEnv, seed: int) -> None:
    local = gym.make("CartPole-v1")
    policy = np.random.default_rng(seed)
    for episode in range(2):
        episode_seed = seed if episode == 0 else None  # seed once, as Gymnasium intends
        obs, info = remote.reset(seed=episode_seed)
        local_obs, local_info = local.reset(seed=episode_seed)
        np.testing.assert_array_equal(obs, local_obs)
        assert obs.dtype == local_obs.dtype == np.float32
        assert info == local_info
        done = False
        while not done:
            action = int(policy.integers(2))
            got = remote.step(action)
            want = local.step(action)
            np.testing.assert_array_equal(got[0], want[0])
            assert got[1:] == want[1:]
            done = got[2] or got[3]


def test_truncation_at_the_time_limit_comes_through(start_server: StartServer) -> None:
    server = start_server(gymnasium_factory("CartPole-v1", max_episode_steps=8))
    env = RemoteEnv(server.address)
    env.reset(seed=3)
    # Alternating pushes keep the pole up far longer than 8 steps.
    outcomes = [env.step(step % 2)[2:4] for step in range(8)]
    env.close()
    assert outcomes == [(False, False)] * 7 + [(False, True)]


def test_gymnasium_env_checker_accepts_remote_env(remote: RemoteEnv) -> None:
    check_env(remote, skip_render_check=True)


def test_gymnasium_wrappers_work_unchanged(cartpole: ServerThread) -> None:
    env = gym.wrappers.RecordEpisodeStatistics(RemoteEnv(cartpole.address))
    env.reset(seed=1)
    info: dict[str, Any] = {}
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        done = terminated or truncated
    assert info["episode"]["l"] >= 1
    env.close()


def test_remote_env_chooses_its_task_and_keeps_the_reward_breakdown(
    start_server: StartServer,
) -> None:
    server = start_server(CounterEnv)
    env = RemoteEnv(server.address, task_id="easy")
    _, info = env.reset()
    assert info["task_id"] == "easy"
    *_, info = env.step(2)
    assert info["reward_components"] == {"base": 2.0, "bonus": 0.5}
    env.close()
    refusing = RemoteEnv(server.address, task_id="refuse")
    with pytest.raises(errors.InvalidArgument, match="refused on purpose"):
        refusing.reset()
    refusing.close()


def test_every_space_kind_round_trips_through_a_real_server(start_server: StartServer) -> None:
    server = start_server(AllSpacesEnv)
    env = RemoteEnv(server.address)
    try:
        assert env.observation_space == AllSpacesEnv.observation_space
        assert env.action_space == AllSpacesEnv.action_space
        obs, _ = env.reset(seed=5)
        assert env.observation_space.contains(obs)
        env.action_space.seed(11)
        for _ in range(5):
            action = env.action_space.sample()
            echoed, reward, *_ = env.step(action)
            assert reward == 1.0
            assert env.observation_space.contains(echoed)
            _assert_same_sample(echoed, action)
    finally:
        env.close()


def _assert_same_sample(got: Any, want: Any) -> None:
    if isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            _assert_same_sample(got[key], want[key])
    elif isinstance(want, tuple):
        assert isinstance(got, tuple)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_same_sample(g, w)
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    else:
        assert got == want
        assert type(got) is type(want) or isinstance(want, np.integer)


def test_sixteen_mib_observations_round_trip_byte_exact(start_server: StartServer) -> None:
    server = start_server(BytesEnv)
    with EnvClient(server.address) as client, client.stream() as stream:
        obs = stream.reset(seed=9).observation
        expected = np.random.default_rng(9).integers(0, 256, size=16 * 2**20, dtype=np.uint8)
        assert obs.tobytes() == expected.tobytes()
        action = expected[::-1].copy()
        assert stream.step(action).observation.tobytes() == action.tobytes()
