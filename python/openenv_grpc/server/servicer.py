"""The EnvService RPCs: translate requests, call the session table, translate results.

Nothing else lives here: values go through `codec`, sessions through
`SessionManager`, spans and metrics through `Telemetry`, and every
`EnvError` becomes its gRPC status with a google.rpc.Status in the
`grpc-status-details-bin` trailer (`status.to_proto`). On StepStream the
same Status comes back in-band, as the failed request's `error`, and the
stream goes on; each stream message gets a span of its own, child of the
trace context it carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import message_factory
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import frames_pb2, tasks_pb2, tools_pb2

from ..codec import UnencodableValue, decode_action, decode_map, encode_map, encode_value
from ..env import ResetResult, StepResult
from ..errors import (
    Draining,
    EnvCodeError,
    EnvError,
    InvalidRequest,
    NotFound,
    StreamAlreadyBound,
    StreamNotBound,
    WrongSessionKind,
    echo,
)
from ..membership import contains
from ..modes import AUTORESET_TO_PROTO
from ..sessions import CloseReason, Session, SessionManager
from ..status import DETAILS_KEY, to_proto
from ..telemetry import NO_SPAN, Telemetry, carrier_from_metadata, monotonic
from ..vector import AutoresetMode
from ..version import PROTOCOL_HEADER, check_protocol
from .auth import ANONYMOUS, Authenticator
from .batched import Batched
from .exposure import EnvErrors
from .frames import Frames
from .limits import check_size
from .rewards import Scorer
from .tasks import TaskCatalog, selector_of
from .tooling import Tooling

Request = TypeVar("Request")
Response = TypeVar("Response")
Context = grpc.aio.ServicerContext[Any, Any]


log = logging.getLogger("openenv_grpc.server")
# The principal of the call being served (each RPC runs in a task of its own).
PRINCIPAL: contextvars.ContextVar[str] = contextvars.ContextVar("principal", default=ANONYMOUS)
SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EnvService"].full_name
GRPC_CODES: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def _error(exc: Exception) -> EnvError | None:
    """The error a failure stands for, or None for a bug of our own (it propagates)."""
    if isinstance(exc, EnvError):
        return exc
    if isinstance(exc, UnencodableValue):
        return EnvCodeError("encoding its result", f"a value the protocol cannot carry: {exc}")
    return None


DRAIN_OVER = "ended its drain and is shutting down"
"""How a server that ends a stream at the end of its drain says so (`Draining`)."""


async def abort(context: Context, error: EnvError) -> NoReturn:
    """End the call with the error's status and its google.rpc.Status in the trailer."""
    details = to_proto(error).SerializeToString()
    await context.abort(
        GRPC_CODES[int(error.code)], error.message, trailing_metadata=((DETAILS_KEY, details),)
    )
    raise AssertionError("unreachable: context.abort raises")


def _rpc(
    method: Callable[[Any, Request, Context], Awaitable[Response]],
) -> Callable[[Any, Request, Context], Awaitable[Response]]:
    """Serve a unary RPC: errors become their status; with telemetry on, a span and metrics."""
    name = f"{SERVICE_NAME}/{method.__name__}"

    async def translated(self: EnvServicer, request: Request, context: Context) -> Response:
        self.inflight.enter()
        try:
            self.check_open()
            self.authenticate(context)
            return await method(self, request, context)
        except Exception as exc:
            error = _error(exc)
            if error is None:
                raise
            await abort(context, self._env_errors.shown(error))
        finally:
            self.inflight.exit()

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


