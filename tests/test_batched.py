"""Batched sessions: the same numbers as Gymnasium's own vector envs, and EnvPool-style async."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from openenv_grpc import errors
from openenv_grpc.adapters.gymnasium import gymnasium_factory
from openenv_grpc.client import EnvClient, RemoteVectorEnv

from conftest import StartServer
from serverutil import ServerThread
from testenvs import AllSpacesEnv, CounterEnv, LatchEnv


@pytest.fixture
def cartpole(start_server: StartServer) -> ServerThread:
    return start_server(gymnasium_factory("CartPole-v1"))


@pytest.fixture
def latch() -> Iterator[type[LatchEnv]]:
    LatchEnv.latch.clear()
    yield LatchEnv
    LatchEnv.latch.set()


def local_cartpoles(n: int, mode: AutoresetMode) -> SyncVectorEnv:
    return SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(n)], autoreset_mode=mode)


def assert_same(got: Any, want: Any, where: str) -> None:
    """Deep equality of vector-env outputs: arrays (object arrays too), dicts, scalars."""
    if isinstance(want, tuple):
        assert len(got) == len(want), where
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{k}]")
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, np.ndarray) and want.dtype == object:
        assert got.shape == want.shape, where
        for g, w in zip(got, want, strict=True):
            assert_same(g, w, where)
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), where
        assert got.dtype == want.dtype, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    else:
        assert got == want, where


def run_side_by_side(remote: RemoteVectorEnv, local: SyncVectorEnv, steps: int) -> int:
    """Drive both with the same seeds and actions; return how many episodes ended."""
    mode = remote.autoreset_mode
    assert_same(remote.reset(seed=11), local.reset(seed=11), "reset")
    rng = np.random.default_rng(3)
    ended_total = 0
    for t in range(steps):
        actions = rng.integers(0, 2, size=local.num_envs)
        got, want = remote.step(actions), local.step(actions)
        for name, g, w in zip(("obs", "rew", "term", "trunc", "info"), got, want, strict=True):
            assert_same(g, w, f"step {t} {name}")
        ended = want[2] | want[3]
        ended_total += int(ended.sum())
        if mode is AutoresetMode.DISABLED and ended.any():
            mask = {"reset_mask": ended}
            assert_same(
                remote.reset(options=dict(mask)), local.reset(options=dict(mask)), f"mask {t}"
            )
    return ended_total


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
def test_batched_stepping_equals_sync_vector_env(
    cartpole: ServerThread, mode: AutoresetMode
) -> None:
    remote = RemoteVectorEnv(cartpole.address, 6, autoreset_mode=mode)
    local = local_cartpoles(6, mode)
    try:
        assert remote.observation_space == local.observation_space
        assert remote.action_space == local.action_space
        assert run_side_by_side(remote, local, 150) > 6  # autoreset really happened
    finally:
        remote.close()


def test_several_servers_act_as_one_vector_env(start_server: StartServer) -> None:
    first = start_server(gymnasium_factory("CartPole-v1"))
    second = start_server(gymnasium_factory("CartPole-v1"))
    remote = RemoteVectorEnv([(first.address, 3), (second.address, 5)])
    local = local_cartpoles(8, AutoresetMode.NEXT_STEP)
    try:
        assert remote.num_envs == 8
        assert run_side_by_side(remote, local, 80) > 0
        assert len(set(remote.session_ids)) == 2
    finally:
        remote.close()


def test_parallel_vector_workers_give_the_same_numbers(start_server: StartServer) -> None:
    server = start_server(gymnasium_factory("CartPole-v1"), vector_workers=3)
    remote = RemoteVectorEnv(server.address, 7, autoreset_mode=AutoresetMode.SAME_STEP)
    try:
        run_side_by_side(remote, local_cartpoles(7, AutoresetMode.SAME_STEP), 60)
    finally:
        remote.close()


def test_batched_observations_of_nested_spaces_round_trip(start_server: StartServer) -> None:
    server = start_server(AllSpacesEnv)
    remote = RemoteVectorEnv(server.address, 4)
    try:
        obs, _ = remote.reset(seed=1)
        assert remote.observation_space.contains(obs)
        remote.action_space.seed(2)
        actions = remote.action_space.sample()
        echoed, rewards, *_ = remote.step(actions)
        np.testing.assert_array_equal(rewards, np.ones(4))
        assert remote.observation_space.contains(echoed)
        np.testing.assert_array_equal(echoed["image"], actions["image"])
        assert echoed["text"] == actions["text"]
        np.testing.assert_array_equal(echoed["nested"][1]["z"], actions["nested"][1]["z"])
    finally:
        remote.close()


def test_unary_batched_calls_and_state(start_server: StartServer) -> None:
    server = start_server(CounterEnv)
    with EnvClient(server.address) as client:
        reset = client.reset_batch(3, autoreset_mode=AutoresetMode.DISABLED, options={"start": 1})
        np.testing.assert_array_equal(reset.env_ids, [0, 1, 2])
        np.testing.assert_array_equal(reset.observations, [[1], [1], [1]])
        assert [info["options"] for info in reset.infos] == [{"start": 1}] * 3
        step = client.step_batch(reset.session_id, np.array([2, 1], dtype=np.int64), env_ids=[2, 0])
        np.testing.assert_array_equal(step.env_ids, [2, 0])
        np.testing.assert_array_equal(step.observations, [[3], [2]])
        np.testing.assert_array_equal(step.rewards, [2.0, 1.0])
        assert list(step.reward_components) == ["base", "bonus"]  # one tensor per component
        np.testing.assert_array_equal(step.reward_components["base"], [2.0, 1.0])
        np.testing.assert_array_equal(step.reward_components["bonus"], [0.5, 0.5])
        assert step.step_index == 1
        state = client.state(reset.session_id)
        assert state.state == [{"count": 2}, {"count": 1}, {"count": 3}]
        assert state.step_count == 1


def test_batched_requests_that_cannot_be_served(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_num_envs=4)
    with EnvClient(server.address) as client:
        with pytest.raises(errors.ResourceExhausted, match="at most 4 sub-environments") as big:
            client.reset_batch(5)
        assert (big.value.reason, big.value.metadata) == (
            "ENV_LIMIT",
            {"limit": "4", "requested": "5"},
        )
        session = client.reset_batch(4, autoreset_mode=AutoresetMode.DISABLED).session_id
        for bad_ids in ([0, 0], [4], [-1]):
            with pytest.raises(errors.InvalidArgument, match="distinct sub-env ids in"):
                client.step_batch(session, np.ones(len(bad_ids), dtype=np.int64), env_ids=bad_ids)
        with pytest.raises(errors.InvalidArgument, match="action space"):
            client.step_batch(session, np.ones(3, dtype=np.int64))  # 3 actions for 4 sub-envs
        for _ in range(2):
            client.step_batch(session, np.array([2, 2, 2, 2]))  # ... up to the limit, 10
        done = client.step_batch(session, np.array([2, 2, 2, 2]))
        ended = client.step_batch(session, np.array([2, 2, 2, 2]))
        assert not done.terminations.any()
        assert not ended.terminations.any()
        final = client.step_batch(session, np.array([2, 2, 2, 2]))
        assert final.terminations.all()
        with pytest.raises(errors.FailedPrecondition, match="autoreset is disabled"):
            client.step_batch(session, np.array([1, 1, 1, 1]))
        client.reset_batch(session_id=session, env_ids=[1])
        assert client.step_batch(session, np.array([1]), env_ids=[1]).observations[0][0] == 1
        single = client.reset().session_id
        with pytest.raises(errors.FailedPrecondition, match="single-env session") as kind:
            client.step_batch(single, np.array([1]), env_ids=[0])
        assert kind.value.reason == "WRONG_SESSION_KIND"


def test_a_sub_env_exception_is_its_own_error_and_autoreset_restarts_it(
    start_server: StartServer,
) -> None:
    server = start_server(CounterEnv)
    with EnvClient(server.address) as client:
        session = client.reset_batch(2).session_id
        failed = client.step_batch(session, np.array([1, 3]))
        # Sub-env 1 failed on its own: sub-env 0's result is kept.
        np.testing.assert_array_equal(failed.env_ids, [0])
        np.testing.assert_array_equal(failed.observations, [[1]])
        assert list(failed.errors) == [1]
        assert isinstance(failed.errors[1], errors.Internal)
        assert failed.errors[1].reason == "ENV_ERROR"
        assert "action 3 breaks the counter" in failed.errors[1].message
        step = client.step_batch(session, np.array([1, 1]))
        np.testing.assert_array_equal(step.observations, [[2], [0]])  # sub-env 1 was reset
        assert step.rewards[1] == 0.0


def test_send_and_recv_return_exactly_the_sub_envs_that_are_ready(
    start_server: StartServer, latch: type[LatchEnv]
) -> None:
    server = start_server(latch)
    with EnvClient(server.address) as client, client.stream() as stream:
        stream.reset_batch(4)
        stream.send(np.array([2, 1, 1]), env_ids=[0, 1, 3])  # sub-env 0 is held
        first = stream.recv(2)
        assert sorted(first.env_ids.tolist()) == [1, 3]
        np.testing.assert_array_equal(first.observations, [[1], [1]])
        with pytest.raises(errors.FailedPrecondition, match="still stepping"):
            stream.send(np.array([1]), env_ids=[0])
        with pytest.raises(errors.FailedPrecondition, match="recv them first"):
            stream.step_batch(np.array([1, 1, 1, 1]))
        stream.send(np.array([1]), env_ids=[3])
        latch.latch.set()
        rest = stream.recv(0)  # everything in flight
        pairs = zip(rest.env_ids.tolist(), rest.observations[:, 0].tolist(), strict=True)
        assert sorted(pairs) == [
            (0, 2),
            (3, 2),
        ]
        with pytest.raises(errors.FailedPrecondition, match="send actions first"):
            stream.recv(1)
        assert stream.step_batch(np.array([1, 1, 1, 1])).observations[:, 0].tolist() == [
            3,
            2,
            1,
            3,
        ]


def test_send_on_a_single_env_session_is_refused_in_band(start_server: StartServer) -> None:
    server = start_server(CounterEnv)
    with EnvClient(server.address) as client, client.stream() as stream:
        stream.reset()  # a single-env session
        with pytest.raises(errors.FailedPrecondition, match="single-env session") as send:
            stream.send(np.array([1]), env_ids=[0])
        assert send.value.reason == "WRONG_SESSION_KIND"
        with pytest.raises(errors.FailedPrecondition, match="single-env session") as recv:
            stream.recv(1)
        assert recv.value.reason == "WRONG_SESSION_KIND"
        assert stream.step(1).step_index == 1  # the stream goes on


def test_a_batch_of_one_is_still_a_vector_env(cartpole: ServerThread) -> None:
    remote = RemoteVectorEnv(cartpole.address, 1)
    try:
        run_side_by_side(remote, local_cartpoles(1, AutoresetMode.NEXT_STEP), 40)
    finally:
        remote.close()


def test_batched_sessions_turned_off_are_said_so_and_refused(start_server: StartServer) -> None:
    server = start_server(CounterEnv, max_num_envs=0)
    with EnvClient(server.address) as client:
        capabilities = client.describe().capabilities
        assert (capabilities.batched, capabilities.max_num_envs) == (False, 0)
        with pytest.raises(
            errors.ResourceExhausted, match="batched sessions are turned off"
        ) as off:
            client.reset_batch(1)
        assert (off.value.reason, off.value.metadata) == (
            "ENV_LIMIT",
            {"limit": "0", "requested": "1"},
        )
        assert client.step(client.reset().session_id, 1).step_index == 1  # single envs serve on
