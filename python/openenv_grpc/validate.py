"""Check that a live server keeps the openenv.v1 contract, whatever language it is written in.

`validate(address)` drives the server through the generated stubs alone
(`openenv_proto.v1`), the standard health and reflection services, and the
project's space and value codecs: never through the Python clients, so it
judges the wire behaviour a client in any language sees. It returns a
`Report` of named checks, each passed or failed with a one-line why; the
CLI prints it as a table or as JSON (`openenv-grpc validate ADDR`).

Every call has a deadline (`timeout`), episodes are bounded (`max_steps`),
and every session a check creates is closed again, so validating a
production server leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc
import numpy as np
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import values_pb2

from . import spaces
from .codec import decode_for_space, decode_map, encode_value
from .errors import EnvError

SERVICE = pb.DESCRIPTOR.services_by_name["EnvService"].full_name  # "openenv.v1.EnvService"
DOMAIN = "openenv.v1"  # ErrorInfo.domain of every error of the contract
PROTOCOL_VERSION = "1.1"  # the contract this module checks; sent in the protocol header
PROTOCOL_HEADER = "openenv-protocol-version"
SESSION_HEADER = "openenv-session-id"
DETAILS_TRAILER = "grpc-status-details-bin"
STREAM_STEPS = 8  # steps pipelined on one StepStream by the stream_order check
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SHOW_LIMIT = 100


@dataclass(frozen=True)
class Check:
    """One named check: passed or not, and why in one line."""

    name: str
    passed: bool
    why: str


@dataclass
class Report:
    """Every check run against one server, in order."""

    address: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed (and at least one ran)."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def check(self, name: str) -> Check:
        """The check of that name (KeyError when it did not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: address, ok, counts and every check."""
        return {
            "address": self.address,
            "ok": self.ok,
            "passed": len(self.checks) - len(self.failed),
            "failed": len(self.failed),
            "checks": [asdict(c) for c in self.checks],
        }

    def table(self) -> str:
        """The checks as an aligned text table, with a summary line."""
        width = max((len(c.name) for c in self.checks), default=5)
        lines = [f"{'CHECK':<{width}}  RESULT  WHY"]
        lines += [
            f"{c.name:<{width}}  {'PASS' if c.passed else 'FAIL':<6}  {c.why}" for c in self.checks
        ]
        lines.append(f"{len(self.checks) - len(self.failed)} passed, {len(self.failed)} failed")
        return "\n".join(lines)


class _Failed(Exception):
    """A check failed; the message says why."""


@dataclass(frozen=True)
class _Spec:
    """What the checks need from Describe, decoded."""

    observation_space: gs.Space[Any]
    action_space: gs.Space[Any]
    reward_low: float
    reward_high: float


def validate(
    address: str,
    *,
    episodes: int = 3,
    seed: int = 0,
    timeout: float = 10.0,
    max_steps: int = 50,
    credentials: grpc.ChannelCredentials | None = None,
    token: str = "",
) -> Report:
    """Run every check against the server at `address` ("host:port") and report.

    `episodes` seeded episodes (seeds `seed`, `seed + 1`, ...) of at most
    `max_steps` random actions each (from an RNG seeded with `seed`) check
    observations against the declared space; `timeout` is each call's
    deadline in seconds. `credentials` (TLS) and `token` (a bearer token) reach servers
    that need them.
    """
    if episodes < 1 or max_steps < 1 or timeout <= 0:
        raise ValueError("episodes and max_steps must be at least 1, timeout above 0")
    options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
    with _channel(address, credentials, options) as channel:
        validator = _Validator(address, channel, episodes, seed, timeout, max_steps)
        validator.token = token
        return validator.run()


def _channel(
    address: str, credentials: grpc.ChannelCredentials | None, options: list[tuple[str, Any]]
) -> grpc.Channel:
    if credentials is not None:
        return grpc.secure_channel(address, credentials, options=options)
    return grpc.insecure_channel(address, options=options)


class _Validator:
    def __init__(
        self,
        address: str,
        channel: grpc.Channel,
        episodes: int,
        seed: int,
        timeout: float,
        max_steps: int,
    ) -> None:
        self.report = Report(address)
        self.channel = channel
        self.stub = pb_grpc.EnvServiceStub(channel)
        self.episodes, self.seed, self.timeout, self.max_steps = episodes, seed, timeout, max_steps
        self.spec: _Spec | None = None
        self.closed: list[str] = []
        self.close_failures: list[str] = []
        self.token = ""

    def run(self) -> Report:
        checks: list[tuple[str, Callable[[], str]]] = [
            ("health", self.check_health),
            ("reflection", self.check_reflection),
            ("describe", self.check_describe),
            ("observations_in_space", self.check_observations),
            ("same_seed_same_observations", self.check_determinism),
            ("action_out_of_space", self.check_action_out_of_space),
            ("unknown_session", self.check_unknown_session),
            ("stream_order", self.check_stream_order),
            ("step_out_of_order", self.check_step_out_of_order),
            ("sessions_closed", self.check_sessions_closed),
        ]
        for name, check in checks:
            self.report.checks.append(_run(name, check))
        return self.report

    # -- calls --------------------------------------------------------------

    def _metadata(self, session_id: str = "") -> tuple[tuple[str, str | bytes], ...]:
        headers: list[tuple[str, str | bytes]] = [(PROTOCOL_HEADER, PROTOCOL_VERSION)]
        if session_id:
            headers.append((SESSION_HEADER, session_id))
        if self.token:
            headers.append(("authorization", f"Bearer {self.token}"))
        return tuple(headers)

    def _reset(self, seed: int) -> pb.ResetResponse:
        request = pb.ResetRequest(
            new_session=pb.NewSession(request_id=str(uuid.uuid4())), seed=seed
        )
        try:
            reply: pb.ResetResponse = self.stub.Reset(
                request, timeout=self.timeout, metadata=self._metadata()
            )
        except grpc.RpcError as err:
            raise _Failed(f"Reset (new session, seed {seed}) failed: {_rpc_error(err)}") from None
        return reply

    def _step(self, session_id: str, action: values_pb2.Value, step_index: int) -> pb.StepResponse:
        request = pb.StepRequest(session_id=session_id, action=action, step_index=step_index)
        reply: pb.StepResponse = self.stub.Step(
            request, timeout=self.timeout, metadata=self._metadata(session_id)
        )
        return reply

    def _step_or_fail(
        self, session_id: str, action: values_pb2.Value, step_index: int, where: str
    ) -> pb.StepResponse:
        try:
            return self._step(session_id, action, step_index)
        except grpc.RpcError as err:
            raise _Failed(f"{where}: Step failed: {_rpc_error(err)}") from None

    @contextlib.contextmanager
    def _session(self, seed: int) -> Iterator[pb.ResetResponse]:
        """A new session reset with `seed`, closed (and recorded) on the way out."""
        reply = self._reset(seed)
        try:
            yield reply
        finally:
            self._close(reply.session_id)

    def _close(self, session_id: str) -> None:
        try:
            self.stub.CloseSession(
                pb.CloseSessionRequest(session_id=session_id),
                timeout=self.timeout,
                metadata=self._metadata(session_id),
            )
        except grpc.RpcError as err:
            self.close_failures.append(f"{session_id}: {_rpc_error(err)}")
        self.closed.append(session_id)

    def _need_spec(self) -> _Spec:
        if self.spec is None:
            raise _Failed("cannot run: Describe did not give usable spaces (see describe)")
        return self.spec

    # -- checks -------------------------------------------------------------

    def check_health(self) -> str:
        stub = health_pb2_grpc.HealthStub(self.channel)
        for service in ("", SERVICE):
            try:
                reply = stub.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=self.timeout
                )
            except grpc.RpcError as err:
                raise _Failed(f"health Check({service!r}) failed: {_rpc_error(err)}") from None
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            if status != "SERVING":
                raise _Failed(f"health of {service!r} is {status}, not SERVING")
        return f'SERVING for "" and "{SERVICE}"'

    def check_reflection(self) -> str:
        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE),
        ]
        try:
            answers = list(stub.ServerReflectionInfo(iter(requests), timeout=self.timeout))
        except grpc.RpcError as err:
            raise _Failed(f"server reflection (v1alpha) failed: {_rpc_error(err)}") from None
        if len(answers) != len(requests):
            raise _Failed(f"reflection answered {len(requests)} requests {len(answers)} times")
        listed, described = answers
        names = sorted(s.name for s in listed.list_services_response.service)
        if SERVICE not in names:
            raise _Failed(f"reflection lists {names}, without {SERVICE}")
        methods = _reflected_methods(described.file_descriptor_response.file_descriptor_proto)
        expected = {
            m.name: (m.client_streaming, m.server_streaming)
            for m in pb.DESCRIPTOR.services_by_name["EnvService"].methods
        }
        if methods is None:
            raise _Failed(f"reflection lists {SERVICE} but has no descriptor for it")
        missing = sorted(set(expected) - set(methods))
        if missing:
            raise _Failed(f"reflection's {SERVICE} lacks methods {missing}")
        wrong = sorted(name for name, kind in expected.items() if methods[name] != kind)
        if wrong:
            raise _Failed(f"reflection's {SERVICE} streams differently in {wrong}")
        return f"lists {SERVICE} and describes its {len(expected)} methods"

    def check_describe(self) -> str:
        try:
            reply: pb.DescribeResponse = self.stub.Describe(
                pb.DescribeRequest(), timeout=self.timeout, metadata=self._metadata()
            )
        except grpc.RpcError as err:
            raise _Failed(f"Describe failed: {_rpc_error(err)}") from None
        if not reply.env_name:
            raise _Failed("env_name is empty")
        major, dot, minor = reply.protocol_version.partition(".")
        if not (dot and major.isdigit() and minor.isdigit()):
            raise _Failed(f"protocol_version {reply.protocol_version!r} is not MAJOR.MINOR")
        if major != PROTOCOL_VERSION.split(".")[0]:
            raise _Failed(f"protocol MAJOR is {major}, this validator checks MAJOR 1")
        decoded = []
        for name in ("observation_space", "action_space"):
            try:
                decoded.append(spaces.from_proto(getattr(reply, name)))
            except (EnvError, ValueError, TypeError) as exc:
                raise _Failed(f"{name} does not decode: {exc}") from None
        low, high = reply.reward_range.low, reply.reward_range.high
        if not reply.HasField("reward_range"):
            raise _Failed("reward_range is unset (send -inf and +inf for an unbounded reward)")
        if not low <= high:  # also catches NaN
            raise _Failed(f"reward_range low {low} is not <= high {high}")
        _check_capabilities(reply)
        try:
            decode_map(reply.metadata)
        except EnvError as exc:
            raise _Failed(f"metadata does not decode: {exc}") from None
        self.spec = _Spec(decoded[0], decoded[1], low, high)
        return _clip(
            f"{reply.env_name} protocol {reply.protocol_version}; observations {decoded[0]}; "
            f"actions {decoded[1]}; reward [{low}, {high}]"
        )

    def check_observations(self) -> str:
        spec = self._need_spec()
        spec.action_space.seed(self.seed)
        steps = 0
        for episode in range(self.episodes):
            seed = self.seed + episode
            with self._session(seed) as reply:
                where = f"episode {episode} (seed {seed})"
                _observation_in(spec, reply.observation, f"{where} reset")
                for index in range(1, self.max_steps + 1):
                    action = _wire_sample(spec.action_space)
                    step = self._step_or_fail(
                        reply.session_id, encode_value(action), index, f"{where} step {index}"
                    )
                    steps += 1
                    _observation_in(spec, step.observation, f"{where} step {index}")
                    if step.step_index != index:
                        raise _Failed(f"{where} step {index} answered step_index {step.step_index}")
                    if not spec.reward_low <= step.reward <= spec.reward_high:
                        raise _Failed(
                            f"{where} step {index}: reward {step.reward} is outside "
                            f"[{spec.reward_low}, {spec.reward_high}]"
                        )
                    if step.terminated or step.truncated:
                        break
        return _clip(
            f"{self.episodes} episodes, {steps} steps: every observation in "
            f"{spec.observation_space}, every reward in range"
        )

    def check_determinism(self) -> str:
        spec = self._need_spec()
        spec.action_space.seed(self.seed)
        actions = [encode_value(_wire_sample(spec.action_space)) for _ in range(self.max_steps)]
        with self._session(self.seed) as first, self._session(self.seed) as second:
            pair = (first.session_id, second.session_id)
            _same(first.observation, second.observation, spec, "the reset observations")
            # Interleaved, as a trainer runs sessions: envs must not share random state.
            steps = 0
            for index, action in enumerate(actions, start=1):
                a, b = (
                    self._step_or_fail(sid, action, index, f"step {index} with seed {self.seed}")
                    for sid in pair
                )
                steps = index
                _same(a.observation, b.observation, spec, f"the observations of step {index}")
                if (a.reward, a.terminated, a.truncated) != (b.reward, b.terminated, b.truncated):
                    raise _Failed(
                        f"step {index} of two sessions with seed {self.seed} differs: "
                        f"reward/terminated/truncated {(a.reward, a.terminated, a.truncated)} "
                        f"vs {(b.reward, b.terminated, b.truncated)}"
                    )
                if a.terminated or a.truncated:
                    break
        return f"two sessions with seed {self.seed} observed the same over {steps} steps"

    def check_action_out_of_space(self) -> str:
        spec = self._need_spec()
        bad = outside(spec.action_space)
        if bad is None:
            return f"nothing lies outside {spec.action_space}: no action to refuse"
        with self._session(self.seed) as reply:
            _expect_error(
                lambda: self._step(reply.session_id, encode_value(bad), 1),
                grpc.StatusCode.INVALID_ARGUMENT,
                "ACTION_OUT_OF_SPACE",
                f"Step with {_show(bad)} (outside {spec.action_space})",
            )
        return _clip(f"{_show(bad)}: INVALID_ARGUMENT / ACTION_OUT_OF_SPACE")

    def check_unknown_session(self) -> str:
        session_id = f"openenv-validate-no-such-session-{uuid.uuid4()}"
        action = encode_value(_wire_sample(self.spec.action_space) if self.spec else 0)
        _expect_error(
            lambda: self._step(session_id, action, 1),
            grpc.StatusCode.NOT_FOUND,
            "SESSION_NOT_FOUND",
            "Step on an unknown session",
        )
        return "Step on an unknown session: NOT_FOUND / SESSION_NOT_FOUND"

    def check_stream_order(self) -> str:
        spec = self._need_spec()
        spec.action_space.seed(self.seed)
        requests = [
            pb.StepStreamRequest(
                seq=7,
                reset_request=pb.ResetRequest(
                    new_session=pb.NewSession(request_id=str(uuid.uuid4())), seed=self.seed
                ),
            )
        ]
        # Sparse, growing seqs, so an echo of a counter instead of the request's seq shows.
        for index in range(1, STREAM_STEPS + 1):
            action = encode_value(_wire_sample(spec.action_space))
            step = pb.StepRequest(action=action, step_index=index)
            requests.append(pb.StepStreamRequest(seq=7 + 10 * index, step_request=step))
        requests.append(
            pb.StepStreamRequest(seq=7 + 10 * (STREAM_STEPS + 1), state_request=pb.StateRequest())
        )
        try:  # all requests go out at once: a pipelining client
            responses = list(
                self.stub.StepStream(
                    iter(requests), timeout=self.timeout, metadata=self._metadata()
                )
            )
        except grpc.RpcError as err:
            raise _Failed(f"StepStream failed: {_rpc_error(err)}") from None
        if len(responses) != len(requests):
            raise _Failed(f"{len(requests)} pipelined requests got {len(responses)} responses")
        applied, ended = 0, False
        for i, (request, response) in enumerate(zip(requests, responses, strict=True)):
            if response.seq != request.seq:
                got = [r.seq for r in responses]
                raise _Failed(f"response {i} has seq {response.seq}, not {request.seq}: {got}")
            asked, kind = request.WhichOneof("request") or "", response.WhichOneof("response")
            if ended and asked == "step_request":
                # The episode ended before the last pipelined step: each later step is
                # refused in-band, and the stream goes on. The first one is EPISODE_ENDED;
                # later ones are also out of order, and either reason is right.
                index = request.step_request.step_index
                allowed = ["EPISODE_ENDED"] + (["STEP_OUT_OF_ORDER"] if index > applied + 1 else [])
                if kind != "error" or _error_info_reason(response.error) not in allowed:
                    raise _Failed(
                        f"seq {request.seq}, step_index {index} after the episode ended at "
                        f"step {applied}, was answered by {_answer_text(response)}, not an "
                        f"in-band {' or '.join(allowed)} error"
                    )
                continue
            if kind != asked.replace("_request", "_response"):
                raise _Failed(
                    f"seq {request.seq} ({asked}) was answered by {_answer_text(response)}"
                )
            if kind == "step_response":
                applied += 1
                ended = response.step_response.terminated or response.step_response.truncated
                if response.step_response.step_index != request.step_request.step_index:
                    raise _Failed(
                        f"seq {request.seq} (step_index {request.step_request.step_index}) was "
                        f"answered with step_index {response.step_response.step_index}"
                    )
            if kind == "state_response" and response.state_response.step_count != applied:
                raise _Failed(
                    f"State after {applied} applied steps says step_count "
                    f"{response.state_response.step_count}"
                )
        return f"{len(requests)} pipelined requests answered in order, each with its seq"

    def check_step_out_of_order(self) -> str:
        spec = self._need_spec()
        action = encode_value(_wire_sample(spec.action_space))
        with self._session(self.seed) as reply:
            info = _expect_error(
                lambda: self._step(reply.session_id, action, 5),
                grpc.StatusCode.ABORTED,
                "STEP_OUT_OF_ORDER",
                "Step with step_index 5 right after Reset",
            )
        if info.metadata.get("step_count") != "0":
            raise _Failed(
                f"STEP_OUT_OF_ORDER metadata step_count is {info.metadata.get('step_count')!r}, "
                "not '0' (no step applied yet)"
            )
        return "step_index 5 right after Reset: ABORTED / STEP_OUT_OF_ORDER, step_count 0"

    def check_sessions_closed(self) -> str:
        if self.close_failures:
            raise _Failed(f"CloseSession failed: {'; '.join(self.close_failures)}")
        if not self.closed:
            raise _Failed("cannot run: no check created a session")
        last = self.closed[-1]
        _expect_error(
            lambda: self.stub.State(
                pb.StateRequest(session_id=last), timeout=self.timeout, metadata=self._metadata()
            ),
            grpc.StatusCode.NOT_FOUND,
            "SESSION_NOT_FOUND",
            "State of a closed session",
        )
        return f"all {len(self.closed)} sessions closed; State of a closed one is NOT_FOUND"


# -- helpers ------------------------------------------------------------------


def _run(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    except _Failed as exc:
        return Check(name, False, _clip(str(exc)))
    except grpc.RpcError as err:
        return Check(name, False, _clip(f"unexpected failure: {_rpc_error(err)}"))
    except (EnvError, ValueError, TypeError) as exc:  # a value the codec refused
        return Check(name, False, _clip(f"{type(exc).__name__}: {exc}"))


def _rpc_error(err: grpc.RpcError) -> str:
    return f"{err.code().name}: {err.details()}"


def _check_capabilities(reply: pb.DescribeResponse) -> None:
    if not reply.HasField("capabilities"):
        raise _Failed("capabilities are unset")
    caps = reply.capabilities
    problems = []
    if caps.max_sessions < 0:
        problems.append(f"max_sessions {caps.max_sessions} < 0")
    if caps.max_message_bytes <= 0:
        problems.append(f"max_message_bytes {caps.max_message_bytes} is not positive")
    if caps.max_num_envs < 0:
        problems.append(f"max_num_envs {caps.max_num_envs} < 0")
    if caps.batched != (caps.max_num_envs >= 1):
        problems.append(f"batched is {caps.batched} with max_num_envs {caps.max_num_envs}")
    ttl = caps.session_ttl
    if ttl.seconds < 0 or ttl.nanos < 0 or ttl.nanos >= 10**9:
        problems.append(f"session_ttl {ttl.seconds}s {ttl.nanos}ns is not a valid duration >= 0")
    modes = list(caps.autoreset_modes)
    known = set(pb.AutoresetMode.values()) - {pb.AUTORESET_MODE_UNSPECIFIED}
    if any(m not in known for m in modes) or len(set(modes)) != len(modes):
        problems.append(f"autoreset_modes {modes} has unknown, unset or repeated modes")
    if caps.batched and not modes:
        problems.append("batched without any autoreset mode")
    if problems:
        raise _Failed("capabilities: " + "; ".join(problems))


def _reflected_methods(files: Any) -> dict[str, tuple[bool, bool]] | None:
    """The EnvService methods (name: client, server streaming) in reflection's descriptors."""
    package, _, name = SERVICE.rpartition(".")
    for blob in files:
        proto = descriptor_pb2.FileDescriptorProto.FromString(blob)
        if proto.package != package:
            continue
        for service in proto.service:
            if service.name == name:
                return {m.name: (m.client_streaming, m.server_streaming) for m in service.method}
    return None


def _expect_error(call: Callable[[], object], code: grpc.StatusCode, reason: str, what: str) -> Any:
    """Make a call that must fail with `code` and an ErrorInfo of `reason`; its ErrorInfo."""
    expected = f"{code.name} / {reason}"
    try:
        call()
    except grpc.RpcError as err:
        if err.code() != code:
            raise _Failed(f"{what}: expected {expected}, got {_rpc_error(err)}") from None
        status = _trailer_status(err)
        if status is None:
            raise _Failed(
                f"{what}: {code.name} as expected, but no google.rpc.Status in the "
                f"{DETAILS_TRAILER} trailer"
            ) from None
        if status.code != code.value[0]:
            raise _Failed(
                f"{what}: the trailer's Status has code {status.code}, the call {code.name}"
            ) from None
        info = _error_info(status)
        if info is None:
            raise _Failed(f"{what}: {code.name} as expected, but no ErrorInfo detail") from None
        if info.domain != DOMAIN or info.reason != reason:
            raise _Failed(
                f"{what}: expected ErrorInfo {DOMAIN}/{reason}, got {info.domain}/{info.reason}"
            ) from None
        return info
    raise _Failed(f"{what}: expected {expected}, but the call succeeded")


def _trailer_status(err: grpc.RpcError) -> Any:
    trailers: Any = err.trailing_metadata() or ()  # (key, value) pairs at run time
    for key, value in trailers:
        if key == DETAILS_TRAILER and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except Exception:  # garbage in the trailer counts as no Status
                return None
            return status
    return None


def _error_info(status: Any) -> Any:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def _error_info_reason(status: Any) -> str:
    info = _error_info(status)
    return str(info.reason) if info is not None else ""


def _answer_text(response: pb.StepStreamResponse) -> str:
    """What a stream response holds, for a failure message."""
    kind = response.WhichOneof("response")
    if kind != "error":
        return str(kind)
    status = response.error
    reason = _error_info_reason(status) or "no ErrorInfo"
    return f"an error (code {status.code}, {reason}: {status.message})"


def _observation_in(spec: _Spec, value: values_pb2.Value, where: str) -> None:
    try:
        observation = decode_for_space(value, spec.observation_space)
    except EnvError as exc:
        raise _Failed(f"{where}: the observation does not decode: {exc}") from None
    if not spec.observation_space.contains(observation):
        raise _Failed(
            f"{where}: observation {_show(observation)} is not in {spec.observation_space}"
        )


def _same(a: values_pb2.Value, b: values_pb2.Value, spec: _Spec, what: str) -> None:
    """Bit for bit: the same seed and actions must give the same bytes."""
    if a.SerializeToString(deterministic=True) != b.SerializeToString(deterministic=True):
        first = _show(decode_for_space(a, spec.observation_space))
        second = _show(decode_for_space(b, spec.observation_space))
        raise _Failed(f"{what} differ between two sessions with the same seed: {first} vs {second}")


def _wire_sample(space: gs.Space[Any]) -> Any:
    """A random sample of `space` in the form every server reads (Discrete as a plain int)."""
    return _to_wire(space, space.sample())


def _to_wire(space: gs.Space[Any], value: Any) -> Any:
    if isinstance(space, gs.Discrete):
        return int(value)
    if isinstance(space, gs.Dict):
        return {key: _to_wire(sub, value[key]) for key, sub in space.spaces.items()}
    if isinstance(space, gs.Tuple):
        return tuple(_to_wire(sub, item) for sub, item in zip(space.spaces, value, strict=True))
    return value


def outside(space: gs.Space[Any]) -> Any:
    """A value of the space's own kind that lies just outside it; None when none exists.

    Out of range rather than malformed, so a server must answer with
    ACTION_OUT_OF_SPACE (not INVALID_VALUE).
    """
    if isinstance(space, gs.Discrete):
        start, n = int(space.start), int(space.n)
        if start + n <= _INT64_MAX:
            return start + n
        return start - 1 if start - 1 >= _INT64_MIN else None
    if isinstance(space, gs.MultiBinary):
        return np.full(space.shape, 2, dtype=space.dtype)
    if isinstance(space, gs.MultiDiscrete):
        value = np.asarray(space.start + space.nvec, dtype=space.dtype)
        return None if space.contains(value) else value
    if isinstance(space, gs.Box):
        return _outside_box(space)
    if isinstance(space, gs.Text):
        foreign = next((c for c in "\u2603~#" if c not in space.character_set), None)
        if foreign is not None:
            return foreign * max(1, space.min_length)
        return space.character_list[0] * (space.max_length + 1) if space.character_list else None
    if isinstance(space, gs.Dict):
        sample = _wire_sample(space)
        for key, sub in space.spaces.items():
            if (bad := outside(sub)) is not None:
                return {**sample, key: bad}
        return None
    if isinstance(space, gs.Tuple):
        items = list(_wire_sample(space))
        for i, sub in enumerate(space.spaces):
            if (bad := outside(sub)) is not None:
                items[i] = bad
                return tuple(items)
        return None
    return None


def _outside_box(space: gs.Box) -> Any:
    """The box's low corner with one element past its bound; wrong-shaped when unbounded."""
    dtype = space.dtype
    value = np.array(space.low, dtype=dtype).reshape(-1)
    high, low = space.high.reshape(-1), space.low.reshape(-1)
    above, below = space.bounded_above.reshape(-1), space.bounded_below.reshape(-1)
    for i in range(value.size):
        if dtype.kind == "f":
            if above[i]:
                value[i] = np.nextafter(high[i], np.inf, dtype=dtype)
                return value.reshape(space.shape)
            if below[i]:
                value[i] = np.nextafter(low[i], -np.inf, dtype=dtype)
                return value.reshape(space.shape)
        elif dtype.kind in "iu":
            bits = np.iinfo(dtype.type)  # type: ignore[type-var]
            if above[i] and high[i] < bits.max:
                value[i] = high[i] + 1
                return value.reshape(space.shape)
            if below[i] and low[i] > bits.min:
                value[i] = low[i] - 1
                return value.reshape(space.shape)
    # Nothing is bounded: a sample of the wrong shape is still outside.
    return np.zeros((*space.shape, 2), dtype=dtype)


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=8, separator=", ").replace("\n", "")
        text = f"{text} ({value.dtype})"
    else:
        text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def _clip(text: str, limit: int = 240) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- describe as JSON ------------------------------------------------------------


