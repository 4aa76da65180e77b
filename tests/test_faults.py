"""Faulty environments against a real `openenv-grpc serve`: each fault stays in its session.

Every test serves `tests/faultenvs.py` in a subprocess with short env-call
timeouts (step 0.5 s, reset 1 s, close 0.5 s), provokes one fault, and
checks the status and ErrorInfo reason the client gets, that a
well-behaved session on the same server keeps stepping, and, where threads
hang, that the server still stops when told. Hung env calls really hang
(an Event nobody sets), so only a server that writes their threads off can
go on and exit. Waiting for a server state is done by health Watch, by a
reply, or by polling a file or a log with a bounded loop; the only clocks
are the envs' own sleeps and the server's timeouts.
"""

from __future__ import annotations

import contextlib
import pathlib
import queue
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from openenv_grpc import errors, status
from openenv_grpc.client import EnvClient, wire
from openenv_grpc.codec import decode_value
from openenv_grpc.errors import Code
from openenv_grpc.tensors import decode_tensor
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from faultenvs import INSTANCES, LEDGER, MAKE_SECONDS, SECRET, Action, ledger
from processes import CLI, ROOT, Served

ENV = "tests/faultenvs.py:FaultEnv"
SERVICE = "openenv.v1.EnvService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SHORT = (
    "--step-timeout",
    "0.5",
    "--reset-timeout",
    "1",
    "--close-timeout",
    "0.5",
    "--drain-seconds",
    "0.2",
)
PROMPT = 10.0  # seconds a signalled server may take to exit, hung env threads or not
AT_ONCE = 3.0  # seconds a second signal may take to stop it
CALL = 30.0  # client deadline: far above the server's timeouts, so theirs fire first

Serve = Callable[..., Served]


# --- servers, clients and what they answer ---


@pytest.fixture
def ledger_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "ledger"


@pytest.fixture
def serve(ledger_path: pathlib.Path) -> Iterator[Serve]:
    """Start `serve ENV` subprocesses with SHORT timeouts (later flags win); killed after."""
    started: list[Served] = []

    def start(*flags: str, env: str = ENV, **environ: str) -> Served:
        server = Served(env, *SHORT, *flags, env={LEDGER: str(ledger_path), **environ})
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@contextlib.contextmanager
def client_of(server: Served) -> Iterator[EnvClient]:
    with EnvClient(server.address, timeout=CALL) as client:
        yield client


def fails(call: Callable[[], Any], code: Code, reason: str) -> errors.EnvError:
    """Make a call that must fail with this code and reason; the error, for more checks."""
    with pytest.raises(errors.EnvError) as caught:
        call()
    error = caught.value
    assert (error.code, error.reason) == (code, reason), f"{error.code.name}: {error}"
    return error


