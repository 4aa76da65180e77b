"""Fuzzing every RPC of a live server: whatever a client sends, a precise answer.

One AllSpacesEnv server (every space kind) serves the module on 127.0.0.1.
Hypothesis sends every RPC random bytes, cut and bit-flipped serialisations
of well-formed requests, bad UTF-8, Values nested past the decoder's limit,
unknown enum values, oversized fields, and actions bent out of the action
space, through raw channel calls (identity serializers), so that nothing of a
client library stands between the bytes and the server.

Every call has a deadline of a few seconds and must end with a precise
status: never UNKNOWN, never a hang (DEADLINE_EXCEEDED), never INTERNAL (the
env is correct, so only the server could be at fault), always with a
google.rpc.ErrorInfo whose reason is one of the contract's and agrees with
the code. Bytes that are not a message of the request type are
INVALID_REQUEST; on a stream they are answered in-band (seq 0, since theirs
cannot be read) and the stream goes on, as it does after a well-formed
message with bad contents (docs/protocol.md). Throughout, a
well-behaved client steps its own session on a stream in a background
thread and must see no error; after every test the server still answers
Describe and health, and its log holds no error, no traceback, no line
that echoes a client value whole, and no flood of warnings.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openenv_grpc.codec import decode_action, encode_value
from openenv_grpc.errors import EnvError
from openenv_grpc.server import ServerConfig
from openenv_grpc.status import DETAILS_KEY
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import errors_pb2, values_pb2

import fuzzing as fz
from serverutil import ServerThread
from testenvs import AllSpacesEnv

# Gymnasium's Box.contains warns when a numpy scalar reaches it, as fuzzed actions do.
pytestmark = pytest.mark.filterwarnings("ignore:.*Casting input x to numpy array")

Code = grpc.StatusCode
OK, INVALID_ARGUMENT = Code.OK, Code.INVALID_ARGUMENT
CALL_TIMEOUT = 5.0  # a few seconds: DEADLINE_EXCEEDED means the server hung, and fails
STREAM_TIMEOUT = 10.0
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the per-test check only reads; no state per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FEW = settings(FUZZ, max_examples=40)  # for examples of a megabyte or more

SPACE = copy.deepcopy(AllSpacesEnv.action_space)
NUM_ENVS = 2  # sub-envs of the batched session fuzzing aims at
BATCHED_SPACE = fz.batched(SPACE, NUM_ENVS)
MAX_NUM_ENVS = 8
# Entries of the action whose samples are tensors (decoded through decode_tensor).
TENSOR_KEYS = ["image", "vector", "half", "discrete", "multi_discrete", "multi_binary"]

SERVICE = "/openenv.v1.EnvService/"
UNARY: dict[str, tuple[Any, Any]] = {
    "Describe": (pb.DescribeRequest, pb.DescribeResponse),
    "Reset": (pb.ResetRequest, pb.ResetResponse),
    "Step": (pb.StepRequest, pb.StepResponse),
    "ResetBatch": (pb.ResetBatchRequest, pb.ResetBatchResponse),
    "StepBatch": (pb.StepBatchRequest, pb.StepBatchResponse),
    "State": (pb.StateRequest, pb.StateResponse),
    "CloseSession": (pb.CloseSessionRequest, pb.CloseSessionResponse),
}
ANSWER_KIND = {
    "reset_request": "reset_response",
    "step_request": "step_response",
    "reset_batch_request": "reset_batch_response",
    "step_batch_request": "step_batch_response",
    "state_request": "state_response",
    "attach_request": "attach_response",
    "send_request": "send_response",
    "recv_request": "recv_response",
}

PREFIX = "ERROR_REASON_"
CONTRACT_REASONS = {
    name.removeprefix(PREFIX)
    for name in errors_pb2.ErrorReason.keys()  # noqa: SIM118 (an enum wrapper, not a dict)
    if name != f"{PREFIX}UNSPECIFIED"
}
# The code errors.proto gives each reason (ENV_REJECTED: the env's own choice).
REASON_CODES = {
    "SESSION_NOT_FOUND": Code.NOT_FOUND,
    "SESSION_EXPIRED": Code.NOT_FOUND,
    "SESSION_BUSY": Code.FAILED_PRECONDITION,
    "EPISODE_ENDED": Code.FAILED_PRECONDITION,
    "STEP_OUT_OF_ORDER": Code.ABORTED,
    "ACTION_OUT_OF_SPACE": Code.INVALID_ARGUMENT,
    "INVALID_VALUE": Code.INVALID_ARGUMENT,
    "INVALID_REQUEST": Code.INVALID_ARGUMENT,
    "SESSION_LIMIT": Code.RESOURCE_EXHAUSTED,
    "ENV_LIMIT": Code.RESOURCE_EXHAUSTED,
    "DRAINING": Code.UNAVAILABLE,
    "ENV_ERROR": Code.INTERNAL,
    "WRONG_SESSION_KIND": Code.FAILED_PRECONDITION,
    "SUB_ENVS_IN_FLIGHT": Code.FAILED_PRECONDITION,
    "STREAM_NOT_BOUND": Code.FAILED_PRECONDITION,
    "STREAM_ALREADY_BOUND": Code.FAILED_PRECONDITION,
    "PROTOCOL_MISMATCH": Code.FAILED_PRECONDITION,
    "ENV_TIMEOUT": Code.DEADLINE_EXCEEDED,
    "CAPACITY_EXHAUSTED": Code.RESOURCE_EXHAUSTED,
    "REQUEST_TOO_LARGE": Code.RESOURCE_EXHAUSTED,
}
# What a client can cause against a correct env that never hangs. Not UNKNOWN
# (a server bug), DEADLINE_EXCEEDED (a hang), INTERNAL (the env is correct:
# the server broke), UNAVAILABLE (the server is not draining).
PRECISE = {
    Code.INVALID_ARGUMENT,
    Code.NOT_FOUND,
    Code.FAILED_PRECONDITION,
    Code.ABORTED,
    Code.RESOURCE_EXHAUSTED,
}
GRPC_CODES = {code.value[0]: code for code in Code}
MESSAGE_LIMIT = 2048  # English, the action space's text (~400) and a few echoes of 128
ECHO_LIMIT = 128
LOG_LIMIT = 1024
SERVER_VALUED = {"space", "why"}  # metadata that describes the server, not client input


# --- reading answers ----------------------------------------------------------


def _error_info(status: status_pb2.Status) -> Any:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def check_error(code: Code, message: str, status: status_pb2.Status | None) -> str:
    """A failure is precise and carries one of the contract's reasons; returns the reason."""
    said = f"{code.name} {message[:300]!r}"
    assert code in PRECISE, f"not a precise status: {said}"
    assert status is not None, f"no google.rpc.Status came with {said}"
    assert GRPC_CODES.get(status.code) is code, f"the Status says code {status.code}: {said}"
    assert status.message == message, f"the Status says {status.message[:200]!r}: {said}"
    info = _error_info(status)
    assert info is not None, f"no ErrorInfo in the Status of {said}"
    assert info.domain == "openenv.v1", f"ErrorInfo domain {info.domain!r}: {said}"
    assert info.reason in CONTRACT_REASONS, f"reason {info.reason!r} is not the contract's: {said}"
    wanted = REASON_CODES.get(info.reason)
    assert wanted in (None, code), f"{info.reason} needs {wanted}: {said}"
    assert len(message) <= MESSAGE_LIMIT, f"a {len(message)}-character message: {said}"
    for key, value in info.metadata.items():
        if key not in SERVER_VALUED:
            assert len(value) <= ECHO_LIMIT, f"metadata {key} echoes {len(value)} characters"
    return str(info.reason)


