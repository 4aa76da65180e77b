"""The EnvService RPCs: translate requests, call the session table, translate results.

Nothing else lives here: values go through `codec`, sessions through
`SessionManager`, and every `EnvError` becomes its gRPC status. On
StepStream the same errors come back in-band, as the failed request's
`error`, and the stream goes on.
"""

from __future__ import annotations

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
    status_number,
)
from ..sessions import Session, SessionManager
from ..version import PROTOCOL_HEADER, check_protocol

Request = TypeVar("Request")
Response = TypeVar("Response")
Context = grpc.aio.ServicerContext[Any, Any]


def _translating_errors(
    method: Callable[[Any, Request, Context], Awaitable[Response]],
) -> Callable[[Any, Request, Context], Awaitable[Response]]:
    """Turn the project's errors into the gRPC status they stand for."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Request, context: Context) -> Response:
        try:
            return await method(self, request, context)
        except EnvError as exc:
            await context.abort(exc.code, exc.message)
        except UnencodableValue as exc:
            await context.abort(grpc.StatusCode.INTERNAL, _unencodable(exc))
        raise AssertionError("unreachable: context.abort raises")

    return wrapper


def _unencodable(exc: UnencodableValue) -> str:
    return f"the environment returned a value the protocol cannot carry: {exc}"


class EnvServicer(pb_grpc.EnvServiceServicer):
    """Serves one kind of environment through a SessionManager."""

    def __init__(
        self,
        sessions: SessionManager,
        description: pb.DescribeResponse,
        action_space: gs.Space[Any],
    ) -> None:
        self._sessions = sessions
        self._description = description
        self._action_space = action_space

    @_translating_errors
    async def Describe(self, request: pb.DescribeRequest, context: Context) -> pb.DescribeResponse:
        _check_client_protocol(context)
        return self._description

    @_translating_errors
    async def Reset(self, request: pb.ResetRequest, context: Context) -> pb.ResetResponse:
        _check_client_protocol(context)
        response = pb.ResetResponse()
        if request.session_id:
            await self._reset(self._sessions.get(request.session_id), request, response)
        else:
            await self._open_and_reset(request, response)
        return response

    @_translating_errors
    async def Step(self, request: pb.StepRequest, context: Context) -> pb.StepResponse:
        response = pb.StepResponse()
        await self._step(self._sessions.get(request.session_id), request, response)
        return response

    @_translating_errors
    async def State(self, request: pb.StateRequest, context: Context) -> pb.StateResponse:
        response = pb.StateResponse()
        await self._state(self._sessions.get(request.session_id), response)
        return response

    @_translating_errors
    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: Context
    ) -> pb.CloseSessionResponse:
        await self._sessions.close(request.session_id, "closed by the client")
        return pb.CloseSessionResponse()

    async def StepStream(
        self, request_iterator: AsyncIterator[pb.StepStreamRequest], context: Context
    ) -> AsyncIterator[pb.StepStreamResponse]:
        try:
            _check_client_protocol(context)
        except EnvError as exc:
            await context.abort(exc.code, exc.message)
        session: Session | None = None
        owned = False
        try:
            async for request in request_iterator:
                kind = request.WhichOneof("request")
                response = pb.StepStreamResponse(seq=request.seq)
                try:
                    if kind == "reset":
                        if session is None:
                            session = await self._open_and_reset(request.reset, response.reset)
                            owned = True
                        else:
                            await self._reset(session, request.reset, response.reset)
                    elif kind == "step":
                        await self._step(_bound(session), request.step, response.step)
                    elif kind == "state":
                        await self._state(_bound(session), response.state)
                    elif kind == "attach":
                        if session is not None:
                            raise FailedPrecondition(
                                "this stream is already bound to session "
                                f"{session.id!r}; attach only as the first request"
                            )
                        session = self._sessions.get(request.attach.session_id)
                        response.attach.session_id = session.id
                        await self._state(session, response.attach.state)
                    else:
                        raise InvalidArgument(
                            "a StepStreamRequest must set one of reset, step, state or attach"
                        )
                except SessionNotFound as exc:
                    if session is None:
                        _set_error(response, exc.code, exc.message)
                    else:  # our own session is gone: the stream cannot go on
                        await context.abort(exc.code, exc.message)
                except EnvError as exc:
                    _set_error(response, exc.code, exc.message)
                except UnencodableValue as exc:
                    _set_error(response, grpc.StatusCode.INTERNAL, _unencodable(exc))
                yield response
        finally:
            if owned and session is not None and not session.closed:
                await self._sessions.close(session.id, "its stream ended")

    async def _open_and_reset(self, request: pb.ResetRequest, out: pb.ResetResponse) -> Session:
        """A new session with its first episode started; no session is left if that fails."""
        session = await self._sessions.open()
        try:
            await self._reset(session, request, out)
        except BaseException:
            await self._sessions.close(session.id, "its first reset failed")
            raise
        return session

    async def _reset(
        self, session: Session, request: pb.ResetRequest, out: pb.ResetResponse
    ) -> None:
        result: ResetResult = await self._sessions.reset(
            session,
            seed=request.seed if request.HasField("seed") else None,
            options=decode_map(request.options),
            task_id=request.task_id,
        )
        out.session_id = session.id
        out.episode_id = session.episode_id
        with self._ending_episode_on_failure(session):
            encode_value(result.observation, out=out.observation)
            encode_map(result.info, out=out.info)

    async def _step(self, session: Session, request: pb.StepRequest, out: pb.StepResponse) -> None:
        if request.WhichOneof("input") != "action":
            raise InvalidArgument("StepRequest.action is not set; send the action to apply")
        action = decode_action(request.action, self._action_space)
        result: StepResult = await self._sessions.step(session, action)
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
        encode_value(state, out=out.state)

    @contextlib.contextmanager
    def _ending_episode_on_failure(self, session: Session) -> Iterator[None]:
        """A result the client cannot receive ends the episode: its env has already moved on."""
        try:
            yield
        except (EnvError, UnencodableValue):
            self._sessions.end_episode(session, "ended: the env returned a result it cannot send")
            raise


def _bound(session: Session | None) -> Session:
    if session is None:
        raise FailedPrecondition("this stream has no session yet; send reset or attach first")
    return session


def _set_error(response: pb.StepStreamResponse, code: grpc.StatusCode, message: str) -> None:
    response.error.code = status_number(code)
    response.error.message = message


def _check_client_protocol(context: Context) -> None:
    for key, value in context.invocation_metadata() or ():
        if key == PROTOCOL_HEADER:
            check_protocol(value if isinstance(value, str) else value.decode(), who="client")