def assert_env_timeout(error: errors.EnvError, where: str, seconds: str) -> None:
    assert (error.code, error.reason) == (Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"), error
    assert error.metadata == {"where": where, "timeout_seconds": seconds}


class RawStream:
    """A StepStream on raw stubs: one request, one answer, so in-band errors are visible."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        stub = pb_grpc.EnvServiceStub(self._channel)
        self._requests: queue.SimpleQueue[pb.StepStreamRequest | None] = queue.SimpleQueue()
        self._responses = stub.StepStream(iter(self._requests.get, None), timeout=CALL)
        self._seq = 0

    def ask(self, **kind: Any) -> pb.StepStreamResponse:
        """Send one request and read its answer; grpc.RpcError when the stream ended."""
        self._seq += 1
        self._requests.put(pb.StepStreamRequest(seq=self._seq, **kind))
        response: pb.StepStreamResponse = next(self._responses)
        assert response.seq == self._seq
        return response

    def send_only(self, **kind: Any) -> None:
        """Send one request without waiting for its answer."""
        self._seq += 1
        self._requests.put(pb.StepStreamRequest(seq=self._seq, **kind))

    def close(self) -> grpc.StatusCode:
        """Half-close and read to the end; the status the stream ended with."""
        self._requests.put(None)
        try:
            for _ in self._responses:
                pass
        except grpc.RpcError as exc:
            code: grpc.StatusCode = exc.code()
            return code
        finally:
            self._channel.close()
        return grpc.StatusCode.OK


def call_error(exc: Any) -> errors.EnvError:
    """The EnvError of a failed call (a grpc.RpcError), read from its details trailer;
    never UNKNOWN."""
    code = exc.code()
    assert code != grpc.StatusCode.UNKNOWN, exc
    trailers = dict(exc.trailing_metadata() or ())
    return status.from_details(code.value[0], exc.details() or "", trailers.get(status.DETAILS_KEY))


def in_band(response: pb.StepStreamResponse) -> errors.EnvError:
    """The in-band error a stream answered with (it must be one)."""
    assert response.WhichOneof("response") == "error", response
    return status.from_proto(response.error)


def new_reset(**options: Any) -> pb.ResetRequest:
    return wire.reset_request(new=True, options=options or None)


def step(action: int, step_index: int = 0) -> pb.StepRequest:
    return wire.step_request(action, step_index=step_index)


class GoodSession:
    """A well-behaved session on its own stream: it adds 1 per step and checks the count."""

    def __init__(self, client: EnvClient) -> None:
        self.stream = client.stream()
        self.stream.reset()
        self.count = 0

    def steps(self, n: int = 5) -> None:
        for _ in range(n):
            reply = self.stream.step(int(Action.ONE))
            self.count += 1
            assert int(reply.observation[0]) == self.count


def new_session_steps(client: EnvClient, n: int = 3) -> None:
    """A new unary session is made, steps and closes without error."""
    session = client.reset().session_id
    for k in range(1, n + 1):
        assert int(client.step(session, int(Action.ONE)).observation[0]) == k
    client.close_session(session)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll a condition (a file, a log) in a bounded loop."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def readiness(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=10
        )
    return int(reply.status)


def watch_until(address: str, wanted: int, timeout: float = 20.0) -> None:
    """Follow health Watch of the env service until it reports `wanted`."""
    with grpc.insecure_channel(address) as channel:
        updates = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=timeout
        )
        try:
            for update in updates:
                if update.status == wanted:
                    return
        except grpc.RpcError as exc:
            raise AssertionError(f"readiness never became {wanted}: {exc.code()}") from exc
    raise AssertionError(f"the health Watch ended before readiness became {wanted}")


def instance(server: Served, number: int) -> str:
    """An env instance's name in the ledger."""
    return f"{server.proc.pid}-{number}"


def stop_promptly(server: Served, limit: float = PROMPT) -> float:
    """SIGTERM the server; it must exit 0 within `limit` seconds. The seconds it took."""
    start = time.monotonic()
    server.send(signal.SIGTERM)
    try:
        code = server.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the server did not exit within {limit}s:\n{server.log}") from None
    took = time.monotonic() - start
    assert code == 0, server.log
    assert "openenv-grpc stopped" in server.log
    return took


# --- an env that raises ---


def test_an_env_that_raises_in_step_ends_only_its_own_episode(serve: Serve) -> None:
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        good.steps()
        session = client.reset().session_id
        error = fails(lambda: client.step(session, int(Action.RAISE)), Code.INTERNAL, "ENV_ERROR")
        assert (error.metadata["where"], error.metadata["exception"]) == ("step", "RuntimeError")
        assert SECRET in error.message  # by default the client gets type and message
        fails(lambda: client.step(session, 1), Code.FAILED_PRECONDITION, "EPISODE_ENDED")
        client.reset(session_id=session)  # a reset starts a new episode
        assert int(client.step(session, 1).observation[0]) == 1
        good.steps()
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset())
        by_stream = in_band(stream.ask(step_request=step(int(Action.RAISE))))
        assert (by_stream.code, by_stream.reason) == (Code.INTERNAL, "ENV_ERROR")
        assert set(by_stream.metadata) == set(error.metadata)
        assert stream.close() == grpc.StatusCode.OK
        good.steps()
    stop_promptly(server)


# --- hung and slow env calls ---