class EnvServicer:
    """Serves one kind of environment through a SessionManager (see `method_handlers`)."""

    def __init__(
        self,
        sessions: SessionManager,
        description: pb.DescribeResponse,
        observation_space: gs.Space[Any],
        action_space: gs.Space[Any],
        telemetry: Telemetry | None = None,
        env_errors: EnvErrors | None = None,
        *,
        max_options_bytes: int = 0,
        authenticator: Authenticator | None = None,
        tasks: TaskCatalog | None = None,
        scorer: Scorer | None = None,
        default_render_mode: str = "",
    ) -> None:
        self._sessions = sessions
        self._tasks = tasks or TaskCatalog(())
        self._scorer = scorer or Scorer(None, telemetry or Telemetry(), description.env_name)
        self._description = description
        self._action_space = action_space
        self._action_contains = contains(action_space)
        self._telemetry = telemetry or Telemetry()
        self._env_name = description.env_name
        self.inflight = InFlight()
        self.bad_input = BadInput()
        self.closing = False
        # The open StepStreams, by the task that serves each: `end_idle_streams` ends
        # those waiting for a request when a drain is over.
        self._streams: dict[asyncio.Task[Any], _Stream] = {}
        self._no_streams: asyncio.Event | None = None  # set when the last one ends
        self._env_errors = env_errors or EnvErrors()
        self._options_limit = max_options_bytes
        self._auth = authenticator or Authenticator()
        self._tools = Tooling(sessions, self._telemetry, self._env_name)
        self._frames = Frames(sessions, description, self._env_errors, default_render_mode)
        self._batched = Batched(
            sessions,
            observation_space,
            action_space,
            self._telemetry,
            self._env_name,
            self._env_errors,
            max_options_bytes,
            tasks=self._tasks,
            scorer=self._scorer,
        )

    def authenticate(self, context: Context) -> str:
        """The caller's principal, kept for this call (UNAUTHENTICATED when the server needs
        one the call lacks); spans carry it as `enduser.id`."""
        principal = self._auth.principal(context)
        if PRINCIPAL.get() != principal:  # each call's task has a context of its own
            PRINCIPAL.set(principal)
        if principal:
            self._telemetry.set_principal(principal)
        return principal

    def check_open(self) -> None:
        """Refuse requests once the server has begun to close (after its drain)."""
        if self.closing:
            raise Draining("is shutting down")

    @_rpc
    async def Describe(self, request: pb.DescribeRequest, context: Context) -> pb.DescribeResponse:
        _check_client_protocol(context)
        return self.describe()

    def describe(self) -> pb.DescribeResponse:
        """The cached description with the load of this moment (a copy: a few µs); it
        answers while the server drains, so a client sees `draining` and goes elsewhere."""
        response = pb.DescribeResponse()
        response.CopyFrom(self._description)
        sessions, load = self._sessions, response.load
        load.sessions, load.batched_envs = sessions.held, sessions.sub_envs
        load.draining, load.saturated = sessions.draining, sessions.at_capacity
        return response

    @_rpc
    async def Reset(self, request: pb.ResetRequest, context: Context) -> pb.ResetResponse:
        _check_client_protocol(context)
        response = pb.ResetResponse()
        which = request.WhichOneof("session")
        if which == "new_session":
            await self._open(
                request.new_session.request_id,
                0,
                AutoresetMode.NEXT_STEP,
                lambda s, rid: self._reset(s, request, response, rid),
                self._frames.render_mode(request.new_session.render_mode),
            )
        elif which == "session_id":
            session = self._sessions.get(request.session_id, PRINCIPAL.get())
            await self._reset(session, request, response, request.request_id)
        else:
            raise _no_session("ResetRequest")
        return response

    @_rpc
    async def Step(self, request: pb.StepRequest, context: Context) -> pb.StepResponse:
        response = pb.StepResponse()
        await self._step(self._sessions.get(request.session_id, PRINCIPAL.get()), request, response)
        return response

    @_rpc
    async def ResetBatch(
        self, request: pb.ResetBatchRequest, context: Context
    ) -> pb.ResetBatchResponse:
        _check_client_protocol(context)
        response = pb.ResetBatchResponse()
        which = request.WhichOneof("session")
        if which == "new_session":
            await self._open_batch(request, response)
        elif which == "session_id":
            session = self._sessions.get(request.session_id, PRINCIPAL.get())
            await self._batched.reset(session, request, response, request.request_id)
        else:
            raise _no_session("ResetBatchRequest")
        return response

    @_rpc
    async def StepBatch(
        self, request: pb.StepBatchRequest, context: Context
    ) -> pb.StepBatchResponse:
        response = pb.StepBatchResponse()
        await self._batched.step(
            self._sessions.get(request.session_id, PRINCIPAL.get()), request, response
        )
        return response

    @_rpc
    async def State(self, request: pb.StateRequest, context: Context) -> pb.StateResponse:
        response = pb.StateResponse()
        await self._state(self._sessions.get(request.session_id, PRINCIPAL.get()), response)
        return response

    @_rpc
    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: Context
    ) -> pb.CloseSessionResponse:
        session = self._sessions.get(request.session_id, PRINCIPAL.get())
        await self._sessions.close(session.id, CloseReason.CLIENT)
        return pb.CloseSessionResponse()

    @_rpc
    async def ListTasks(
        self, request: tasks_pb2.ListTasksRequest, context: Context
    ) -> tasks_pb2.ListTasksResponse:
        return self._tasks.list(request)

    @_rpc
    async def ListTools(
        self, request: tools_pb2.ListToolsRequest, context: Context
    ) -> tools_pb2.ListToolsResponse:
        response = tools_pb2.ListToolsResponse()
        await self._tools.list(self._sessions.get(request.session_id, PRINCIPAL.get()), response)
        return response

    @_rpc
    async def CallTool(
        self, request: tools_pb2.CallToolRequest, context: Context
    ) -> tools_pb2.CallToolResponse:
        response = tools_pb2.CallToolResponse()
        session = self._sessions.get(request.session_id, PRINCIPAL.get())
        await self._tools.call(session, request, response)
        return response

    @_rpc
    async def Render(
        self, request: frames_pb2.RenderRequest, context: Context
    ) -> frames_pb2.RenderResponse:
        response = frames_pb2.RenderResponse()
        session = self._sessions.get(request.session_id, PRINCIPAL.get())
        await self._frames.render(session, request, response)
        return response

    async def WatchSession(
        self, request: frames_pb2.WatchSessionRequest, context: Context
    ) -> AsyncIterator[frames_pb2.WatchSessionResponse]:
        """A live session's events (frames.py); its owner's, or any session for an admin.
        Errors before the first event end the call with their status."""
        start, code = monotonic(), "UNKNOWN"
        try:
            self.check_open()
            _check_client_protocol(context)
            principal = self.authenticate(context)
            if self._auth.is_admin(principal):
                session = self._sessions.get_any(request.session_id)
            else:
                session = self._sessions.get(request.session_id, principal)
            async for message in self._frames.watch(session, request):
                yield message
            code = "OK"
        except EnvError as exc:
            code = GRPC_CODES[int(exc.code)].name
            await abort(context, self._env_errors.shown(exc))
        except asyncio.CancelledError:
            code = "CANCELLED"
            raise
        finally:
            self._telemetry.record_rpc(f"{SERVICE_NAME}/WatchSession", code, monotonic() - start)

    async def StepStream(self, request_iterator: object, context: Context) -> None:
        """One session over one stream. Requests arrive as bytes and are parsed here, so a
        message that is not a StepStreamRequest is answered in-band (seq 0: its seq cannot
        be read) and the stream goes on.

        Read and written through the context, not as an async generator over
        `request_iterator`: two fewer generators per stream, and nothing of the last request
        or its answer is kept while the stream waits for the next one (they live in
        `_reply`), so an idle session costs its stream and its session, not its last
        messages."""
        try:
            _check_client_protocol(context)
            self.authenticate(context)
        except EnvError as exc:
            await abort(context, exc)
        stream = _Stream(carrier_from_metadata(context.invocation_metadata()))
        task = asyncio.current_task()
        assert task is not None
        self._streams[task] = stream
        start, code = monotonic(), "UNKNOWN"
        try:
            while (raw := await context.read()) is not EOF:
                await self._reply(stream, raw, context)
                del raw  # not kept while waiting for the next request
            code = "OK"
        except asyncio.CancelledError as exc:
            if exc.args == (DRAIN_OVER,):  # the client learns why its session ends
                code = "UNAVAILABLE"
                await abort(context, Draining(DRAIN_OVER))
            code = "CANCELLED"
            raise
        except BaseException:
            code = (context.code() or grpc.StatusCode.UNKNOWN).name
            raise
        finally:
            self._streams.pop(task, None)
            if not self._streams and self._no_streams is not None:
                self._no_streams.set()
            self._telemetry.record_rpc(f"{SERVICE_NAME}/StepStream", code, monotonic() - start)
            session = stream.session
            if stream.owned and session is not None and not session.closed:
                await self._sessions.close(session.id, CloseReason.STREAM_ENDED)

    async def _reply(self, stream: _Stream, raw: bytes, context: Context) -> None:
        """Parse one stream request, answer it and send the answer (returns once gRPC has
        sent it). The request and its answer live in this frame only."""
        self.inflight.enter()
        stream.busy = True
        try:
            if self.closing:
                await abort(context, Draining(DRAIN_OVER))
            request = self.bad_input.parse(pb.StepStreamRequest, raw, context)
            if isinstance(request, EnvError):
                response = _in_band(request)
            else:
                response = pb.StepStreamResponse(seq=request.seq)
                if self._telemetry.tracing:
                    await self._answer_traced(stream, request, response, context)
                else:
                    await self._answer(stream, request, response, context)
            await context.write(response)
        finally:
            stream.busy = False
            self.inflight.exit()

    async def streams_ended(self, within: float) -> bool:
        """Whether every StepStream has ended, waiting up to `within` seconds. Once the
        server is closing, a stream in use ends at its next request, which is answered
        DRAINING: its client has sent it and reads that status, race-free."""
        if self._streams:
            self._no_streams = self._no_streams or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_streams.wait(), within)
        return not self._streams

    def end_idle_streams(self) -> list[asyncio.Task[Any]]:
        """When a drain is over and a stream has not sent a request for a while: end every
        stream that waits for its next request with DRAINING (its session closes with it),
        so its client knows why and goes elsewhere (unless it writes at that very moment:
        then gRPC tells it the connection was lost). The tasks of the streams ended."""
        idle = [task for task, stream in self._streams.items() if not stream.busy]
        for task in idle:
            del self._streams[task]  # ended once: a second call leaves it to end
            task.cancel(DRAIN_OVER)
        return idle

    async def _answer_traced(
        self,
        stream: _Stream,
        request: pb.StepStreamRequest,
        response: pb.StepStreamResponse,
        context: Context,
    ) -> None:
        """`_answer` inside a span of its own, so a stream is one span per message."""
        carrier = dict(request.trace_context) or stream.carrier or {}
        attributes: dict[str, Any] = {
            "openenv.stream.request": request.WhichOneof("request") or "",
            "openenv.stream.seq": request.seq,
        }
        if principal := PRINCIPAL.get():
            attributes["enduser.id"] = principal
        name = f"{SERVICE_NAME}/StepStream"
        with self._telemetry.rpc_span(name, carrier, **attributes) as span:
            try:
                await self._answer(stream, request, response, context)
            except BaseException:  # the stream is ending (abort, cancel)
                code = (context.code() or grpc.StatusCode.CANCELLED).name
                self._telemetry.end_rpc_span(span, code, context.details() or "")
                raise
            if response.HasField("error"):
                code = GRPC_CODES[response.error.code].name
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
            if kind == "step_request":
                step = request.step_request
                await self._step(stream.own(step.session_id), step, response.step_response)
            elif kind == "step_batch_request":
                step_batch = request.step_batch_request
                await self._batched.step(
                    stream.own(step_batch.session_id), step_batch, response.step_batch_response
                )
            elif kind == "reset_request":
                await self._stream_reset(stream, request.reset_request, response.reset_response)
            elif kind == "reset_batch_request":
                await self._stream_reset_batch(
                    stream, request.reset_batch_request, response.reset_batch_response
                )
            elif kind == "state_request":
                session = stream.own(request.state_request.session_id)
                await self._state(session, response.state_response)
            elif kind == "send_request":
                self._batched.send(stream.own(""), request.send_request, response.send_response)
            elif kind == "recv_request":
                await self._batched.recv(
                    stream.own(""), request.recv_request, response.recv_response
                )
            elif kind == "list_tools_request":
                session = stream.own(request.list_tools_request.session_id)
                await self._tools.list(session, response.list_tools_response)
            elif kind == "call_tool_request":
                call = request.call_tool_request
                session = stream.own(call.session_id)
                await self._tools.call(session, call, response.call_tool_response)
            elif kind == "render_request":
                render = request.render_request
                session = stream.own(render.session_id)
                await self._frames.render(session, render, response.render_response)
            elif kind == "attach_request":
                stream.check_unbound()
                session = self._sessions.get(request.attach_request.session_id, PRINCIPAL.get())
                await self._state(session, response.attach_response.state)
                stream.session = session
            else:
                raise InvalidRequest(
                    "a StepStreamRequest must set one of its request kinds (reset_request, "
                    "step_request, ...); this one sets none this server knows",
                    field="request",
                )
        except Exception as exc:
            error = _error(exc)
            if error is None:
                raise
            if isinstance(error, NotFound) and stream.session is not None and stream.session.closed:
                # The stream's own session is gone (closed elsewhere, reaped): it cannot go on.
                await abort(context, self._why_gone(stream.session, error))
            response.ClearField("response")
            to_proto(self._env_errors.shown(error), response.error)
            self._telemetry.record_error(
                f"{SERVICE_NAME}/StepStream", GRPC_CODES[int(error.code)].name
            )

    def _why_gone(self, session: Session, error: EnvError) -> EnvError:
        """Why a stream's session is gone: SESSION_EXPIRED when it was reaped, else `error`."""
        try:
            self._sessions.get(session.id, session.owner)
        except NotFound as gone:
            return gone
        return error

    async def _stream_reset(
        self, stream: _Stream, request: pb.ResetRequest, out: pb.ResetResponse
    ) -> None:
        if request.WhichOneof("session") == "new_session":
            stream.check_unbound()
            stream.session = await self._open(
                request.new_session.request_id,
                0,
                AutoresetMode.NEXT_STEP,
                lambda s, rid: self._reset(s, request, out, rid),
                self._frames.render_mode(request.new_session.render_mode),
            )
            stream.owned = True
        else:
            session = stream.own(request.session_id)
            await self._reset(session, request, out, request.request_id)

    async def _stream_reset_batch(
        self, stream: _Stream, request: pb.ResetBatchRequest, out: pb.ResetBatchResponse
    ) -> None:
        if request.WhichOneof("session") == "new_session":
            stream.check_unbound()
            stream.session = await self._open_batch(request, out)
            stream.owned = True
        else:
            session = stream.own(request.session_id)
            await self._batched.reset(session, request, out, request.request_id)

    async def _open_batch(
        self, request: pb.ResetBatchRequest, out: pb.ResetBatchResponse
    ) -> Session:
        new = request.new_session
        if new.num_envs < 1:
            raise InvalidRequest(
                f"new_session.num_envs is {new.num_envs}; a batched session holds 1 or more "
                "sub-environments",
                field="new_session.num_envs",
            )
        if request.env_ids:
            raise InvalidRequest(
                "env_ids must be empty when creating a session: every sub-env starts",
                field="env_ids",
            )
        return await self._open(
            new.request_id,
            new.num_envs,
            self._batched.autoreset_mode(new),
            lambda s, rid: self._batched.reset(s, request, out, rid),
        )

    async def _open(
        self,
        request_id: str,
        num_envs: int,
        mode: AutoresetMode,
        reset: Callable[[Session, str], Awaitable[None]],
        render_mode: str | None = None,
    ) -> Session:
        """A new session with its first episode started (no session is left if that fails);
        a creation repeated with its request id answers with the first one's session."""
        session, created = await self._sessions.open(
            num_envs, mode, request_id, PRINCIPAL.get(), render_mode
        )
        if not created:
            last = session.last_reset
            if last is None or last[0] != request_id:
                raise InvalidRequest(
                    f"request_id {request_id!r} created session {session.id!r}, which has been "
                    "reset since; use a fresh request_id to create a new session",
                    field="request_id",
                )
            await reset(session, request_id)
            return session
        try:
            await reset(session, request_id)
        except BaseException:
            if not session.closed:
                await self._sessions.close(session.id, CloseReason.RESET_FAILED)
            raise
        return session

    async def _reset(
        self, session: Session, request: pb.ResetRequest, out: pb.ResetResponse, request_id: str
    ) -> None:
        if session.vector is not None:
            raise WrongSessionKind(session.id, session.vector.num_envs, "reset it with ResetBatch")
        check_size("options", request.options, self._options_limit)
        attributes = {"openenv.session.id": session.id, "openenv.env.name": self._env_name}
        with self._telemetry.env_span("env.reset", **attributes) as span:
            result: ResetResult = await self._sessions.reset(
                session,
                seed=request.seed if request.HasField("seed") else None,
                options=decode_map(request.options),
                task_id=self._task_id(session, request, request_id),
                request_id=request_id,
            )
            if span is not None:
                span.set_attribute("openenv.episode.id", session.episode_id)
        out.session_id = session.id
        out.episode_id = session.episode_id
        with self._ending_episode_on_failure(session):
            encode_value(result.observation, out=out.observation)
            encode_map(result.info, out=out.info)

    def _task_id(self, session: Session, request: pb.ResetRequest, request_id: str) -> str:
        """The task the reset starts, chosen by its selector (not again for a repeat of the
        last reset's request id: that reset is answered from memory)."""
        last = session.last_reset
        if request_id and last is not None and last[0] == request_id:
            return request.task_id
        return self._tasks.task_id(session, 0, selector_of(request))

    async def _step(self, session: Session, request: pb.StepRequest, out: pb.StepResponse) -> None:
        if session.vector is not None:
            raise WrongSessionKind(session.id, session.vector.num_envs, "step it with StepBatch")
        if not request.HasField("action"):
            raise InvalidRequest(
                "StepRequest.action is not set; send the action to apply", field="action"
            )
        action = decode_action(request.action, self._action_space, self._action_contains)
        telemetry, start = self._telemetry, monotonic()
        # Without tracing, not even the span's attributes are built (the hottest path).
        traced = telemetry.tracing
        with (
            telemetry.env_span(
                "env.step",
                **{
                    "openenv.session.id": session.id,
                    "openenv.env.name": self._env_name,
                    "openenv.episode.id": session.episode_id,
                    "openenv.step.index": request.step_index or session.step_count + 1,
                    "openenv.batch.size": 1,
                },
            )
            if traced
            else NO_SPAN
        ) as span:
            result: StepResult = await self._sessions.step(session, action, request.step_index)
            if self._scorer.enabled:  # the reward hook's score in place of the env's
                index = request.step_index or session.step_count
                result = await self._scorer.step(session, result, action, index, span)
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
                raise EnvCodeError("step", f"a malformed StepResult: {exc}") from exc
            out.step_index = request.step_index or session.step_count
            encode_value(result.observation, out=out.observation)
            encode_map(result.info, out=out.info)

    async def _state(self, session: Session, out: pb.StateResponse) -> None:
        """Where a session stands, and the env's own state. While sent sub-env steps are
        out, the envs are not entered: the answer leaves the env's state unset."""
        sending = bool(session.unreceived)
        state = None if sending else await self._sessions.state(session)
        out.session_id = session.id
        out.episode_id = session.episode_id
        out.step_count = session.step_count
        out.episode_done = session.episode_done
        if session.vector is not None:
            out.num_envs = session.vector.num_envs
            out.autoreset_mode = AUTORESET_TO_PROTO[session.vector.mode]
        if not sending:
            encode_value(state, out=out.state)

    def _ending_episode_on_failure(self, session: Session) -> _EndingEpisodeOnFailure:
        """A result the client cannot receive ends the episode: its env has already moved on."""
        return _EndingEpisodeOnFailure(self._sessions, session)


