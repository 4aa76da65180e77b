"""Batched sessions, lean and in worker processes: the numbers and infos of Gymnasium's
SyncVectorEnv in every autoreset mode, infos on the wire in either layout, a worker killed
or hung mid-run, and no process left behind by a closed session or a stopped server."""

from __future__ import annotations

import os
import pathlib
import select
import signal
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from openenv_grpc import vector_infos
from openenv_grpc.adapters.gymnasium import GymnasiumEnvironment, gymnasium_factory
from openenv_grpc.client import EnvClient, RemoteVectorEnv
from openenv_grpc.env import Environment
from openenv_grpc.server import EnvServer, ServerConfig
from openenv_grpc.server.app import EnvFactoryFailed
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import values_pb2

from conftest import StartServer
from processes import Served
from serverutil import ServerThread
from test_batched import assert_same, local_cartpoles, run_side_by_side
from testenvs import CounterEnv
from vectorenvs import InfoEnv

PROCESSES = [0, 2]
TESTS = pathlib.Path(__file__).resolve().parent


def make_info_env() -> Environment:
    return GymnasiumEnvironment(InfoEnv())


def info_server(start_server: StartServer, processes: int, **config: Any) -> ServerThread:
    """A server of InfoEnv; with processes, its workers make theirs from the ENV spec."""
    return start_server(
        make_info_env, vector_processes=processes, env_spec="vectorenvs:InfoEnv", **config
    )


def local_info_envs(n: int, mode: AutoresetMode) -> SyncVectorEnv:
    return SyncVectorEnv([InfoEnv for _ in range(n)], autoreset_mode=mode)


def drive_side_by_side(remote: RemoteVectorEnv, local: SyncVectorEnv, steps: int) -> int:
    """Same seeds and actions (0, 1 and 2) on both; every output equal, infos included
    (keys, masks, values, dtypes). Returns how many steps had infos only some sub-envs
    have, so a test can tell its infos were not trivial."""
    assert_same(remote.reset(seed=5), local.reset(seed=5), "reset")
    rng = np.random.default_rng(9)
    partial = 0
    for t in range(steps):
        actions = rng.integers(0, 3, size=local.num_envs)
        got, want = remote.step(actions), local.step(actions)
        for name, g, w in zip(("obs", "rew", "term", "trunc", "info"), got, want, strict=True):
            assert_same(g, w, f"step {t} {name}")
        partial += any(not mask.all() for key, mask in want[4].items() if key.startswith("_"))
        ended = want[2] | want[3]
        if remote.autoreset_mode is AutoresetMode.DISABLED and ended.any():
            mask = {"reset_mask": ended}
            assert_same(
                remote.reset(options=dict(mask)), local.reset(options=dict(mask)), f"mask {t}"
            )
    return partial


@pytest.mark.parametrize("processes", PROCESSES, ids=lambda p: f"{p}proc")
@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
def test_infos_equal_sync_vector_env(
    start_server: StartServer, mode: AutoresetMode, processes: int
) -> None:
    server = info_server(start_server, processes)
    remote = RemoteVectorEnv(server.address, 5, autoreset_mode=mode)
    try:
        assert drive_side_by_side(remote, local_info_envs(5, mode), 60) > 10
        if processes:
            assert len(server.call(server.server.sessions.worker_pids)) == processes
    finally:
        remote.close()


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
def test_cartpole_in_worker_processes_equals_sync_vector_env(
    start_server: StartServer, mode: AutoresetMode
) -> None:
    server = start_server(
        gymnasium_factory("CartPole-v1"), vector_processes=2, env_spec="gymnasium:CartPole-v1"
    )
    remote = RemoteVectorEnv(server.address, 7, autoreset_mode=mode)
    try:
        assert run_side_by_side(remote, local_cartpoles(7, mode), 120) > 7
    finally:
        remote.close()


def test_servers_with_and_without_workers_act_as_one_vector_env(
    start_server: StartServer,
) -> None:
    """Each server's infos go into their place in the whole batch (scatter)."""
    first, second = info_server(start_server, 0), info_server(start_server, 2)
    mode = AutoresetMode.SAME_STEP
    remote = RemoteVectorEnv([(first.address, 3), (second.address, 4)], autoreset_mode=mode)
    try:
        assert drive_side_by_side(remote, local_info_envs(7, mode), 40) > 10
    finally:
        remote.close()


def test_describe_says_how_many_worker_processes(start_server: StartServer) -> None:
    for processes in PROCESSES:
        server = info_server(start_server, processes)
        with EnvClient(server.address) as client:
            assert client.describe().capabilities.vector_processes == processes


