"""The EnvService RPCs: translate requests, call the session table, translate results.

Nothing else lives here: values go through `codec`, sessions through
`SessionManager`, spans and metrics through `Telemetry`, and every
`EnvError` becomes its gRPC status. On StepStream the same errors come back
in-band, as the failed request's `error`, and the stream goes on; each
stream message gets a span of its own, child of the trace context it carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import grpc
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from ..codec import UnencodableValue, decode_action, decode_map, encode_map, encode_value
from ..env import ResetResult, StepResult
from ..errors import (
    EnvError,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    SessionNotFound,
    Unavailable,
    status_number,
)
from ..sessions import CloseReason, Session, SessionManager
from ..telemetry import Telemetry, carrier_from_metadata, monotonic
from ..vector import AUTORESET_TO_PROTO
from ..version import PROTOCOL_HEADER, check_protocol
from .batched import Batched, autoreset_mode

Request = TypeVar("Request")
Response = TypeVar("Response")
Context = grpc.aio.ServicerContext[Any, Any]


SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EnvService"].full_name


def _status(exc: Exception) -> tuple[grpc.StatusCode, str] | None:
    """The status a failure stands for, or None for a bug of our own (it propagates)."""
    if isinstance(exc, EnvError):
        return exc.code, exc.message
    if isinstance(exc, UnencodableValue):
        return grpc.StatusCode.INTERNAL, (
            f"the environment returned a value the protocol cannot carry: {exc}"
        )
    return None


def _rpc(
    method: Callable[[Any, Request, Context], Awaitable[Response]],
) -> Callable[[Any, Request, Context], Awaitable[Response]]:
    """Serve a unary RPC: errors become their status; with telemetry on, a span and metrics."""
    name = f"{SERVICE_NAME}/{method.__name__}"

    async def translated(self: EnvServicer, request: Request, context: Context) -> Response:
        self.inflight.enter()
        try:
            self.check_open()
            return await method(self, request, context)
        except Exception as exc:
            status = _status(exc)
            if status is None:
                raise
            await context.abort(*status)
        finally:
            self.inflight.exit()
        raise AssertionError("unreachable: context.abort raises")

    @functools.wraps(method)
    async def wrapper(self: EnvServicer, request: Request, context: Context) -> Response:
        telemetry = self._telemetry
        if not telemetry.enabled:
            return await translated(self, request, context)
        start, code = monotonic(), "UNKNOWN"
        carrier = carrier_from_metadata(context.invocation_metadata())
        with telemetry.rpc_span(name, carrier) as span:
            try:
                response = await translated(self, request, context)
                code = "OK"
                return response
            except asyncio.CancelledError:
                code = "DEADLINE_EXCEEDED" if _deadline_passed(context) else "CANCELLED"
                raise
            except BaseException:
                code = (context.code() or grpc.StatusCode.UNKNOWN).name
                raise
            finally:
                telemetry.end_rpc_span(span, code, context.details() or "")
                telemetry.record_rpc(name, code, monotonic() - start)

    return wrapper


def _deadline_passed(context: Context) -> bool:
    remaining = context.time_remaining()
    return remaining is not None and remaining <= 0


class EnvServicer(pb_grpc.EnvServiceServicer):
    """Serves one kind of environment through a SessionManager."""

    def __init__(
        self,
        sessions: SessionManager,
        description: pb.DescribeResponse,
        observation_space: gs.Space[Any],
        action_space: gs.Space[Any],
        telemetry: Telemetry | None = None,
    ) -> None:
        self._sessions = sessions
        self._description = description
        self._action_space = action_space
        self._telemetry = telemetry or Telemetry()
        self._env_name = description.env_name
        self.inflight = InFlight()
        self.closing = False
        self._batched = Batched(
            sessions, observation_space, action_space, self._telemetry, self._env_name
        )

    def check_open(self) -> None:
        """Refuse requests once the server has begun to close (after its drain)."""
        if self.closing:
            raise Unavailable("the server is shutting down; reconnect to another server")

    @_rpc
    async def Describe(self, request: pb.DescribeRequest, context: Context) -> pb.DescribeResponse:
        _check_client_protocol(context)
        return self._description

    @_rpc
    async def Reset(self, request: pb.ResetRequest, context: Context) -> pb.ResetResponse:
        _check_client_protocol(context)
        response = pb.ResetResponse()
        if request.session_id:
            await self._reset(self._sessions.get(request.session_id), request, response)
        else:
            await self._open_and_reset(request, response)
        return response

    @_rpc
    async def Step(self, request: pb.StepRequest, context: Context) -> pb.StepResponse:
        response = pb.StepResponse()
        await self._step(self._sessions.get(request.session_id), request, response)
        return response

    @_rpc
    async def State(self, request: pb.StateRequest, context: Context) -> pb.StateResponse:
        response = pb.StateResponse()
        await self._state(self._sessions.get(request.session_id), response)
        return response

    @_rpc
    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: Context
    ) -> pb.CloseSessionResponse:
        await self._sessions.close(request.session_id, CloseReason.CLIENT)
        return pb.CloseSessionResponse()

    async def StepStream(
        self, request_iterator: AsyncIterator[pb.StepStreamRequest], context: Context
    ) -> AsyncIterator[pb.StepStreamResponse]:
        try:
            _check_client_protocol(context)
        except EnvError as exc:
            await context.abort(exc.code, exc.message)
        telemetry = self._telemetry
        stream = _Stream(carrier_from_metadata(context.invocation_metadata()))
        start, code = monotonic(), "UNKNOWN"
        try:
            async for request in request_iterator:
                self.inflight.enter()
                try:
                    if self.closing:
                        await context.abort(
                            grpc.StatusCode.UNAVAILABLE,
                            "the server is shutting down; reconnect to another server",
                        )
                    response = pb.StepStreamResponse(seq=request.seq)
                    if telemetry.tracing:
                        await self._answer_traced(stream, request, response, context)
                    else:
                        await self._answer(stream, request, response, context)
                    yield response  # returns once gRPC has sent it
                finally:
                    self.inflight.exit()
            code = "OK"
        except asyncio.CancelledError:
            code = "CANCELLED"
            raise
        except BaseException:
            code = (context.code() or grpc.StatusCode.UNKNOWN).name
            raise
        finally:
            telemetry.record_rpc(f"{SERVICE_NAME}/StepStream", code, monotonic() - start)
            session = stream.session
            if stream.owned and session is not None and not session.closed:
                await self._sessions.close(session.id, CloseReason.STREAM_ENDED)

    async def _answer_traced(
        self,
        stream: _Stream,
        request: pb.StepStreamRequest,
        response: pb.StepStreamResponse,
        context: Context,
    ) -> None:
        """`_answer` inside a span of its own, so a stream is one span per message."""
        carrier = dict(request.trace_context) or stream.carrier
        attributes = {
            "openenv.stream.request": request.WhichOneof("request") or "",
            "openenv.stream.seq": request.seq,
        }
        name = f"{SERVICE_NAME}/StepStream"
        with self._telemetry.rpc_span(name, carrier, **attributes) as span:
            try:
                await self._answer(stream, request, response, context)
            except BaseException:  # the stream is ending (abort, cancel)
                code = (context.code() or grpc.StatusCode.CANCELLED).name
                self._telemetry.end_rpc_span(span, code, context.details() or "")
                raise
            if response.HasField("error"):
                code = _CODES[response.error.code].name
                self._telemetry.end_rpc_span(span, code, response.error.message)
            else:
                self._telemetry.end_rpc_span(span, "OK")

    async def _answer(
        self,
        stream: _Stream,
        request: pb.StepStreamRequest,
        response: pb.StepStreamResponse,
        context: Context,
    ) -> None:
        """Carry out one stream request into `response`; its error goes in-band."""
        kind = request.WhichOneof("request")
        try:
            if kind == "reset":
                if stream.session is None:
                    stream.session = await self._open_and_reset(request.reset, response.reset)
                    stream.owned = True
                else:
                    await self._reset(stream.session, request.reset, response.reset)
            elif kind == "step":
                await self._step(stream.bound(), request.step, response.step)
            elif kind == "state":
                await self._state(stream.bound(), response.state)
            elif kind == "send":
                self._batched.send(stream.bound(), request.send, response.send)
            elif kind == "recv":
                await self._batched.recv(stream.bound(), request.recv, response.recv)
            elif kind == "attach":
                if stream.session is not None:
                    raise FailedPrecondition(
                        f"this stream is already bound to session {stream.session.id!r}; "
                        "attach only as the first request"
                    )
                session = self._sessions.get(request.attach.session_id)
                await self._state(session, response.attach.state)
                stream.session = session
                response.attach.session_id = session.id
            else:
                raise InvalidArgument(
                    "a StepStreamRequest must set one of reset, step, state, attach, send or recv"
                )
        except Exception as exc:
            status = _status(exc)
            if status is None:
                raise
            if isinstance(exc, SessionNotFound) and stream.session is not None:
                await context.abort(*status)  # the stream's own session is gone: it cannot go on
            response.error.code = status_number(status[0])
            response.error.message = status[1]
            self._telemetry.record_error(f"{SERVICE_NAME}/StepStream", status[0].name)

    async def _open_and_reset(self, request: pb.ResetRequest, out: pb.ResetResponse) -> Session:
        """A new session with its first episode started; no session is left if that fails."""
        session = await self._sessions.open(request.num_envs, autoreset_mode(request))
        try:
            await self._reset(session, request, out)
        except BaseException:
            await self._sessions.close(session.id, CloseReason.RESET_FAILED)
            raise
        return session

    async def _reset(
        self, session: Session, request: pb.ResetRequest, out: pb.ResetResponse
    ) -> None:
        if session.vector is not None:
            return await self._batched.reset(session, request, out)
        attributes = {"openenv.session.id": session.id, "openenv.env.name": self._env_name}
        with self._telemetry.env_span("env.reset", **attributes) as span:
            result: ResetResult = await self._sessions.reset(
                session,
                seed=request.seed if request.HasField("seed") else None,
                options=decode_map(request.options),
                task_id=request.task_id,
            )
            if span is not None:
                span.set_attribute("openenv.episode.id", session.episode_id)
        out.session_id = session.id
        out.episode_id = session.episode_id
        with self._ending_episode_on_failure(session):
            encode_value(result.observation, out=out.observation)
            encode_map(result.info, out=out.info)

    async def _step(self, session: Session, request: pb.StepRequest, out: pb.StepResponse) -> None:
        if session.vector is not None or request.env_ids:
            return await self._batched.step(session, request, out)
        if request.WhichOneof("input") != "action":
            raise InvalidArgument("StepRequest.action is not set; send the action to apply")
        action = decode_action(request.action, self._action_space)
        telemetry, start = self._telemetry, monotonic()
        with telemetry.env_span(
            "env.step",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.episode.id": session.episode_id,
                "openenv.step.index": session.step_count + 1,
                "openenv.batch.size": 1,
            },
        ) as span:
            result: StepResult = await self._sessions.step(session, action)
            if span is not None:
                span.set_attributes(
                    {
                        "openenv.reward": float(result.reward),
                        "openenv.terminated": bool(result.terminated),
                        "openenv.truncated": bool(result.truncated),
                    }
                )
        telemetry.record_step(self._env_name, monotonic() - start)
        with self._ending_episode_on_failure(session):
            try:
                out.reward = float(result.reward)
                out.terminated = bool(result.terminated)
                out.truncated = bool(result.truncated)
                for name, part in result.reward_components.items():
                    out.reward_components[name] = float(part)
            except (TypeError, ValueError) as exc:
                raise Internal(f"the environment returned a malformed StepResult: {exc}") from exc
            out.step_count = session.step_count
            encode_value(result.observation, out=out.observation)
            encode_map(result.info, out=out.info)

    async def _state(self, session: Session, out: pb.StateResponse) -> None:
        state = await self._sessions.state(session)
        out.session_id = session.id
        out.episode_id = session.episode_id
        out.step_count = session.step_count
        out.episode_done = session.episode_done
        if session.vector is not None:
            out.num_envs = session.vector.num_envs
            out.autoreset_mode = AUTORESET_TO_PROTO[session.vector.mode]
        else:
            out.num_envs = 1
        encode_value(state, out=out.state)

    @contextlib.contextmanager
    def _ending_episode_on_failure(self, session: Session) -> Iterator[None]:
        """A result the client cannot receive ends the episode: its env has already moved on."""
        try:
            yield
        except (EnvError, UnencodableValue):
            self._sessions.end_episode(session, "ended: the env returned a result it cannot send")
            raise


class InFlight:
    """Counts requests being answered, so a drain can wait until every answer is out."""

    def __init__(self) -> None:
        self.count = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def enter(self) -> None:
        self.count += 1
        self._quiet.clear()

    def exit(self) -> None:
        self.count -= 1
        if not self.count:
            self._quiet.set()

    async def wait_quiet(self) -> None:
        await self._quiet.wait()


class _Stream:
    """What one StepStream holds: its session, whether it made it, the call's trace context."""

    def __init__(self, carrier: dict[str, str]) -> None:
        self.session: Session | None = None
        self.owned = False
        self.carrier = carrier

    def bound(self) -> Session:
        if self.session is None:
            raise FailedPrecondition("this stream has no session yet; send reset or attach first")
        return self.session


_CODES = {status_number(code): code for code in grpc.StatusCode}


def _check_client_protocol(context: Context) -> None:
    for key, value in context.invocation_metadata() or ():
        if key == PROTOCOL_HEADER:
            check_protocol(value if isinstance(value, str) else value.decode(), who="client")