class _EndingEpisodeOnFailure:
    """Ends the session's episode when encoding its result fails (a class, not a generator:
    it wraps every step's answer)."""

    __slots__ = ("_session", "_sessions")

    def __init__(self, sessions: SessionManager, session: Session) -> None:
        self._sessions, self._session = sessions, session

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if kind is not None and issubclass(kind, (EnvError, UnencodableValue)):
            why = "ended: the env returned a result it cannot send"
            self._sessions.end_episode(self._session, why)


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
    """What one StepStream holds: its session, whether it made it, the call's trace context
    (None without one)."""

    __slots__ = ("busy", "carrier", "owned", "session")

    def __init__(self, carrier: dict[str, str]) -> None:
        self.session: Session | None = None
        self.owned = False
        self.busy = False  # answering a request
        self.carrier = carrier or None

    def own(self, session_id: str) -> Session:
        """The stream's session, which a request may name (or leave empty)."""
        if self.session is None:
            raise StreamNotBound()
        if session_id and session_id != self.session.id:
            raise InvalidRequest(
                f"this stream drives session {self.session.id!r}, not {session_id[:64]!r}; "
                "leave session_id empty on a stream, or open another stream",
                field="session_id",
            )
        return self.session

    def check_unbound(self) -> None:
        """Creating or attaching a session: only as the stream's first session."""
        if self.session is not None:
            raise StreamAlreadyBound(self.session.id)


