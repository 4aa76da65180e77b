"""Trainers across pods (issue #13, sections 4 and 5): real `openenv-grpc serve` processes
on 127.0.0.1, .2 and .3, killed with SIGKILL, drained with SIGTERM and restarted on the
same address and port, while a trainer steps on.

The env (`tests/failoverenvs.py`) shows [nonce, count] and terminates at a length its
nonce decides, so the trainer's side (`Book`) checks every row of every step: an episode
goes on (same nonce, count + 1), or ends (terminated exactly at its length, or truncated
because its server was lost, with the reason in info), or the row after an end is a reset
(count 0, a nonce never seen). So an episode lost silently (the nonce changes without an
end) or counted twice (an end right after an end, a nonce in two episodes) fails. Each
server process also writes the nonces of its resets to a file, so every episode the
trainer saw is checked to have run on exactly one server.

Waiting is done on process exits, health Watch, a FIFO the env writes to while a test
holds its step (and an flock the step waits on), and replies; no sleeps, no clocks
asserted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import select
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
import gymnasium as gym
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from openenv_grpc import errors
from openenv_grpc.client import EnvClient, RemoteEnv, RemoteVectorEnv, ServerLoad
from openenv_grpc.errors import Reason

from failoverenvs import HOLD, IN_STEP, LEDGER, episode_length, recorded
from processes import Served

ENV = "tests/failoverenvs.py:NonceEnv"
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
SERVICE = "openenv.v1.EnvService"
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
CALL = 30.0  # client deadline: far above anything a loopback call takes
WAIT = 60.0  # the most any bounded wait here may take before the test fails
NUM_ENVS = 12
MANY_STEPS = 20_000  # a bound on loops that step until a server has gone


# --- servers ---


@dataclass
class Server:
    """One server process, and the file its env writes the nonces of its resets to."""

    served: Served
    ledger: pathlib.Path

    @property
    def address(self) -> str:
        return self.served.address

    @property
    def host_port(self) -> tuple[str, str]:
        host, _, port = self.address.rpartition(":")
        return host, port


Serve = Callable[..., list[Server]]
"""Starts servers at once, one per (host, flags..., [environ]) given."""


@pytest.fixture
def serve(tmp_path: pathlib.Path) -> Iterator[Serve]:
    """Start `serve ENV` processes at once, one per (host, flags..., [environ]) given;
    killed after."""
    started: list[Served] = []
    count = iter(range(1000))

    def start_one(host: str, *rest: str | dict[str, str]) -> Server:
        flags = [flag for flag in rest if isinstance(flag, str)]
        environ = {k: v for part in rest if isinstance(part, dict) for k, v in part.items()}
        ledger = tmp_path / f"ledger-{host}-{next(count)}"
        served = Served(ENV, "--host", host, *flags, env={LEDGER: str(ledger), **environ})
        started.append(served)
        return Server(served, ledger)

    def start(*servers: tuple[Any, ...]) -> list[Server]:
        with ThreadPoolExecutor(len(servers)) as pool:
            return list(pool.map(lambda server: start_one(*server), servers))

    yield start
    for served in started:
        served.kill()


def restart(server: Server, serve: Serve, *flags: str) -> Server:
    """The same address and port again, in a new process (with a new ledger file)."""
    host, port = server.host_port
    (new,) = serve((host, "--port", port, *flags))
    assert new.address == server.address
    return new


def kill(server: Server) -> None:
    """SIGKILL, and wait for the process to be gone."""
    server.served.proc.send_signal(signal.SIGKILL)
    assert server.served.wait(WAIT) == -signal.SIGKILL


def watch_until(address: str, wanted: int) -> None:
    """Follow health Watch of the env service until it reports `wanted`."""
    with grpc.insecure_channel(address) as channel:
        updates = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=WAIT
        )
        for update in updates:
            if update.status == wanted:
                return
    raise AssertionError(f"{address}'s health Watch ended before it said {wanted}")


def load_of(address: str) -> ServerLoad:
    with EnvClient(address, timeout=CALL) as client:
        return client.load()[1]


# --- the trainer's books ---


CONTINUES, ENDS, LOST, RESETS, WAITS = "continues", "ends", "lost", "resets", "waits"


@dataclass
class Book:
    """Every row of every step checked against the one before it, per sub-env."""

    num_envs: int
    last: np.ndarray = field(init=False)  # the last observation of each sub-env
    ended: np.ndarray = field(init=False)  # whether its episode ended at its last row
    episodes: dict[int, int] = field(default_factory=dict)  # nonce -> sub-env it started on
    terminated: int = 0
    lost: list[tuple[int, str, str]] = field(default_factory=list)  # (sub-env, reason, message)
    steps: int = 0

    def start(self, observations: np.ndarray) -> None:
        assert observations.shape == (self.num_envs, 2)
        self.last = observations.copy()
        self.ended = np.zeros(self.num_envs, dtype=bool)
        for i, (nonce, count) in enumerate(observations.tolist()):
            assert count == 0, f"sub-env {i} starts at count {count}"
            self._new_episode(i, nonce)

    def step(self, result: tuple[Any, ...]) -> list[str]:
        """Check one step's rows; what each row was (CONTINUES, ENDS, LOST, RESETS, or
        WAITS: an error reported for a sub-env whose episode had already ended)."""
        observations, rewards, terminations, truncations, infos = result
        errors_at = _errors(infos, self.num_envs)
        kinds: list[str] = []
        self.steps += 1
        for i in range(self.num_envs):
            nonce, count = observations[i].tolist()
            before_nonce, before_count = self.last[i].tolist()
            reward, term, trunc = float(rewards[i]), bool(terminations[i]), bool(truncations[i])
            where = f"step {self.steps}, sub-env {i}: {observations[i]} after {self.last[i]}"
            error = errors_at.get(i)
            if self.ended[i]:
                if error is not None and not (term or trunc):
                    # Its server went away before its reset: nothing more to count.
                    assert (nonce, count, reward) == (before_nonce, before_count, 0.0), where
                    kinds.append(WAITS)
                    continue
                assert not term, f"{where}: an end right after an end (counted twice)"
                assert not trunc, f"{where}: an end right after an end (counted twice)"
                assert error is None, f"{where}: a reset row with an error {error}"
                assert count == 0, f"{where}: no reset row after the end of an episode"
                assert reward == 0.0, where
                self._new_episode(i, nonce)
                kinds.append(RESETS)
            elif error is not None:
                assert trunc, f"{where}: a lost episode must end truncated {error}"
                assert not term, f"{where}: a lost episode must end truncated {error}"
                assert (nonce, count, reward) == (before_nonce, before_count, 0.0), where
                reason, message = error
                assert reason, f"{where}: a lost episode without its reason"
                assert message, f"{where}: a lost episode without its message"
                self.lost.append((i, reason, message))
                kinds.append(LOST)
            else:
                assert nonce == before_nonce, f"{where}: the episode changed without an end"
                assert count == before_count + 1, f"{where}: a step lost or repeated"
                assert reward == 1.0, where
                assert not trunc, f"{where}: truncated without an error"
                assert term == (count == episode_length(nonce)), f"{where}: ends at its length"
                self.terminated += term
                kinds.append(ENDS if term else CONTINUES)
            self.ended[i] = kinds[-1] in (ENDS, LOST)
        self.last = np.array(observations, copy=True)
        return kinds

    def lose(self, where: list[int], error: errors.EnvError) -> None:
        """The episodes of these sub-envs ended with `error`, raised by a step."""
        assert not self.ended[where].any(), "an end right after an end (counted twice)"
        self.ended[where] = True
        self.lost.extend((i, error.reason or error.code.name, error.message) for i in where)

    def _new_episode(self, i: int, nonce: int) -> None:
        assert nonce not in self.episodes, f"the nonce {nonce} started two episodes"
        self.episodes[nonce] = i

    def check_counts(self) -> None:
        """Every episode started has ended once, or is still running."""
        running = int(np.sum(~self.ended))
        assert len(self.episodes) == self.terminated + len(self.lost) + running

    def check_servers(self, *servers: Server) -> None:
        """Every episode the trainer saw ran on exactly one server, and every reset a
        server made was seen by the trainer."""
        ran: dict[int, list[str]] = {}
        for server in servers:
            for nonce in recorded(server.ledger):
                ran.setdefault(nonce, []).append(server.ledger.name)
        twice = {nonce: where for nonce, where in ran.items() if len(where) > 1}
        assert not twice, f"episodes reset twice: {twice}"
        assert set(self.episodes) - set(ran) == set(), "episodes no server ran"
        assert set(ran) - set(self.episodes) == set(), "resets the trainer never saw"


def _errors(infos: dict[str, Any], n: int) -> dict[int, tuple[str, str]]:
    """(reason, message) of each sub-env with an error in its info."""
    if "_error" not in infos:
        return {}
    mask, error = infos["_error"], infos["error"]
    assert len(mask) == n
    return {
        int(i): (str(error["reason"][i]), str(error["message"][i])) for i in np.flatnonzero(mask)
    }


def sub_envs_at(envs: RemoteVectorEnv, address: str) -> list[int]:
    """The sub-envs whose batched sessions are on `address` now."""
    where: list[int] = []
    offset = 0
    for at, n in envs.placement:
        if at == address:
            where.extend(range(offset, offset + n))
        offset += n
    return where


ZEROS = np.zeros(NUM_ENVS, dtype=np.int64)


def step(envs: RemoteVectorEnv, book: Book) -> list[str]:
    return book.step(envs.step(ZEROS))


# --- holding a step in flight ---


class Hold:
    """Makes the next step of a server started with `environ` wait for `release()`, and
    tells when that step is in the env (see failoverenvs)."""

    def __init__(self, where: pathlib.Path) -> None:
        self.where = where
        os.mkfifo(where / "fifo")
        self._lock = open(where / "lock", "wb")  # noqa: SIM115 (held across calls)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._fifo = os.open(where / "fifo", os.O_RDONLY | os.O_NONBLOCK)

    @property
    def environ(self) -> dict[str, str]:
        return {HOLD: str(self.where)}

    def arm(self) -> None:
        """The next step of the held server's env waits."""
        (self.where / "marker").touch()

    def wait_in_step(self) -> None:
        """Until the held step is in the env (it says so through the FIFO)."""
        ready, _, _ = select.select([self._fifo], [], [], WAIT)
        assert ready, "no step came in to be held"
        assert os.read(self._fifo, 64) == IN_STEP

    def release(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def close(self) -> None:
        self.release()
        os.close(self._fifo)


@pytest.fixture
def hold(tmp_path: pathlib.Path) -> Iterator[Hold]:
    where = tmp_path / "hold"
    where.mkdir()
    held = Hold(where)
    yield held
    held.close()  # never leave a server's step waiting


# --- 1. the failover of section 5 ---


def test_a_trainer_steps_on_through_a_killed_a_drained_and_a_restarted_server(
    serve: Serve, hold: Hold
) -> None:
    a, b, c = serve((HOSTS[0],), (HOSTS[1], "--drain-seconds", "1", hold.environ), (HOSTS[2],))
    book = Book(NUM_ENVS)
    envs = RemoteVectorEnv([a.address, b.address, c.address], num_envs=NUM_ENVS, timeout=CALL)
    try:
        observations, _ = envs.reset(seed=0)
        book.start(observations)
        assert sorted(envs.placement) == sorted([(a.address, 4), (b.address, 4), (c.address, 4)]), (
            "three empty servers without limits share the sub-envs equally"
        )
        for _ in range(5):
            step(envs, book)

        # SIGKILL a, at a step after which some of its sub-envs just ended and some did not.
        on_a = sub_envs_at(envs, a.address)
        for _ in range(200):
            kinds = step(envs, book)
            if {kinds[i] for i in on_a} == {ENDS, CONTINUES}:
                break
        else:
            raise AssertionError("no step ended some of a's episodes and not others")
        just_ended = [i for i in on_a if kinds[i] == ENDS]
        kill(a)
        kinds = step(envs, book)
        assert [kinds[i] for i in on_a] == [WAITS if i in just_ended else LOST for i in on_a], (
            "a's sub-envs: running episodes end truncated with the reason, ended ones wait"
        )
        assert {i for i, kind in enumerate(kinds) if kind in (LOST, WAITS)} == set(on_a)
        assert "" in dict(envs.placement), "a's part waits to be made anew"
        # Back on the same address before the trainer's next step tries to reach it: a
        # channel that failed to connect waits out gRPC's reconnect backoff (1 s and up)
        # before it tries again, a race no test should run.
        a_again = restart(a, serve)
        kinds = step(envs, book)
        assert [kinds[i] for i in on_a] == [RESETS] * len(on_a), "made anew, on live servers"
        assert {address for address, _ in envs.placement} == {
            a_again.address,
            b.address,
            c.address,
        }, "the lost sub-envs are spread over the servers alive now, by their room"
        for _ in range(5):
            step(envs, book)

        # SIGTERM b while one of its steps is in the env; that step completes.
        on_b = sub_envs_at(envs, b.address)
        hold.arm()
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(envs.step, ZEROS)
            hold.wait_in_step()
            b.served.send(signal.SIGTERM)
            watch_until(b.address, NOT_SERVING)
            hold.release()
            result = held.result(WAIT)
        kinds = book.step(result)
        assert "_error" not in result[4], "the drained server's in-flight step completed"
        assert all(kinds[i] in (CONTINUES, ENDS, RESETS) for i in on_b), kinds

        # b's sub-envs go on until its drain ends, then end (or move) and come back elsewhere.
        reported: set[int] = set()
        reasons: set[str] = set()
        for _ in range(MANY_STEPS):
            result = envs.step(ZEROS)
            kinds = book.step(result)
            reported.update(i for i, kind in enumerate(kinds) if kind in (LOST, WAITS))
            reasons.update(reason for reason, _ in _errors(result[4], NUM_ENVS).values())
            if b.served.proc.poll() is not None and b.address not in dict(envs.placement):
                break
        else:
            raise AssertionError("b never finished its drain, or the trainer stayed on it")
        assert b.served.wait(WAIT) == 0, b.served.log
        assert "openenv-grpc draining" in b.served.log
        assert "openenv-grpc stopped" in b.served.log
        assert reported <= set(on_b), "only b's episodes end with its drain (with a reason)"
        assert reasons == {Reason.DRAINING}, "the end of a drain says so, not a lost connection"
        for _ in range(3):  # a lost sub-env's step, then its reset row, on a live server
            step(envs, book)
        assert {address for address, _ in envs.placement} <= {a_again.address, c.address}

        # Episodes run on the restarted server.
        on_a_again = sub_envs_at(envs, a_again.address)
        assert on_a_again, f"nothing placed on the restarted server: {envs.placement}"
        for _ in range(2 * max(episode_length(k) for k in range(6))):
            step(envs, book)
        assert load_of(a_again.address).batched_envs == len(on_a_again)
        assert recorded(a_again.ledger), "no episode ran on the restarted server"
    finally:
        envs.close()
    book.check_counts()
    book.check_servers(a, a_again, b, c)
    assert book.terminated > NUM_ENVS


# --- 2. placement by room ---


def test_sub_envs_are_spread_by_room_and_a_draining_server_gets_none(
    serve: Serve,
) -> None:
    x, y, z = serve(
        (HOSTS[0], "--max-envs", "8"),
        (HOSTS[1], "--max-envs", "16"),
        (HOSTS[2], "--max-envs", "0", "--drain-seconds", "60"),
    )
    addresses = [x.address, y.address, z.address]
    with contextlib.closing(RemoteVectorEnv(addresses, num_envs=24, timeout=CALL)) as envs:
        envs.reset(seed=1)
        assert dict(envs.placement) == {x.address: 4, y.address: 8, z.address: 12}
        assert [load_of(a).batched_envs for a in addresses] == [4, 8, 12]

    with EnvClient(z.address, timeout=CALL) as client, client.stream() as open_session:
        open_session.reset()
        z.served.send(signal.SIGTERM)
        watch_until(z.address, NOT_SERVING)
        with contextlib.closing(RemoteVectorEnv(addresses, num_envs=24, timeout=CALL)) as envs:
            envs.reset(seed=2)
            assert dict(envs.placement) == {x.address: 8, y.address: 16}
            assert load_of(z.address) == ServerLoad(1, 0, True, False)
            # No room left anywhere: the error says so (after the client's timeout).
            with (
                pytest.raises(errors.ResourceExhausted) as full,
                contextlib.closing(RemoteVectorEnv(addresses, num_envs=1, timeout=3)) as more,
            ):
                more.reset()
            assert full.value.reason == Reason.ENV_LIMIT
        open_session.step(0)  # the draining server's open session goes on


# --- 3. unary calls find their session's server ---


def test_unary_sessions_go_round_robin_and_calls_reach_their_owner(
    serve: Serve,
) -> None:
    servers = serve(*[(host,) for host in HOSTS])
    addresses = [server.address for server in servers]
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(EnvClient(addresses, timeout=CALL))
        direct = {a: stack.enter_context(EnvClient(a, timeout=CALL)) for a in addresses}

        def owner_of(session: str, among: list[str] = addresses) -> str:
            """The one server that knows the session (NOT_FOUND on the others)."""
            owners = []
            for address in among:
                with contextlib.suppress(errors.NotFound):
                    direct[address].state(session)
                    owners.append(address)
            assert len(owners) == 1, f"{session} is known to {owners}"
            return owners[0]

        made = [client.reset().session_id for _ in servers]
        seen = client.loads()
        assert {a: sessions_in(answer) for a, answer in seen.items()} == dict.fromkeys(addresses, 1)
        owners = {session: owner_of(session) for session in made}
        assert sorted(owners.values()) == sorted(addresses), "one new session on each, in turn"
        for session in made:
            assert client.step(session, 1).observation[1] == 1
        with EnvClient(addresses[::-1], timeout=CALL) as other:  # knows none of them
            for session in made:
                assert other.step(session, 1, step_index=2).observation[1] == 2
        for session in made:
            assert client.step(session, 1, step_index=3).observation[1] == 3

        dead = servers[0]
        kill(dead)
        with pytest.raises(errors.Unavailable):  # its session went with it
            client.step(next(s for s, a in owners.items() if a == dead.address), 1)
        live = addresses[1:]
        more = [owner_of(client.reset().session_id, live) for _ in range(4)]
        assert set(more) == set(live), "new sessions go to the live servers, in turn"
        assert isinstance(client.loads()[dead.address], errors.EnvError)
        # A stream attaching to a session made elsewhere looks past the dead server too.
        session = direct[live[0]].reset().session_id
        with EnvClient([dead.address, *live], timeout=CALL) as third, third.stream() as stream:
            assert stream.attach(session).session_id == session
            assert stream.step(1).observation[1] == 1


def sessions_in(answer: tuple[Any, ServerLoad] | errors.EnvError) -> int:
    assert not isinstance(answer, errors.EnvError), answer
    return answer[1].sessions


# --- 4. a dns: target ---


def test_a_dns_target_resolves_to_its_records(serve: Serve) -> None:
    (server,) = serve((HOSTS[0],))
    _, port = server.host_port
    with EnvClient(f"dns:///localhost:{port}", timeout=CALL) as client:
        assert client.endpoint_addresses() == [f"127.0.0.1:{port}"]
        session = client.reset().session_id
        assert client.step(session, 0).observation[1] == 1
    assert load_of(server.address).sessions == 1  # a unary session outlives its client


# --- 5. RemoteEnv over several servers ---


def test_remote_env_truncates_when_its_server_dies_and_resets_on_another(
    serve: Serve,
) -> None:
    servers = serve((HOSTS[0],), (HOSTS[1],))
    env = RemoteEnv([server.address for server in servers], timeout=CALL)
    try:
        first, _ = env.reset()
        (on,) = [s for s in servers if load_of(s.address).sessions == 1]
        (other,) = [s for s in servers if s is not on]
        observation, *_ = env.step(0)
        assert observation.tolist() == [first[0], 1]
        kill(on)
        observation, reward, terminated, truncated, info = env.step(0)
        assert (truncated, terminated, reward) == (True, False, 0.0)
        assert observation.tolist() == [first[0], 1], "the last observation"
        assert info["error"]["reason"], info
        assert info["error"]["message"], info
        again, _ = env.reset()
        assert again[1] == 0
        assert again[0] != first[0]
        assert load_of(other.address).sessions == 1
        assert env.step(0)[0].tolist() == [again[0], 1]
    finally:
        env.close()
    assert recorded(other.ledger) == [int(again[0])]


# --- 6. on_lost="raise" ---


def test_a_lost_server_raises_when_asked_and_a_reset_makes_its_sub_envs_anew(
    serve: Serve,
) -> None:
    dead, live = serve((HOSTS[0],), (HOSTS[1],))
    book = Book(4)
    actions = np.zeros(4, dtype=np.int64)
    with contextlib.closing(
        RemoteVectorEnv([dead.address, live.address], num_envs=4, on_lost="raise", timeout=CALL)
    ) as envs:
        book.start(envs.reset(seed=3)[0])
        assert envs.placement == [(dead.address, 2), (live.address, 2)]
        book.step(envs.step(actions))
        kill(dead)
        with pytest.raises(errors.EnvError) as lost:
            envs.step(actions)
        assert lost.value.code == errors.Code.UNAVAILABLE, lost.value
        # The live server's results of that step went with the error: no step goes on
        # from an unknown state, only a reset of every sub-env.
        with pytest.raises(gym.error.ResetNeeded, match="call reset"):
            envs.step(actions)
        book.start(envs.reset()[0])
        assert {address for address, _ in envs.placement} == {live.address}
        assert load_of(live.address).batched_envs == 4
        for _ in range(10):
            book.step(envs.step(actions))
    book.check_servers(dead, live)