@dataclass
class Answer:
    """How a unary call ended: code, message and reason (from the trailer), or response."""

    code: Code
    message: str = ""
    reason: str = ""
    response: bytes = b""

    @property
    def outcome(self) -> tuple[Code, str]:
        return self.code, self.reason


@dataclass
class StreamAnswer:
    """How a StepStream went: the answers read, then the code it ended with."""

    answers: list[pb.StepStreamResponse]
    code: Code
    message: str = ""

    def outcome(self, at: int) -> tuple[Code, str]:
        """(code, reason) of the answer to message `at`: OK and "" when it succeeded."""
        answer = self.answers[at]
        if answer.WhichOneof("response") != "error":
            return OK, ""
        return GRPC_CODES[answer.error.code], str(_error_info(answer.error).reason)


def tally(what: str, outcome: tuple[Code, str]) -> None:
    """Count an outcome in hypothesis's statistics (pytest --hypothesis-show-statistics)."""
    event(f"{what}: {outcome[0].name} {outcome[1]}".rstrip())


def _trailer_status(error: Any) -> status_pb2.Status | None:
    raw = dict(error.trailing_metadata() or ()).get(DETAILS_KEY)
    return status_pb2.Status.FromString(raw) if raw else None


def stream_message(seq: int, **kind: Any) -> bytes:
    return pb.StepStreamRequest(seq=seq, **kind).SerializeToString()


FOLLOW_UP_SEQ = 2**64 - 1
FOLLOW_UP = stream_message(FOLLOW_UP_SEQ, state_request=pb.StateRequest())


def valid_step(session_id: str = "", seed: int = 0) -> pb.StepRequest:
    request = pb.StepRequest(session_id=session_id)
    request.action.CopyFrom(fz.sample(SPACE, seed))
    return request


def valid_step_batch(session_id: str = "", seed: int = 0) -> pb.StepBatchRequest:
    request = pb.StepBatchRequest(session_id=session_id)
    request.actions.CopyFrom(fz.sample(BATCHED_SPACE, seed))
    return request


def expected_outcome(decode: Callable[[], Any]) -> tuple[Code, str] | None:
    """What the server should say of a request, from the codec run here; None if it broke."""
    try:
        decode()
    except EnvError as exc:
        return GRPC_CODES[int(exc.code)], str(exc.reason)
    except Exception:
        return None  # the codec itself broke on it: the server's status is checked anyway
    return OK, ""


# --- the server and the clients ------------------------------------------------