def _no_session(message: str) -> InvalidRequest:
    return InvalidRequest(
        f"{message} names no session: set session_id to reset an existing session, or "
        "new_session to create one",
        field="session",
    )


def _check_client_protocol(context: Context) -> None:
    for key, value in context.invocation_metadata() or ():
        if key == PROTOCOL_HEADER:
            check_protocol(value if isinstance(value, str) else value.decode(), who="client")


def _in_band(error: EnvError) -> pb.StepStreamResponse:
    response = pb.StepStreamResponse()
    to_proto(error, response.error)
    return response


class BadInput:
    """Parses request bytes; a malformed message is INVALID_REQUEST, logged at most once per
    peer a minute (a client sending garbage in a loop must not flood the log)."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self._every = every_seconds
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def parse(self, kind: type[Request], raw: bytes, context: Context) -> Request | EnvError:
        try:
            return kind.FromString(raw)  # type: ignore[attr-defined, no-any-return]
        except Exception as exc:  # any failure to parse is the sender's
            name = kind.DESCRIPTOR.full_name  # type: ignore[attr-defined]
            self._note(context.peer(), name, exc)
            return InvalidRequest(
                f"the request is not a valid {name} ({echo(exc)}); send a message of the "
                "contract's type, serialized by a protobuf library",
                field="request",
            )

    def _note(self, peer: str, name: str, exc: Exception) -> None:
        now = monotonic()
        self._count[peer] = self._count.get(peer, 0) + 1
        if now - self._last.get(peer, -self._every) < self._every:
            return
        if len(self._last) > 10_000:  # many peers: forget the old ones
            self._last.clear()
            self._count.clear()
        count, self._count[peer] = self._count.get(peer, 1), 0
        self._last[peer] = now
        log.warning(
            "peer %s sent %d malformed request(s) since the last report; the last was not a "
            "valid %s: %s",
            echo(peer),
            count,
            name,
            echo(exc),
        )


def method_handlers(servicer: EnvServicer) -> grpc.GenericRpcHandler[Any, Any]:
    """EnvService's handlers with requests parsed by the servicer, not by gRPC.

    gRPC's own deserializer answers a malformed message with UNKNOWN and logs a
    traceback for each; parsing here answers INVALID_REQUEST with a reason and
    keeps the log quiet.
    """
    service = pb.DESCRIPTOR.services_by_name["EnvService"]
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    for method in service.methods:
        behavior = getattr(servicer, method.name)
        serialize = _serializer
        if method.client_streaming:
            handlers[method.name] = grpc.stream_stream_rpc_method_handler(
                behavior, request_deserializer=None, response_serializer=serialize
            )
        elif method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _parsed_stream(
                    servicer, behavior, message_factory.GetMessageClass(method.input_type)
                ),
                request_deserializer=None,
                response_serializer=serialize,
            )
        else:
            kind = message_factory.GetMessageClass(method.input_type)
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _parsed(servicer, behavior, kind),
                request_deserializer=None,
                response_serializer=serialize,
            )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def _serializer(message: Any) -> bytes:
    data: bytes = message.SerializeToString()
    return data


def _parsed_stream(
    servicer: EnvServicer,
    behavior: Callable[[Any, Context], AsyncIterator[Any]],
    kind: type[Any],
) -> Callable[[bytes, Context], AsyncIterator[Any]]:
    async def handler(raw: bytes, context: Context) -> AsyncIterator[Any]:
        request = servicer.bad_input.parse(kind, raw, context)
        if isinstance(request, EnvError):
            await abort(context, request)
        async for message in behavior(request, context):
            yield message

    return handler


def _parsed(
    servicer: EnvServicer, behavior: Callable[[Any, Context], Awaitable[Any]], kind: type[Any]
) -> Callable[[bytes, Context], Awaitable[Any]]:
    async def handler(raw: bytes, context: Context) -> Any:
        request = servicer.bad_input.parse(kind, raw, context)
        if isinstance(request, EnvError):
            await abort(context, request)
        return await behavior(request, context)

    return handler