def describe(
    address: str,
    timeout: float,
    credentials: grpc.ChannelCredentials | None = None,
    token: str = "",
) -> pb.DescribeResponse:
    """The server's Describe answer (grpc.RpcError when it cannot be had)."""
    headers = [(PROTOCOL_HEADER, PROTOCOL_VERSION)]
    if token:
        headers.append(("authorization", f"Bearer {token}"))
    with _channel(address, credentials, []) as channel:
        reply: pb.DescribeResponse = pb_grpc.EnvServiceStub(channel).Describe(
            pb.DescribeRequest(), timeout=timeout, metadata=tuple(headers)
        )
    return reply


def describe_json(reply: pb.DescribeResponse) -> dict[str, Any]:
    """A Describe answer as strict JSON: every non-finite float (an unbounded reward) is null.

    JSON has no infinities or NaN, and `-Infinity` breaks most parsers (jq,
    JavaScript's JSON.parse), so they become null; spaces are shown as
    Gymnasium prints them.
    """
    caps = reply.capabilities
    return {
        "env_name": reply.env_name,
        "env_version": reply.env_version,
        "protocol_version": reply.protocol_version,
        "server_version": reply.server_version,
        "observation_space": _space_text(reply.observation_space),
        "action_space": _space_text(reply.action_space),
        "reward_range": [_json_safe(reply.reward_range.low), _json_safe(reply.reward_range.high)],
        "capabilities": {
            "batched": caps.batched,
            "tools": caps.tools,
            "max_sessions": caps.max_sessions,
            "session_ttl_seconds": caps.session_ttl.ToNanoseconds() / 1e9,
            "max_message_bytes": caps.max_message_bytes,
            "max_num_envs": caps.max_num_envs,
            "autoreset_modes": [pb.AutoresetMode.Name(m) for m in caps.autoreset_modes],
        },
        "metadata": _json_safe(_decoded_metadata(reply)),
        "tools": [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": _schema(tool.input_schema_json),
                "output_schema": _schema(tool.output_schema_json),
            }
            for tool in reply.tools
        ],
    }


def _schema(text: str) -> Any:
    """A tool's JSON Schema from its JSON text (None when it has none; the text itself
    when it is not JSON)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _space_text(msg: Any) -> str:
    try:
        return str(spaces.from_proto(msg))
    except (EnvError, ValueError, TypeError) as exc:
        return f"<undecodable space: {exc}>"


def _decoded_metadata(reply: pb.DescribeResponse) -> Any:
    try:
        return decode_map(reply.metadata)
    except EnvError as exc:
        return f"<undecodable metadata: {exc}>"


def _json_safe(value: Any) -> Any:
    """Plain JSON values: non-finite floats as None, arrays as lists, anything else as repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (np.ndarray, np.generic)):
        return _json_safe(value.tolist())
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return repr(value)