class Wire:
    """Raw calls of every RPC, bytes in and bytes out, each answer checked as it comes."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._unary = {
            rpc: channel.unary_unary(
                SERVICE + rpc, request_serializer=None, response_deserializer=None
            )
            for rpc in UNARY
        }
        self._stream = channel.stream_stream(
            SERVICE + "StepStream", request_serializer=None, response_deserializer=None
        )
        self._stub = pb_grpc.EnvServiceStub(channel)
        self.targets = fz.Targets("", "", SPACE, NUM_ENVS)

    def ensure_targets(self) -> fz.Targets:
        """The single and batched sessions fuzzing aims at, made again when fuzzing closed one."""
        single, batch = self.targets.single, self.targets.batched
        if not single:
            single = self._stub.Reset(
                pb.ResetRequest(new_session=pb.NewSession(), seed=1), timeout=CALL_TIMEOUT
            ).session_id
        if not batch:
            batch = self._stub.ResetBatch(
                pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=NUM_ENVS)),
                timeout=CALL_TIMEOUT,
            ).session_id
        self.targets = fz.Targets(single, batch, SPACE, NUM_ENVS)
        return self.targets

    def fresh_batched(self) -> fz.Targets:
        """The targets with a new batched session: steps sent on the old one by earlier
        examples may still wait for a recv, and while they do its sub-envs take no step."""
        if self.targets.batched:
            with contextlib.suppress(grpc.RpcError):
                self._stub.CloseSession(
                    pb.CloseSessionRequest(session_id=self.targets.batched), timeout=CALL_TIMEOUT
                )
            self.targets = fz.Targets(self.targets.single, "", SPACE, NUM_ENVS)
        return self.ensure_targets()

    def unary(self, rpc: str, payload: bytes) -> Answer:
        """Call `rpc` with the bytes; check the answer is precise, and return it."""
        request_type, response_type = UNARY[rpc]
        try:
            response = self._unary[rpc](payload, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            code, message = exc.code(), exc.details() or ""
            assert code is not Code.DEADLINE_EXCEEDED, f"{rpc} hung: no answer in {CALL_TIMEOUT}s"
            answer = Answer(code, message, check_error(code, message, _trailer_status(exc)))
        else:
            answer = Answer(OK, response=response)
            self._after(rpc, request_type.FromString(payload), response_type.FromString(response))
        if not fz.parses(request_type, payload):
            assert (answer.code, answer.reason) == (INVALID_ARGUMENT, "INVALID_REQUEST"), (
                f"{rpc} got bytes that are no {request_type.__name__} and answered "
                f"{answer.code.name} {answer.reason} {answer.message[:200]!r}"
            )
        return answer

    def _after(self, rpc: str, request: Any, response: Any) -> None:
        """Close a session a fuzzed request made, so that fuzzing never fills the server;
        note a target session that a fuzzed request closed."""
        single, batch = self.targets.single, self.targets.batched
        if rpc in ("Reset", "ResetBatch") and response.session_id not in (single, batch):
            self._stub.CloseSession(
                pb.CloseSessionRequest(session_id=response.session_id), timeout=CALL_TIMEOUT
            )
        if rpc == "CloseSession" and request.session_id in (single, batch):
            self.targets = fz.Targets(
                "" if request.session_id == single else single,
                "" if request.session_id == batch else batch,
                SPACE,
                NUM_ENVS,
            )

    def stream(self, messages: Sequence[bytes]) -> StreamAnswer:
        """Send the messages on one new StepStream, read every answer, check them all."""
        answers: list[pb.StepStreamResponse] = []
        code, message = OK, ""
        call = self._stream(iter(messages), timeout=STREAM_TIMEOUT)
        try:
            for raw in call:
                answers.append(pb.StepStreamResponse.FromString(raw))
        except grpc.RpcError as exc:
            code, message = exc.code(), exc.details() or ""
        assert code is not Code.DEADLINE_EXCEEDED, (
            f"the stream hung: {len(answers)} answers to {len(messages)} messages in "
            f"{STREAM_TIMEOUT}s"
        )
        # The stream ends only when the client ends it: nothing here closes its session.
        assert code is OK, f"the stream ended {code.name} {message[:300]!r}"
        assert len(answers) == len(messages), f"{len(answers)} answers to {len(messages)}"
        for raw, answer in zip(messages, answers, strict=True):
            kind = answer.WhichOneof("response")
            if kind == "error":
                error = answer.error
                reason = check_error(GRPC_CODES[error.code], error.message, error)
            if not fz.parses(pb.StepStreamRequest, raw):  # its seq cannot be read: 0
                assert (answer.seq, kind) == (0, "error"), f"bytes that are no message: {answer}"
                assert reason == "INVALID_REQUEST", f"bytes that are no message: {reason}"
                continue
            request = pb.StepStreamRequest.FromString(raw)
            assert answer.seq == request.seq, f"answer seq {answer.seq} to seq {request.seq}"
            if kind != "error":
                wanted = ANSWER_KIND.get(request.WhichOneof("request") or "")
                assert kind == wanted, f"{request.WhichOneof('request')} answered by {kind}"
        return StreamAnswer(answers, code, message)

    def prefix(self, kind: str) -> list[bytes]:
        """First messages that leave a stream unbound, or bound to a session of a kind."""
        return {
            "unbound": [],
            "single": [stream_message(1, reset_request=pb.ResetRequest(new_session={}))],
            "batched": [
                stream_message(
                    1,
                    reset_batch_request=pb.ResetBatchRequest(
                        new_session=pb.NewBatchSession(num_envs=NUM_ENVS)
                    ),
                )
            ],
            "attached": [
                stream_message(1, attach_request=pb.AttachRequest(session_id=self.targets.single))
            ],
            "attached_batch": [
                stream_message(1, attach_request=pb.AttachRequest(session_id=self.targets.batched))
            ],
        }[kind]


class SteadyClient:
    """A well-behaved client: its own channel and session, stepped over a StepStream.

    It steps in lock step (one request, its answer, the next) with valid
    actions and step indexes, and checks every answer: the observation echoes
    the action. Fuzzing must never disturb it.
    """

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._requests: queue.Queue[pb.StepStreamRequest | None] = queue.Queue()
        self._call = pb_grpc.EnvServiceStub(self._channel).StepStream(
            iter(self._requests.get, None)
        )
        self._space = copy.deepcopy(SPACE)
        self._space.seed(0)
        self._progress = threading.Condition()
        self._stopping = threading.Event()
        self.steps = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="steady-client", daemon=True)
        self._thread.start()

    def _ask(self, request: pb.StepStreamRequest) -> pb.StepStreamResponse:
        self._requests.put(request)
        return next(self._call)

    def _run(self) -> None:
        try:
            reset = pb.ResetRequest(new_session=pb.NewSession(), seed=0)
            first = self._ask(pb.StepStreamRequest(seq=1, reset_request=reset))
            if first.WhichOneof("response") != "reset_response":
                raise AssertionError(f"its reset was answered {first}")
            seq = 1
            while not self._stopping.is_set():
                seq += 1
                request = pb.StepStreamRequest(seq=seq)
                request.step_request.step_index = seq - 1
                encode_value(self._space.sample(), out=request.step_request.action)
                answer = self._ask(request)
                if answer.seq != seq or answer.WhichOneof("response") != "step_response":
                    raise AssertionError(f"step {seq - 1} was answered {str(answer)[:500]}")
                if answer.step_response.observation != request.step_request.action:
                    raise AssertionError(f"step {seq - 1} did not echo its action")
                with self._progress:
                    self.steps += 1
                    self._progress.notify_all()
                self._stopping.wait(0.02)  # steady, and light on the 2 cores fuzzing shares
        except BaseException as exc:
            if not self._stopping.is_set():
                self.error = f"{type(exc).__name__}: {str(exc)[:500]}"
        finally:
            with self._progress:
                self._progress.notify_all()

    def check(self, timeout: float = 10.0) -> None:
        """It has seen no error, and its next step is answered within the timeout."""
        with self._progress:
            goal = self.steps + 1
            self._progress.wait_for(lambda: self.error is not None or self.steps >= goal, timeout)
            assert self.error is None, f"the well-behaved client failed: {self.error}"
            assert self.steps >= goal, f"the well-behaved client got no answer in {timeout}s"

    def stop(self) -> None:
        self._stopping.set()
        self._requests.put(None)
        self._thread.join(timeout=10)
        self._call.cancel()
        self._channel.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    config = ServerConfig(host="127.0.0.1", port=0, max_num_envs=MAX_NUM_ENVS)
    server = ServerThread(AllSpacesEnv, config)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as channel:
        yield channel


@pytest.fixture(scope="module")
def steady(server: ServerThread) -> Iterator[SteadyClient]:
    client = SteadyClient(server.address)
    client.check()
    yield client
    client.check()
    client.stop()


@pytest.fixture(scope="module")
def wire(channel: grpc.Channel) -> Wire:
    return Wire(channel)


@pytest.fixture(autouse=True)
def _still_serving(
    steady: SteadyClient, channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """After each test: the steady client saw no error, Describe and health still answer,
    and the server's log stayed quiet: no error, no traceback, no flood of warnings about
    malformed requests (one per peer a minute), no line that echoes a client value whole."""
    caplog.set_level(logging.WARNING)
    yield
    steady.check()
    records = [r for r in caplog.records if r.name.startswith("openenv_grpc")]
    for record in records:
        line = record.getMessage()
        assert record.levelno < logging.ERROR, line[:LOG_LIMIT]
        assert not record.exc_info, f"a traceback in the log: {line[:LOG_LIMIT]}"
        assert len(line) <= LOG_LIMIT, f"a {len(line)}-character log line: {line[:300]}"
    assert len(records) <= 2, [r.getMessage()[:200] for r in records]
    describe = pb_grpc.EnvServiceStub(channel).Describe(pb.DescribeRequest(), timeout=CALL_TIMEOUT)
    assert describe.env_name == AllSpacesEnv.name
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "openenv.v1.EnvService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=CALL_TIMEOUT)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, service


# --- bytes that are no message, and messages cut and flipped -------------------


@pytest.mark.parametrize("rpc", list(UNARY))
@FUZZ
@given(payload=fz.random_bytes)
def test_random_bytes_get_a_precise_status(wire: Wire, rpc: str, payload: bytes) -> None:
    tally(rpc, wire.unary(rpc, payload).outcome)


@pytest.mark.parametrize("rpc", list(UNARY))
@FUZZ
@given(data=st.data())
def test_cut_and_flipped_requests_get_a_precise_status(
    wire: Wire, rpc: str, data: st.DataObject
) -> None:
    targets = wire.ensure_targets()
    payload = data.draw(fz.requests(rpc, targets), label="request").SerializeToString()
    if data.draw(st.booleans(), label="mutate"):
        payload = data.draw(fz.mutated(payload), label="mutated")
    tally(rpc, wire.unary(rpc, payload).outcome)


STREAM_PREFIXES = ["unbound", "single", "batched", "attached", "attached_batch"]


@FUZZ
@given(data=st.data())
def test_random_bytes_on_a_stream_are_answered_in_band(wire: Wire, data: st.DataObject) -> None:
    wire.ensure_targets()
    kind = data.draw(st.sampled_from(STREAM_PREFIXES), label="prefix")
    answer = wire.stream([*wire.prefix(kind), data.draw(fz.random_bytes, label="bytes"), FOLLOW_UP])
    tally(kind, answer.outcome(-2))
    if kind != "unbound":
        assert answer.outcome(-1) == (OK, "")  # the stream and its session go on


@FUZZ
@given(data=st.data())
def test_cut_and_flipped_stream_messages_get_precise_answers(
    wire: Wire, data: st.DataObject
) -> None:
    targets = wire.ensure_targets()
    kind = data.draw(st.sampled_from(STREAM_PREFIXES), label="prefix")
    well_formed = fz.stream_requests(targets).map(lambda r: r.SerializeToString())
    messages = data.draw(
        st.lists(st.one_of(well_formed, well_formed.flatmap(fz.mutated)), min_size=1, max_size=3),
        label="messages",
    )
    answer = wire.stream([*wire.prefix(kind), *messages, FOLLOW_UP])
    for at in range(len(answer.answers) - len(messages) - 1, len(answer.answers) - 1):
        tally(kind, answer.outcome(at))
    if kind != "unbound":
        assert answer.outcome(-1) == (OK, "")  # the stream and its session go on


# --- bad UTF-8, deep nesting, unknown enum values ------------------------------

UTF8_TARGETS = [
    *((rpc, path) for rpc, paths in fz.STRING_FIELDS.items() for path in paths),
    *(("StepStream", path) for path in fz.STREAM_STRING_FIELDS),
]


@FUZZ
@given(data=st.data())
def test_bad_utf8_is_an_invalid_request(wire: Wire, data: st.DataObject) -> None:
    targets = wire.ensure_targets()
    rpc, path = data.draw(st.sampled_from(UTF8_TARGETS), label="field")
    bad = fz.nest(path, data.draw(fz.bad_utf8, label="text"))
    if rpc == "StepStream":
        base = data.draw(fz.stream_requests(targets), label="request")
        message = base.SerializeToString() + bad
        assert not fz.parses(pb.StepStreamRequest, message)
        answer = wire.stream([*wire.prefix("single"), message, FOLLOW_UP])
        assert answer.outcome(1) == (INVALID_ARGUMENT, "INVALID_REQUEST")
        assert answer.outcome(2) == (OK, "")
    else:
        payload = data.draw(fz.requests(rpc, targets), label="request").SerializeToString() + bad
        assert not fz.parses(UNARY[rpc][0], payload)
        wire.unary(rpc, payload)  # INVALID_REQUEST


# Where a Value sits in each request: the field path down to it.
VALUE_AT = {
    "Step": (2,),  # action
    "Reset": (5, 1, 2),  # options.entries[].value
    "StepBatch": (3,),  # actions
    "ResetBatch": (5, 3, 1, 2),  # all.options.entries[].value
    "StepStream": (3, 2),  # step_request.action
}


@FUZZ
@given(
    rpc=st.sampled_from(sorted(VALUE_AT)),
    depth=st.one_of(st.integers(1, 60), st.integers(200, 1000)),
    via=st.sampled_from(["list", "map", "mixed"]),
)
def test_values_nested_past_the_decoder_limit(wire: Wire, rpc: str, depth: int, via: str) -> None:
    targets = wire.ensure_targets()
    value = fz.nest(VALUE_AT[rpc], fz.deep_value(depth, via))
    if rpc == "StepStream":
        answer = wire.stream([*wire.prefix("single"), fz.field_varint(1, 2) + value, FOLLOW_UP])
        if depth >= 200:
            assert answer.outcome(1) == (INVALID_ARGUMENT, "INVALID_REQUEST")
        assert answer.outcome(2) == (OK, "")
        return
    session = targets.batched if rpc.endswith("Batch") else targets.single
    answer = wire.unary(rpc, fz.field_bytes(1, session.encode()) + value)
    if depth >= 200:
        assert (answer.code, answer.reason) == (INVALID_ARGUMENT, "INVALID_REQUEST")


def _with_dtype(value: values_pb2.Value, key: str, dtype: int) -> values_pb2.Value:
    for entry in value.map_value.entries:
        if entry.key == key:
            entry.value.tensor.dtype = dtype
    return value


@FUZZ
@given(
    case=st.sampled_from(["step", "step_batch", "options", "stream_step", "stream_options"]),
    dtype=fz.UNKNOWN_DTYPES,
    key=st.sampled_from(TENSOR_KEYS),
    seed=st.integers(0, 2**32 - 1),
)
def test_unknown_dtypes_are_invalid_values(
    wire: Wire, case: str, dtype: int, key: str, seed: int
) -> None:
    targets = wire.ensure_targets()
    step = valid_step(targets.single, seed)
    _with_dtype(step.action, key, dtype)
    reset = pb.ResetRequest(session_id=targets.single)
    reset.options.entries.add(key="x").value.tensor.CopyFrom(
        values_pb2.Tensor(dtype=dtype, shape=[1], data=b"\x00" * 8)
    )
    if case == "step":
        answer = wire.unary("Step", step.SerializeToString())
    elif case == "step_batch":
        request = valid_step_batch(targets.batched, seed)
        _with_dtype(request.actions, key, dtype)
        answer = wire.unary("StepBatch", request.SerializeToString())
    elif case == "options":
        answer = wire.unary("Reset", reset.SerializeToString())
    else:
        step.session_id, reset.session_id = "", ""
        kind = {"stream_step": {"step_request": step}, "stream_options": {"reset_request": reset}}
        answers = wire.stream([*wire.prefix("attached"), stream_message(2, **kind[case])])
        assert answers.outcome(1) == (INVALID_ARGUMENT, "INVALID_VALUE")
        return
    assert (answer.code, answer.reason) == (INVALID_ARGUMENT, "INVALID_VALUE")


@FUZZ
@given(
    mode=st.one_of(st.just(7), st.integers(4, 2**31 - 1), st.integers(-(2**31), -1)),
    on_stream=st.booleans(),
)
def test_unknown_autoreset_modes_are_invalid_requests(
    wire: Wire, mode: int, on_stream: bool
) -> None:
    new = pb.NewBatchSession(num_envs=NUM_ENVS, autoreset_mode=mode)
    request = pb.ResetBatchRequest(new_session=new)
    if on_stream:
        answer = wire.stream([stream_message(1, reset_batch_request=request)])
        assert answer.outcome(0) == (INVALID_ARGUMENT, "INVALID_REQUEST")
    else:
        by_call = wire.unary("ResetBatch", request.SerializeToString())
        assert (by_call.code, by_call.reason) == (INVALID_ARGUMENT, "INVALID_REQUEST")


# --- oversized fields -----------------------------------------------------------


def _long_session_id(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    rpc = data.draw(st.sampled_from(["Step", "State", "CloseSession", "StepBatch", "Reset"]))
    long_id = data.draw(st.sampled_from("x0é"), label="char") * data.draw(
        st.one_of(st.just(2**20), st.integers(129, 2**20)), label="length"
    )
    request: Any = {
        "Step": lambda: valid_step(long_id),
        "StepBatch": lambda: valid_step_batch(long_id),
        "Reset": lambda: pb.ResetRequest(session_id=long_id),
        "State": lambda: pb.StateRequest(session_id=long_id),
        "CloseSession": lambda: pb.CloseSessionRequest(session_id=long_id),
    }[rpc]()
    return rpc, request.SerializeToString(), (Code.NOT_FOUND, "SESSION_NOT_FOUND")


def _many_env_ids(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    rpc = data.draw(st.sampled_from(["StepBatch", "ResetBatch", "ResetBatchNew"]))
    n = data.draw(st.one_of(st.just(1_000_000), st.integers(10_000, 1_000_000)), label="env_ids")
    ids = data.draw(st.sampled_from(["zeros", "range", "minus_one", "int32_max"]), label="ids")
    if rpc == "StepBatch":
        head = valid_step_batch(wire.targets.batched).SerializeToString()
        payload = head + fz.packed_ids(2, n, ids)
    elif rpc == "ResetBatch":
        head = pb.ResetBatchRequest(session_id=wire.targets.batched).SerializeToString()
        payload = head + fz.packed_ids(4, n, ids)
    else:
        rpc = "ResetBatch"
        new = pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=NUM_ENVS))
        payload = new.SerializeToString() + fz.packed_ids(4, n, ids)
    return rpc, payload, (INVALID_ARGUMENT, "INVALID_REQUEST")


def _overflowing_shape(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    shape = data.draw(fz.overflowing_shape(), label="shape")
    tensor = values_pb2.Tensor(dtype=data.draw(st.integers(1, 12)), shape=shape)
    rpc = data.draw(st.sampled_from(["Step", "StepBatch", "Reset"]))
    request: Any
    if rpc == "Reset":
        request = pb.ResetRequest(session_id=wire.targets.single)
        request.options.entries.add(key="big").value.tensor.CopyFrom(tensor)
    else:
        request = (valid_step if rpc == "Step" else valid_step_batch)(
            wire.targets.single if rpc == "Step" else wire.targets.batched
        )
        action = request.action if rpc == "Step" else request.actions
        key = data.draw(st.sampled_from(TENSOR_KEYS), label="key")
        next(e for e in action.map_value.entries if e.key == key).value.tensor.CopyFrom(tensor)
    return rpc, request.SerializeToString(), (INVALID_ARGUMENT, "INVALID_VALUE")


def _many_sub_envs(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    num_envs = data.draw(st.integers(MAX_NUM_ENVS + 1, 2**31 - 1), label="num_envs")
    request = pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=num_envs))
    return "ResetBatch", request.SerializeToString(), (Code.RESOURCE_EXHAUSTED, "ENV_LIMIT")


def _large_options(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    size = data.draw(st.integers(2**20 + 1, 3 * 2**20), label="bytes")
    rpc = data.draw(st.sampled_from(["Reset", "ResetBatch"]))
    request: Any
    if rpc == "Reset":
        request = pb.ResetRequest(session_id=wire.targets.single)
        options = request.options
    else:
        request = pb.ResetBatchRequest(session_id=wire.targets.batched)
        options = request.all.options
    options.entries.add(key="blob").value.bytes_value = b"\x00" * size
    return rpc, request.SerializeToString(), (Code.RESOURCE_EXHAUSTED, "REQUEST_TOO_LARGE")


def _long_keys(wire: Wire, data: st.DataObject) -> tuple[str, bytes, tuple[Code, str]]:
    request = valid_step(wire.targets.single)
    count = data.draw(st.integers(1, 2000), label="keys")
    length = data.draw(st.integers(1, 4000), label="key length")
    for i in range(count):
        request.action.map_value.entries.add(key=f"{i}".rjust(length, "k")).value.int_value = i
    return "Step", request.SerializeToString(), (INVALID_ARGUMENT, "ACTION_OUT_OF_SPACE")


OVERSIZED = {
    "long_session_id": _long_session_id,
    "many_env_ids": _many_env_ids,
    "overflowing_shape": _overflowing_shape,
    "many_sub_envs": _many_sub_envs,
    "large_options": _large_options,
    "long_keys": _long_keys,
}


@pytest.mark.parametrize("case", sorted(OVERSIZED))
@FEW
@given(data=st.data())
def test_oversized_fields_get_their_reason_and_no_echo(
    wire: Wire, case: str, data: st.DataObject
) -> None:
    wire.ensure_targets()
    rpc, payload, wanted = OVERSIZED[case](wire, data)
    answer = wire.unary(rpc, payload)  # its message and metadata are bounded (check_error)
    assert (answer.code, answer.reason) == wanted, answer.message[:300]


@FEW
@given(length=st.one_of(st.just(2**20), st.integers(129, 2**20)), on_bound=st.booleans())
def test_a_long_session_id_on_a_stream_is_not_echoed(
    wire: Wire, length: int, on_bound: bool
) -> None:
    wire.ensure_targets()
    long_id = "s" * length
    if on_bound:  # a bound stream asked to drive another session
        step = valid_step(long_id)
        answer = wire.stream([*wire.prefix("single"), stream_message(2, step_request=step)])
        assert answer.outcome(1) == (INVALID_ARGUMENT, "INVALID_REQUEST")
    else:
        attach = pb.AttachRequest(session_id=long_id)
        answer = wire.stream([stream_message(1, attach_request=attach)])
        assert answer.outcome(0) == (Code.NOT_FOUND, "SESSION_NOT_FOUND")


@settings(FEW, max_examples=20)
@given(
    n=st.one_of(st.just(1_000_000), st.integers(10_000, 1_000_000)),
    ids=st.sampled_from(["zeros", "range", "minus_one"]),
)
def test_many_env_ids_on_a_stream_are_an_invalid_request(wire: Wire, n: int, ids: str) -> None:
    send = pb.SendRequest()
    send.actions.CopyFrom(fz.sample(BATCHED_SPACE, 0))
    message = stream_message(2) + fz.field_bytes(
        8, send.SerializeToString() + fz.packed_ids(1, n, ids)
    )
    answer = wire.stream([*wire.prefix("batched"), message, FOLLOW_UP])
    assert answer.outcome(1) == (INVALID_ARGUMENT, "INVALID_REQUEST")


# --- actions bent out of the action space ---------------------------------------


@FUZZ
@given(action=fz.actions(SPACE))
def test_wrong_actions_get_the_same_answer_on_both_paths(wire: Wire, action: fz.Action) -> None:
    targets = wire.ensure_targets()
    payload = pb.StepRequest(session_id=targets.single).SerializeToString()
    payload += fz.field_bytes(2, action.data)
    by_call = wire.unary("Step", payload)
    tally("Step", by_call.outcome)
    if fz.parses(pb.StepRequest, payload):
        request = pb.StepRequest.FromString(payload)
        wanted = expected_outcome(lambda: decode_action(request.action, SPACE))
        assert wanted in (None, (by_call.code, by_call.reason)), by_call.message[:300]
    message = fz.field_varint(1, 2) + fz.field_bytes(3, fz.field_bytes(2, action.data))
    on_stream = wire.stream(
        [*wire.prefix("attached"), message, stream_message(3, step_request=valid_step())]
    )
    if fz.parses(pb.StepStreamRequest, message):  # one level deeper: it may be past the limit
        assert on_stream.outcome(1) == (by_call.code, by_call.reason)
    assert on_stream.outcome(2) == (OK, "")  # the session goes on
    assert wire.unary("Step", valid_step(targets.single).SerializeToString()).code is OK


@FUZZ
@given(action=fz.actions(BATCHED_SPACE))
def test_wrong_batched_actions_get_the_same_answer_on_both_paths(
    wire: Wire, action: fz.Action
) -> None:
    targets = wire.fresh_batched()
    payload = pb.StepBatchRequest(session_id=targets.batched).SerializeToString()
    payload += fz.field_bytes(3, action.data)
    by_call = wire.unary("StepBatch", payload)
    tally("StepBatch", by_call.outcome)
    if fz.parses(pb.StepBatchRequest, payload):
        request = pb.StepBatchRequest.FromString(payload)
        wanted = expected_outcome(lambda: decode_action(request.actions, BATCHED_SPACE))
        assert wanted in (None, (by_call.code, by_call.reason)), by_call.message[:300]
    if by_call.code is OK:
        response = pb.StepBatchResponse.FromString(by_call.response)
        assert list(response.env_ids) == list(range(NUM_ENVS))
        assert not response.sub_env_errors
    message = fz.field_varint(1, 2) + fz.field_bytes(5, fz.field_bytes(3, action.data))
    on_stream = wire.stream(
        [
            *wire.prefix("attached_batch"),
            message,
            stream_message(3, step_batch_request=valid_step_batch()),
        ]
    )
    if fz.parses(pb.StepStreamRequest, message):
        assert on_stream.outcome(1) == (by_call.code, by_call.reason)
    assert on_stream.outcome(2) == (OK, "")
    ok = wire.unary("StepBatch", valid_step_batch(targets.batched).SerializeToString())
    assert ok.code is OK


# --- empty oneofs and malformed values: the contract's exact reason -------------


def _emptied(key: str) -> Callable[[values_pb2.Value], None]:
    def edit(action: values_pb2.Value) -> None:
        next(e for e in action.map_value.entries if e.key == key).value.Clear()

    return edit


def _tensor_edit(key: str, **fields: Any) -> Callable[[values_pb2.Value], None]:
    def edit(action: values_pb2.Value) -> None:
        tensor = next(e for e in action.map_value.entries if e.key == key).value.tensor
        for name, value in fields.items():
            if name == "data":
                tensor.data = value(tensor.data)
            elif name == "shape":
                tensor.shape[:] = value
            else:
                setattr(tensor, name, value)

    return edit


def _repeated_key(action: values_pb2.Value) -> None:
    entries = action.map_value.entries
    entries.add(key=entries[0].key).value.CopyFrom(entries[0].value)


# name: (edit of a valid action, the reason errors.proto gives it)
ACTION_CASES: dict[str, tuple[Callable[[values_pb2.Value], None], str]] = {
    "the action is an empty Value": (lambda action: action.Clear(), "INVALID_VALUE"),
    "an entry is an empty Value": (_emptied("vector"), "INVALID_VALUE"),
    "a Text entry is an empty Value": (_emptied("text"), "INVALID_VALUE"),
    "a tensor without a dtype": (_tensor_edit("image", dtype=0), "INVALID_VALUE"),
    "a tensor one byte short": (_tensor_edit("vector", data=lambda d: d[:-1]), "INVALID_VALUE"),
    "a tensor one byte long": (_tensor_edit("half", data=lambda d: d + b"\x00"), "INVALID_VALUE"),
    "a negative dimension": (_tensor_edit("multi_binary", shape=[-6]), "INVALID_VALUE"),
    "an action map repeats a key": (_repeated_key, "INVALID_VALUE"),
    "NaN in a float box": (
        _tensor_edit("vector", data=lambda d: b"\x00\x00\x00\x00\x00\x00\xf8\x7f" + d[8:]),
        "ACTION_OUT_OF_SPACE",
    ),
    "inf in a half box": (
        _tensor_edit("half", data=lambda d: b"\x00\x7c" + d[2:]),
        "ACTION_OUT_OF_SPACE",
    ),
}


@pytest.mark.parametrize("case", list(ACTION_CASES))
def test_malformed_actions_get_the_contracts_reason(wire: Wire, case: str) -> None:
    targets = wire.ensure_targets()
    edit, reason = ACTION_CASES[case]
    step = valid_step(targets.single)
    edit(step.action)
    by_call = wire.unary("Step", step.SerializeToString())
    step.session_id = ""
    on_stream = wire.stream([*wire.prefix("attached"), stream_message(2, step_request=step)])
    assert (by_call.code, by_call.reason) == (INVALID_ARGUMENT, reason), by_call.message
    assert on_stream.outcome(1) == (INVALID_ARGUMENT, reason)


def _no_value_in_options(reset: pb.ResetRequest) -> pb.ResetRequest:
    reset.options.entries.add(key="k")
    return reset


# name: (rpc, request from the targets, code, reason)
REQUEST_CASES: dict[str, tuple[str, Callable[[fz.Targets], Any], Code, str]] = {
    "a reset names no session": (
        "Reset",
        lambda t: pb.ResetRequest(),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "a batch reset names no session": (
        "ResetBatch",
        lambda t: pb.ResetBatchRequest(),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "a step without an action": (
        "Step",
        lambda t: pb.StepRequest(session_id=t.single),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "a batched step without actions": (
        "StepBatch",
        lambda t: pb.StepBatchRequest(session_id=t.batched),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "an options entry without a value": (
        "Reset",
        lambda t: _no_value_in_options(pb.ResetRequest(session_id=t.single)),
        INVALID_ARGUMENT,
        "INVALID_VALUE",
    ),
    "no sub-envs": (
        "ResetBatch",
        lambda t: pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=0)),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "minus one sub-env": (
        "ResetBatch",
        lambda t: pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=-1)),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "env ids repeated": (
        "StepBatch",
        lambda t: _ids(valid_step_batch(t.batched), [1, 1]),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
    "env id out of range": (
        "StepBatch",
        lambda t: _ids(valid_step_batch(t.batched), [0, NUM_ENVS]),
        INVALID_ARGUMENT,
        "INVALID_REQUEST",
    ),
}


def _ids(request: pb.StepBatchRequest, env_ids: list[int]) -> pb.StepBatchRequest:
    request.env_ids[:] = env_ids
    return request


@pytest.mark.parametrize("case", list(REQUEST_CASES))
def test_malformed_requests_get_the_contracts_reason(wire: Wire, case: str) -> None:
    rpc, build, code, reason = REQUEST_CASES[case]
    answer = wire.unary(rpc, build(wire.ensure_targets()).SerializeToString())
    assert (answer.code, answer.reason) == (code, reason), answer.message


def test_a_stream_message_with_no_request_is_answered_in_band(wire: Wire) -> None:
    answer = wire.stream([*wire.prefix("single"), stream_message(2), FOLLOW_UP])
    assert answer.outcome(1) == (INVALID_ARGUMENT, "INVALID_REQUEST")
    assert answer.outcome(2) == (OK, "")