def raw_reset_batch(address: str, layout: int) -> pb.ResetBatchResponse:
    """A ResetBatch as a client of protocol 1.3 (no layout) or 1.4 sends it."""
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        request = pb.ResetBatchRequest(
            new_session=pb.NewBatchSession(num_envs=3, info_layout=layout)  # type: ignore[arg-type]
        )
        request.all.seed = 4
        return stub.ResetBatch(request)


@pytest.mark.parametrize("processes", PROCESSES, ids=lambda p: f"{p}proc")
def test_a_client_that_asks_for_no_layout_gets_one_info_per_sub_env(
    start_server: StartServer, processes: int
) -> None:
    server = info_server(start_server, processes)
    old = raw_reset_batch(server.address, pb.INFO_LAYOUT_UNSPECIFIED)
    assert len(old.infos) == 3
    assert not old.HasField("vector_info")
    new = raw_reset_batch(server.address, pb.INFO_LAYOUT_VECTOR)
    assert not new.infos
    layout = vector_infos.decode(new.vector_info)
    assert layout["limit"].dtype == np.int64
    assert layout["_seed"].tolist() == [True, True, True]
    # The same infos either way (the same seeds make the same episodes).
    assert vector_infos.unbatch(layout, 3) == [
        {"limit": int(info.entries[0].value.int_value), "start": "fresh", "seed": 4 + i}
        for i, info in enumerate(old.infos)
    ]


@pytest.mark.parametrize("processes", PROCESSES, ids=lambda p: f"{p}proc")
def test_batch_replies_give_infos_per_sub_env_and_in_vector_layout(
    start_server: StartServer, processes: int
) -> None:
    server = start_server(CounterEnv, vector_processes=processes)
    with EnvClient(server.address) as client:
        reset = client.reset_batch(3, options={"start": 1})
        assert [info["options"] for info in reset.infos] == [{"start": 1}] * 3
        assert reset.info["_options"].tolist() == [True] * 3
        step = client.step_batch(reset.session_id, np.array([1, 3, 2]))
        assert list(step.errors) == [1]  # sub-env 1 raised (in its worker, with processes)
        assert step.errors[1].reason == "ENV_ERROR"
        assert "action 3 breaks the counter" in step.errors[1].message
        np.testing.assert_array_equal(step.env_ids, [0, 2])
        np.testing.assert_array_equal(step.observations, [[2], [3]])
        np.testing.assert_array_equal(step.reward_components["bonus"], [0.5, 0.5])
        assert step.infos == [
            {"count": c, "nested": {"list": [1, "two", None], "flag": True}} for c in (2, 3)
        ]
        np.testing.assert_array_equal(step.info["count"], [2, 3])
        assert step.info["nested"]["list"].tolist() == [[1, "two", None]] * 2
        state = client.state(reset.session_id)
        assert state.state == [{"count": 2}, {"count": 1}, {"count": 3}]