def test_a_hung_step_times_out_closes_its_session_and_abandons_its_env(
    serve: Serve, ledger_path: pathlib.Path
) -> None:
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        reply = client.reset()
        session, number = reply.session_id, int(reply.info["instance"])
        start = time.monotonic()
        error = fails(
            lambda: client.step(session, int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        took = time.monotonic() - start
        assert_env_timeout(error, "step", "0.5")
        assert 0.5 <= took < 5, f"the timeout of 0.5 s took {took:.2f} s"
        assert instance(server, number) in ledger(ledger_path)["hang"]
        # The session is closed: its id is no longer known.
        fails(lambda: client.step(session, 1), Code.NOT_FOUND, "SESSION_NOT_FOUND")
        good.steps()
        new_session_steps(client)
        assert readiness(server.address) == SERVING
    stop_promptly(server)
    events = ledger(ledger_path)
    assert instance(server, number) not in events["close"], "close() was called on a hung env"
    assert events["made"] - {instance(server, number)} <= events["close"]


def test_a_hung_step_on_a_stream_is_answered_in_band_and_the_stream_ends(serve: Serve) -> None:
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset())
        assert stream.ask(step_request=step(1, step_index=1)).HasField("step_response")
        error = in_band(stream.ask(step_request=step(int(Action.HANG), step_index=2)))
        assert_env_timeout(error, "step", "0.5")
        # The stream's session is closed: the stream cannot go on.
        try:
            after = in_band(stream.ask(step_request=step(1, step_index=2)))
        except grpc.RpcError as exc:
            after = call_error(exc)
        assert (after.code, after.reason) == (Code.NOT_FOUND, "SESSION_NOT_FOUND")
        stream.close()
        good.steps()
        new_session_steps(client)
    stop_promptly(server)


def test_a_slow_step_times_out_and_readiness_recovers_when_it_returns(serve: Serve) -> None:
    server = serve("--max-abandoned", "1")
    with client_of(server) as client:
        good = GoodSession(client)
        session = client.reset(options={"slow_step": 3.0}).session_id
        error = fails(
            lambda: client.step(session, int(Action.SLOW)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        assert_env_timeout(error, "step", "0.5")
        # One stuck call is the limit: not ready, and no new sessions, until it returns.
        watch_until(server.address, NOT_SERVING)
        full = fails(client.reset, Code.RESOURCE_EXHAUSTED, "CAPACITY_EXHAUSTED")
        assert full.retry_delay is not None
        assert full.retry_delay > 0
        good.steps()  # an open session goes on
        watch_until(server.address, SERVING)  # the slow step returned after its 3 s
        new_session_steps(client)
        fails(lambda: client.step(session, 1), Code.NOT_FOUND, "SESSION_NOT_FOUND")
        good.steps()
    stop_promptly(server)


def test_a_hung_reset_times_out_and_leaves_no_session(
    serve: Serve, ledger_path: pathlib.Path
) -> None:
    server = serve("--max-sessions", "2")
    with client_of(server) as client:
        good = GoodSession(client)  # one of the two sessions
        session = client.reset().session_id
        error = fails(
            lambda: client.reset(session_id=session, options={"hang": True}),
            Code.DEADLINE_EXCEEDED,
            "ENV_TIMEOUT",
        )
        assert_env_timeout(error, "reset", "1")
        fails(lambda: client.step(session, 1), Code.NOT_FOUND, "SESSION_NOT_FOUND")
        # A new session whose first reset hangs leaves nothing behind: room for another.
        creation = fails(
            lambda: client.reset(options={"hang": True}), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        assert_env_timeout(creation, "reset", "1")
        stream = RawStream(server.address)
        by_stream = in_band(stream.ask(reset_request=new_reset(hang=True)))
        assert_env_timeout(by_stream, "reset", "1")
        stream.close()
        assert len(ledger(ledger_path)["hang"]) == 3
        good.steps()
        new_session_steps(client)  # would be SESSION_LIMIT if a hung creation had stayed
    stop_promptly(server)


def test_a_hung_env_factory_times_out_with_the_reset_timeout(serve: Serve) -> None:
    server = serve(env="tests/faultenvs.py:HungMakeEnv")
    with client_of(server) as client:
        for _ in range(3):
            error = fails(client.reset, Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT")
            assert_env_timeout(error, "factory", "1")
        stream = RawStream(server.address)
        assert_env_timeout(in_band(stream.ask(reset_request=new_reset())), "factory", "1")
        stream.close()
        assert client.describe().env_name == "HungMake"
        assert readiness(server.address) == SERVING  # 4 stuck calls, under the default 32
    stop_promptly(server)


# --- close ---


def test_an_env_that_fails_in_close_is_still_closed_and_logged(serve: Serve) -> None:
    # The session ends whatever close() does: CloseSession answers OK, the log has the error.
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        session = client.reset(options={"close": "raise"}).session_id
        client.step(session, 1)
        client.close_session(session)
        fails(lambda: client.step(session, 1), Code.NOT_FOUND, "SESSION_NOT_FOUND")
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset(close="raise"))
        assert stream.close() == grpc.StatusCode.OK  # the stream's own end is not its fault
        good.steps()
        new_session_steps(client)
    stop_promptly(server)
    assert server.log.count("close fails on purpose") == 2  # both failures, logged once each


def test_an_env_that_hangs_in_close_is_given_up_on_and_the_server_goes_on(
    serve: Serve, ledger_path: pathlib.Path
) -> None:
    # CloseSession answers OK once --close-timeout passes; the log says which close hung.
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        session = client.reset(options={"close": "hang"}).session_id
        start = time.monotonic()
        client.close_session(session)
        took = time.monotonic() - start
        assert took < 5, f"CloseSession of a hung close() took {took:.2f} s"
        assert len(ledger(ledger_path)["hang"]) == 1
        fails(lambda: client.step(session, 1), Code.NOT_FOUND, "SESSION_NOT_FOUND")
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset(close="hang"))
        assert stream.close() == grpc.StatusCode.OK
        wait_for(lambda: len(ledger(ledger_path)["hang"]) == 2, "the stream's env to hang in close")
        good.steps()
        new_session_steps(client)
        wait_for(lambda: server.log.count("close did not return within") == 2, "the log lines")
    stop_promptly(server)


# --- constructors ---


def test_an_env_that_can_never_be_made_stops_the_server_with_a_message() -> None:
    result = subprocess.run(
        [*CLI, "serve", "tests/faultenvs.py:UnmakeableEnv", "--port", "0", *SHORT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "this env cannot be made" in result.stderr


def test_an_env_factory_that_starts_failing_fails_only_new_sessions(serve: Serve) -> None:
    # Instance 1 is the server's probe, 2 the good session; the third construction raises.
    server = serve(env="tests/faultenvs.py:MadeNTimesEnv", **{INSTANCES: "2"})
    with client_of(server) as client:
        good = GoodSession(client)
        error = fails(client.reset, Code.INTERNAL, "ENV_ERROR")
        assert error.metadata["where"] == "factory"
        assert error.metadata["exception"] == "RuntimeError"
        stream = RawStream(server.address)
        by_stream = in_band(stream.ask(reset_request=new_reset()))
        assert (by_stream.code, by_stream.reason) == (Code.INTERNAL, "ENV_ERROR")
        stream.close()
        good.steps()
        assert readiness(server.address) == SERVING
    stop_promptly(server)


# --- more hung calls than threads, and the limit of stuck calls ---


def test_more_hung_calls_than_pool_threads_leave_the_server_serving(serve: Serve) -> None:
    hung = 8  # the default pool has min(32, cores + 4) threads: 6 on 2 cores
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        sessions = [client.reset().session_id for _ in range(hung)]
        with ThreadPoolExecutor(hung) as pool:
            outcomes = list(
                pool.map(
                    lambda s: fails(
                        lambda: client.step(s, int(Action.HANG)),
                        Code.DEADLINE_EXCEEDED,
                        "ENV_TIMEOUT",
                    ),
                    sessions,
                )
            )
        assert len(outcomes) == hung
        good.steps(20)
        for _ in range(3):
            new_session_steps(client)
        assert readiness(server.address) == SERVING
    stop_promptly(server)


def test_at_max_abandoned_stuck_calls_readiness_fails_and_new_sessions_are_refused(
    serve: Serve,
) -> None:
    server = serve("--max-abandoned", "2")
    with client_of(server) as client:
        good = GoodSession(client)
        doomed = [client.reset().session_id for _ in range(3)]
        fails(
            lambda: client.step(doomed[0], int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        assert readiness(server.address) == SERVING  # one stuck call: under the limit
        new_session_steps(client)
        fails(
            lambda: client.step(doomed[1], int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        watch_until(server.address, NOT_SERVING)  # two stuck calls: the limit
        full = fails(client.reset, Code.RESOURCE_EXHAUSTED, "CAPACITY_EXHAUSTED")
        assert full.retry_delay is not None
        assert full.retry_delay > 0
        stream = RawStream(server.address)
        by_stream = in_band(stream.ask(reset_request=new_reset()))
        assert (by_stream.code, by_stream.reason) == (Code.RESOURCE_EXHAUSTED, "CAPACITY_EXHAUSTED")
        stream.close()
        # A session that was open goes on; a third hang is still answered, and nothing recovers.
        good.steps()
        fails(
            lambda: client.step(doomed[2], int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        assert readiness(server.address) == NOT_SERVING
        fails(client.reset, Code.RESOURCE_EXHAUSTED, "CAPACITY_EXHAUSTED")
        good.steps()
    stop_promptly(server)


# --- shutdown with hung threads ---


@pytest.mark.parametrize("hung", ["abandoned", "in_flight"])
def test_sigterm_exits_0_promptly_with_hung_env_threads(
    serve: Serve, ledger_path: pathlib.Path, hung: str
) -> None:
    # "in_flight": the step timeout is far off, so the hung step is still running at SIGTERM.
    server = serve(*(["--step-timeout", "60"] if hung == "in_flight" else []))
    with client_of(server) as client:
        good = GoodSession(client)
        client.reset(options={"close": "hang"})  # open: shutdown's close() of it hangs
        session = client.reset().session_id
        if hung == "abandoned":
            fails(
                lambda: client.step(session, int(Action.HANG)),
                Code.DEADLINE_EXCEEDED,
                "ENV_TIMEOUT",
            )
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset())
        stream.send_only(step_request=step(int(Action.HANG)))
        expected = 2 if hung == "abandoned" else 1
        wait_for(lambda: len(ledger(ledger_path)["hang"]) == expected, "the steps to hang")
        good.steps()
        took = stop_promptly(server)
        stream.close()
    print(f"SIGTERM with hung env threads ({hung}): exit 0 after {took:.2f} s")


def test_a_second_signal_exits_1_at_once_with_hung_env_threads(serve: Serve) -> None:
    server = serve("--drain-seconds", "60")
    with client_of(server) as client:
        good = GoodSession(client)  # open: the drain waits for it
        session = client.reset().session_id
        fails(lambda: client.step(session, int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT")
        good.steps()
        server.send(signal.SIGTERM)
        wait_for(lambda: "draining" in server.log, "the server to start draining")
        start = time.monotonic()
        server.send(signal.SIGTERM)
        assert server.wait(timeout=PROMPT) == 1
        took = time.monotonic() - start
    assert took < AT_ONCE, f"the second signal took {took:.2f} s"


# --- observation checks ---

BAD_OBSERVATIONS = {  # what came back, as the message must name it
    Action.BAD_SHAPE: r"shape\W{1,3}3\b",  # shape=[3], shape (3,), ...
    Action.BAD_DTYPE: r"float32",
    Action.OUT_OF_BOUNDS: r"-1\b",
}


@pytest.mark.parametrize("fault", sorted(BAD_OBSERVATIONS), ids=lambda a: Action(a).name)
def test_an_observation_outside_the_space_is_an_env_error_and_ends_the_episode(
    serve: Serve, fault: Action
) -> None:
    server = serve()
    with client_of(server) as client:
        good = GoodSession(client)
        session = client.reset().session_id
        client.step(session, 1)
        error = fails(lambda: client.step(session, int(fault)), Code.INTERNAL, "ENV_ERROR")
        assert error.metadata.get("where") == "observation"
        assert "Box(" in error.message, error.message  # names the space
        assert re.search(BAD_OBSERVATIONS[fault], error.message), error.message  # what came
        fails(lambda: client.step(session, 1), Code.FAILED_PRECONDITION, "EPISODE_ENDED")
        good.steps()
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset())
        by_stream = in_band(stream.ask(step_request=step(int(fault), step_index=1)))
        assert (by_stream.code, by_stream.reason) == (Code.INTERNAL, "ENV_ERROR")
        ended = in_band(stream.ask(step_request=step(1, step_index=2)))
        assert (ended.code, ended.reason) == (Code.FAILED_PRECONDITION, "EPISODE_ENDED")
        stream.close()
    stop_promptly(server)


def test_a_reset_observation_outside_the_space_is_an_env_error(serve: Serve) -> None:
    server = serve()
    with client_of(server) as client:
        session = client.reset().session_id
        error = fails(
            lambda: client.reset(session_id=session, options={"observation": "out_of_bounds"}),
            Code.INTERNAL,
            "ENV_ERROR",
        )
        assert error.metadata.get("where") == "observation"
        fails(lambda: client.step(session, 1), Code.FAILED_PRECONDITION, "EPISODE_ENDED")
    stop_promptly(server)


def test_without_observation_checks_a_bad_observation_passes(serve: Serve) -> None:
    server = serve("--no-check-observations")
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = stub.Reset(new_reset(), timeout=CALL).session_id
        for index, (fault, shape, dtype, value) in enumerate(
            [
                (Action.BAD_SHAPE, (3,), np.int64, 0),
                (Action.BAD_DTYPE, (1,), np.float32, 0),
                (Action.OUT_OF_BOUNDS, (1,), np.int64, -1),
            ],
            start=1,
        ):
            request = wire.step_request(int(fault), session, step_index=index)
            observation = decode_value(stub.Step(request, timeout=CALL).observation)
            assert (observation.shape, observation.dtype, observation[0]) == (shape, dtype, value)
        after = stub.Step(wire.step_request(1, session, step_index=4), timeout=CALL)
        assert decode_value(after.observation).tolist() == [1]  # the episode went on
    stop_promptly(server)


# --- batched sessions: one failing sub-env ---


@pytest.mark.parametrize("processes", ["0", "2"], ids=lambda p: f"{p}proc")
@pytest.mark.parametrize("path", ["step_batch", "send_recv"])
def test_a_failing_sub_env_reports_its_own_error_and_the_others_their_results(
    serve: Serve, path: str, processes: str
) -> None:
    server = serve("--vector-processes", processes)
    actions = np.array([1, Action.RAISE, Action.BAD_SHAPE, 1], dtype=np.int64)
    stream = RawStream(server.address)
    created = stream.ask(reset_batch_request=wire.reset_batch_request(num_envs=4))
    assert created.HasField("reset_batch_response"), created
    if path == "step_batch":
        answer = stream.ask(step_batch_request=wire.step_batch_request(actions, step_index=1))
        assert answer.HasField("step_batch_response"), answer
        batch = answer.step_batch_response
    else:
        sent = stream.ask(send_request=wire.send_request(actions, [0, 1, 2, 3]))
        assert sent.HasField("send_response"), sent
        answer = stream.ask(recv_request=pb.RecvRequest(num_envs=0))
        assert answer.HasField("recv_response"), answer
        batch = answer.recv_response
    assert sorted(batch.env_ids) == [0, 3]
    assert decode_tensor(batch.rewards).tolist() == [1.0, 1.0]
    failed = {e.env_id: status.from_proto(e.status) for e in batch.sub_env_errors}
    assert sorted(failed) == [1, 2]
    for env_id, where in ((1, "step"), (2, "observation")):
        error = failed[env_id]
        assert (error.code, error.reason) == (Code.INTERNAL, "ENV_ERROR"), error
        assert error.metadata.get("where") == where, error.metadata
    assert stream.close() == grpc.StatusCode.OK
    stop_promptly(server)


# --- hidden env errors ---


def test_hidden_env_errors_give_the_client_a_type_and_an_id_and_the_log_the_traceback(
    serve: Serve,
) -> None:
    server = serve("--hide-env-errors")
    with client_of(server) as client:
        session = client.reset().session_id
        error = fails(lambda: client.step(session, int(Action.RAISE)), Code.INTERNAL, "ENV_ERROR")
        error_id = error.metadata.get("error_id", "")
        assert error_id
        assert error.metadata.get("exception") == "RuntimeError"
        assert SECRET not in error.message
        assert not any(SECRET in value for value in error.metadata.values())
        stream = RawStream(server.address)
        stream.ask(reset_request=new_reset())
        by_stream = in_band(stream.ask(step_request=step(int(Action.RAISE))))
        assert SECRET not in by_stream.message
        assert by_stream.metadata.get("error_id", "") not in ("", error_id)
        stream.close()
    stop_promptly(server)
    log = server.log
    assert error_id in log
    # The traceback is logged under the id: the lines from the id on hold it.
    logged = log[log.index(error_id) :]
    assert "Traceback" in logged
    assert SECRET in logged


# --- a Reset whose caller went away ---


@pytest.mark.parametrize("slow", ["factory", "reset"])
def test_a_reset_whose_deadline_ran_out_leaves_no_env_unclosed(
    serve: Serve, ledger_path: pathlib.Path, slow: str
) -> None:
    env = "tests/faultenvs.py:SlowMakeEnv" if slow == "factory" else ENV
    server = serve("--reset-timeout", "10", "--max-sessions", "1", env=env, **{MAKE_SECONDS: "1"})
    options = {"slow": 1.0} if slow == "reset" else None
    with EnvClient(server.address, timeout=0.3) as impatient:
        impatient.describe()
        error = fails(lambda: impatient.reset(options=options), Code.DEADLINE_EXCEEDED, "")
        assert error.reason == ""  # the client's own deadline, not the server's ENV_TIMEOUT

    def every_env_made_is_closed() -> bool:
        events = ledger(ledger_path)
        return len(events["made"]) == 2 and events["made"] <= events["close"]

    wait_for(every_env_made_is_closed, "the env made for the abandoned reset to be closed")
    with client_of(server) as client:
        new_session_steps(client)  # the limit of 1 is free: no session was left behind
    stop_promptly(server)
    events = ledger(ledger_path)
    assert events["made"] == events["close"]
    assert len(events["made"]) == 3


def test_no_fault_ends_a_call_with_unknown(serve: Serve) -> None:
    """Every fault above through raw unary calls: a status of its own, never UNKNOWN."""
    server = serve()
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        for fault in Action:
            if fault in (Action.ZERO, Action.ONE):
                continue
            session = stub.Reset(new_reset(slow_step=0.7), timeout=CALL).session_id
            with pytest.raises(grpc.RpcError) as caught:
                stub.Step(wire.step_request(int(fault), session, 1), timeout=CALL)
            error = call_error(caught.value)
            assert error.reason, f"{fault.name}: {error}"
    stop_promptly(server)


def test_the_python_client_does_not_resend_a_step_that_hit_env_timeout(serve: Serve) -> None:
    # deadline_retries resends a step whose deadline passed; after ENV_TIMEOUT the session is
    # gone, so a resend could only turn the real cause into SESSION_NOT_FOUND.
    server = serve()
    with EnvClient(server.address, timeout=CALL, deadline_retries=2) as client:
        session = client.reset().session_id
        error = fails(
            lambda: client.step(session, int(Action.HANG)), Code.DEADLINE_EXCEEDED, "ENV_TIMEOUT"
        )
        assert_env_timeout(error, "step", "0.5")
    stop_promptly(server)