def wait_gone(pid: int, timeout: float = 30.0) -> None:
    """Until process `pid` has exited (a pidfd turns readable: no polling, no sleep)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"process {pid} is still running"
    finally:
        os.close(fd)


@pytest.fixture
def counters(start_server: StartServer) -> ServerThread:
    return start_server(CounterEnv, vector_processes=2, step_timeout=30.0)


def test_a_killed_worker_is_an_env_error_of_its_sub_envs_and_is_replaced(
    counters: ServerThread,
) -> None:
    with EnvClient(counters.address) as client, client.stream() as stream:
        stream.reset_batch(4)
        np.testing.assert_array_equal(
            stream.step_batch(np.ones(4, dtype=np.int64)).observations[:, 0], [1] * 4
        )
        first, second = counters.call(counters.server.sessions.worker_pids)
        os.kill(first, signal.SIGKILL)
        wait_gone(first)
        step = stream.step_batch(np.ones(4, dtype=np.int64))
        assert sorted(step.errors) == [0, 1]  # the killed worker's sub-envs
        for error in step.errors.values():
            assert error.reason == "ENV_ERROR"
            assert "died (killed by SIGKILL)" in error.message
        np.testing.assert_array_equal(step.env_ids, [2, 3])
        np.testing.assert_array_equal(step.observations[:, 0], [2, 2])
        # The run goes on: a new worker holds sub-envs 0 and 1, which start new episodes.
        step = stream.step_batch(np.ones(4, dtype=np.int64))
        assert not step.errors
        np.testing.assert_array_equal(step.observations[:, 0], [0, 0, 3, 3])
        np.testing.assert_array_equal(step.rewards, [0.0, 0.0, 1.0, 1.0])
        replacement, same = counters.call(counters.server.sessions.worker_pids)
        assert (replacement != first, same) == (True, second)
        assert stream.state().step_count == 3


def test_a_hung_worker_is_killed_after_the_step_timeout_and_replaced(
    start_server: StartServer,
) -> None:
    server = start_server(
        make_info_env,
        vector_processes=2,
        env_spec="vectorenvs:hanging_info_env",
        step_timeout=1.0,
    )
    with EnvClient(server.address) as client, client.stream() as stream:
        stream.reset_batch(4, seed=1)
        hung, other = server.call(server.server.sessions.worker_pids)
        step = stream.step_batch(np.array([0, 2, 0, 0]))  # sub-env 1 hangs, in worker 0
        assert sorted(step.errors) == [0, 1]
        for error in step.errors.values():
            assert (error.reason, error.metadata["timeout_seconds"]) == ("ENV_TIMEOUT", "1")
        np.testing.assert_array_equal(step.env_ids, [2, 3])
        wait_gone(hung)
        step = stream.step_batch(np.zeros(4, dtype=np.int64))
        assert not step.errors
        np.testing.assert_array_equal(step.observations[:2, 0], [0, 0])  # new episodes
        assert server.call(server.server.sessions.worker_pids)[1] == other


def test_closing_a_session_ends_its_workers(counters: ServerThread) -> None:
    with EnvClient(counters.address) as client:
        session = client.reset_batch(5).session_id
        pids = counters.call(counters.server.sessions.worker_pids)
        assert len(pids) == 2
        client.close_session(session)
    for pid in pids:
        wait_gone(pid)
    assert counters.call(counters.server.sessions.worker_pids) == []


def test_a_factory_that_does_not_pickle_needs_an_env_spec() -> None:
    with pytest.raises(EnvFactoryFailed, match="ENV spec"):
        EnvServer(lambda: CounterEnv(), ServerConfig(port=0, vector_processes=2))


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, theirs, ...), from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in pathlib.Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


@pytest.fixture
def served() -> Iterator[Served]:
    server = Served("gymnasium:CartPole-v1", "--vector-processes", "2", "--drain-seconds", "0")
    yield server
    server.kill()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_stopped_server_leaves_no_process_behind(served: Served, how: str) -> None:
    remote = RemoteVectorEnv(served.address, 6)
    remote.reset(seed=0)
    remote.step(np.ones(6, dtype=np.int64))
    below = descendants(served.proc.pid)
    assert len(below) >= 3, below  # the forkserver and two workers (and a resource tracker)
    if how == "SIGKILL":
        served.kill()
    else:
        assert served.stop(signal.SIGTERM) == 0
    remote.close()
    for pid in below:
        wait_gone(pid)


def test_the_vector_layout_round_trips_and_scatters_as_gymnasium_adds() -> None:
    """Infos of sub-envs 1, 3, 4 of 6: laid out for those three, sent over the wire and
    placed at their positions, they equal Gymnasium's layout of all six."""
    infos = {
        1: {"n": 1, "x": 0.5, "ok": True, "tag": "a", "arr": np.arange(2, dtype=np.int16)},
        3: {"n": 3, "none": None, "deep": {"k": np.float32(1.5), "s": [1, "two"]}},
        4: {"x": 2.5, "tag": None, "deep": {}, "final_obs": np.ones(3, dtype=np.float32)},
    }
    where = np.array(sorted(infos), dtype=np.int64)
    part = vector_infos.build([(k, infos[i]) for k, i in enumerate(where.tolist())], 3)
    wire = vector_infos.encode(part, values_pb2.MapValue()).SerializeToString()
    decoded = vector_infos.decode(values_pb2.MapValue.FromString(wire))
    assert_same(decoded, part, "wire")
    whole = vector_infos.scatter({}, decoded, where, 6)
    assert_same(whole, vector_infos.build(sorted(infos.items()), 6), "scatter")
    each = vector_infos.unbatch(whole, 6)
    assert [bool(info) for info in each] == [False, True, False, True, True, False]
    assert (each[1]["tag"], each[4]["tag"]) == ("a", None)
    assert each[3]["deep"] == {"k": np.float32(1.5), "s": [1, "two"]}
    assert (type(each[1]["n"]), each[4]["deep"]) == (int, {})
