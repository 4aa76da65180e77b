"""`EnvClient` (blocking) and `AsyncEnvClient` (asyncio): the typed Python face of EnvService.

Both offer the unary calls, which name a session by id, and `stream()`, a
session on one bidirectional stream: one message per step each way, the
session pinned to one server, closed when the stream closes. Failures raise
the `openenv_grpc.errors` family of the status (NotFound, InvalidArgument,
FailedPrecondition, ...), with the server's message.

    with EnvClient("localhost:50051") as client, client.stream() as env:
        reply = env.reset(seed=0)
        while not (step := env.step(client.spec.action_space.sample())).done:
            ...
"""

from __future__ import annotations

import queue
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

import grpc
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from ..errors import EnvError, Unavailable, from_status
from ..vector import AutoresetMode, BatchedSpaces
from ..version import check_protocol
from . import wire
from .results import (
    BatchResetReply,
    BatchStepReply,
    EnvSpec,
    ResetReply,
    StateReply,
    StepReply,
)

DEFAULT_TIMEOUT = 60.0


def _error(exc: grpc.RpcError) -> EnvError:
    """The family error for a failed call (sync calls and aio errors both carry a status)."""
    if isinstance(exc, (grpc.Call, grpc.aio.AioRpcError)):
        return from_status(exc.code(), exc.details() or "")
    return from_status(grpc.StatusCode.UNKNOWN, str(exc))


def _spec(response: pb.DescribeResponse) -> EnvSpec:
    check_protocol(response.protocol_version, who="server")
    return EnvSpec.from_proto(response)


class EnvClient:
    """A blocking client of one EnvService server.

    `timeout` is the deadline, in seconds, of every unary call (None: none);
    the server stops working on a call whose deadline has passed.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_message_bytes: int = wire.DEFAULT_MAX_MESSAGE_BYTES,
        keepalive_seconds: float = 30.0,
        channel: grpc.Channel | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._channel = channel or grpc.insecure_channel(
            address, options=wire.channel_options(max_message_bytes, keepalive_seconds)
        )
        self._stub = pb_grpc.EnvServiceStub(self._channel)
        self._spec: EnvSpec | None = None
        self._batched_spaces: BatchedSpaces | None = None

    @property
    def spec(self) -> EnvSpec:
        """The env spec, fetched by Describe on first use and kept."""
        return self._spec or self.describe()

    def describe(self) -> EnvSpec:
        """Fetch the env spec; FailedPrecondition when the server's protocol major differs."""
        response = self._invoke(self._stub.Describe, pb.DescribeRequest())
        self._spec = _spec(response)
        return self._spec

    def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        session_id: str = "",
    ) -> ResetReply:
        """Start an episode: in a new session (no session_id) or in the given one."""
        space = self.spec.observation_space
        request = wire.reset_request(
            session_id=session_id, seed=seed, options=options, task_id=task_id
        )
        response = self._invoke(self._stub.Reset, request, session_id)
        return ResetReply.from_proto(response, space)

    def step(self, session_id: str, action: Any) -> StepReply:
        """Apply one action in a session."""
        space = self.spec.observation_space
        response = self._invoke(self._stub.Step, wire.step_request(action, session_id), session_id)
        return StepReply.from_proto(response, space)

    def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        session_id: str = "",
        env_ids: Sequence[int] = (),
    ) -> BatchResetReply:
        """Create a batched session of num_envs sub-envs (no session_id), or reset the
        sub-envs env_ids (all when empty) of an existing one."""
        request = wire.reset_request(
            session_id=session_id,
            seed=seed,
            options=options,
            task_id=task_id,
            num_envs=num_envs,
            autoreset_mode=autoreset_mode,
            env_ids=env_ids,
        )
        response = self._invoke(self._stub.Reset, request, session_id)
        return BatchResetReply.from_proto(response, self._batched())

    def step_batch(
        self, session_id: str, actions: Any, env_ids: Sequence[int] = ()
    ) -> BatchStepReply:
        """Step sub-envs of a batched session together (all, in order, when env_ids is empty)."""
        response = self._invoke(
            self._stub.Step, wire.step_request(actions, session_id, env_ids), session_id
        )
        return BatchStepReply.from_proto(response, self._batched())

    def _invoke(self, method: Any, request: Any, session_id: str = "") -> Any:
        """One unary call with the client's deadline and headers; failures as EnvErrors."""
        try:
            return method(request, timeout=self.timeout, metadata=wire.metadata(session_id))
        except grpc.RpcError as exc:
            raise _error(exc) from None

    def _batched(self) -> BatchedSpaces:
        if self._batched_spaces is None:
            self._batched_spaces = BatchedSpaces(self.spec.observation_space)
        return self._batched_spaces

    def state(self, session_id: str) -> StateReply:
        """Read a session's episode id, step count and env state."""
        response = self._invoke(
            self._stub.State, pb.StateRequest(session_id=session_id), session_id
        )
        return StateReply.from_proto(response)

    def close_session(self, session_id: str) -> None:
        """Close a session and free its env on the server."""
        self._invoke(
            self._stub.CloseSession, pb.CloseSessionRequest(session_id=session_id), session_id
        )

    def stream(self) -> StreamSession:
        """A new session on its own bidirectional stream (reset or attach it first)."""
        return StreamSession(self)

    def close(self) -> None:
        """Close the channel (and with it every stream on it)."""
        self._channel.close()

    def __enter__(self) -> EnvClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class StreamSession:
    """One session on one StepStream, driven by blocking calls."""

    def __init__(self, client: EnvClient) -> None:
        self._space = client.spec.observation_space
        self._batched = BatchedSpaces(self._space)
        self._requests: queue.SimpleQueue[pb.StepStreamRequest | None] = queue.SimpleQueue()
        self._responses = cast(
            Iterator[pb.StepStreamResponse],
            client._stub.StepStream(iter(self._requests.get, None), metadata=wire.metadata()),
        )
        self._seq = 0
        self._closed = False
        self.session_id = ""

    def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetReply:
        """Start an episode (the first reset creates the stream's session)."""
        request = wire.reset_request(seed=seed, options=options, task_id=task_id)
        reply = ResetReply.from_proto(self._call("reset", request), self._space)
        self.session_id = reply.session_id
        return reply

    def step(self, action: Any) -> StepReply:
        """Apply one action."""
        return StepReply.from_proto(self._call("step", wire.step_request(action)), self._space)

    def state(self) -> StateReply:
        """Read the session's state."""
        return StateReply.from_proto(self._call("state", pb.StateRequest()))

    def attach(self, session_id: str) -> StateReply:
        """Bind this stream to a session made by a unary Reset (first request only)."""
        response = self._call("attach", pb.AttachRequest(session_id=session_id))
        self.session_id = response.session_id
        return StateReply.from_proto(response.state)

    def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        env_ids: Sequence[int] = (),
    ) -> BatchResetReply:
        """Reset a batched session: the first call creates it with num_envs sub-envs;
        later calls reset the sub-envs in env_ids (all when empty)."""
        request = wire.reset_request(
            seed=seed,
            options=options,
            task_id=task_id,
            num_envs=num_envs,
            autoreset_mode=autoreset_mode,
            env_ids=env_ids,
        )
        reply = BatchResetReply.from_proto(self._call("reset", request), self._batched)
        self.session_id = reply.session_id
        return reply

    def step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> BatchStepReply:
        """Step sub-envs together: actions is a batch of the action space for env_ids
        (all sub-envs, in order, when empty)."""
        return self.finish_step_batch(self.begin_step_batch(actions, env_ids))

    def begin_step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> int:
        """Send a batched step without waiting (to overlap several streams); returns its seq."""
        return self._write("step", wire.step_request(actions, env_ids=env_ids))

    def finish_step_batch(self, seq: int) -> BatchStepReply:
        """The answer of a step begun by `begin_step_batch`."""
        return BatchStepReply.from_proto(self._read("step", seq), self._batched)

    def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """EnvPool's send: start stepping env_ids; collect the results with `recv`."""
        self._call("send", wire.step_request(actions, env_ids=env_ids))

    def recv(self, num_envs: int = 0) -> BatchStepReply:
        """EnvPool's recv: the first num_envs sub-envs to finish (0: all in flight)."""
        response = self._call("recv", pb.RecvRequest(num_envs=num_envs))
        return BatchStepReply.from_proto(response, self._batched)

    def close(self) -> None:
        """End the stream; the server closes a session the stream created."""
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)
        try:
            for _ in self._responses:
                pass
        except grpc.RpcError:
            pass

    def _call(self, kind: str, message: Any) -> Any:
        return self._read(kind, self._write(kind, message))

    def _write(self, kind: str, message: Any) -> int:
        if self._closed:
            raise Unavailable("this stream is closed; open a new one with client.stream()")
        self._seq += 1
        self._requests.put(wire.stream_request(self._seq, kind, message))
        return self._seq

    def _read(self, kind: str, seq: int) -> Any:
        try:
            response = next(self._responses)
        except grpc.RpcError as exc:
            self._closed = True
            raise _error(exc) from None
        except StopIteration:
            self._closed = True
            raise Unavailable("the server ended the stream; open a new one") from None
        return wire.unwrap_stream_response(response, seq, kind)

    def __enter__(self) -> StreamSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncEnvClient:
    """An asyncio client of one EnvService server; the same calls as EnvClient, awaited."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_message_bytes: int = wire.DEFAULT_MAX_MESSAGE_BYTES,
        keepalive_seconds: float = 30.0,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._channel = channel or grpc.aio.insecure_channel(
            address, options=wire.channel_options(max_message_bytes, keepalive_seconds)
        )
        self._stub = pb_grpc.EnvServiceStub(self._channel)
        self._spec: EnvSpec | None = None

    async def spec(self) -> EnvSpec:
        """The env spec, fetched by Describe on first use and kept."""
        return self._spec or await self.describe()

    async def describe(self) -> EnvSpec:
        """Fetch the env spec; FailedPrecondition when the server's protocol major differs."""
        response = await self._invoke(self._stub.Describe, pb.DescribeRequest())
        self._spec = _spec(response)
        return self._spec

    async def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        session_id: str = "",
    ) -> ResetReply:
        """Start an episode: in a new session (no session_id) or in the given one."""
        space = (await self.spec()).observation_space
        request = wire.reset_request(
            session_id=session_id, seed=seed, options=options, task_id=task_id
        )
        response = await self._invoke(self._stub.Reset, request, session_id)
        return ResetReply.from_proto(response, space)

    async def step(self, session_id: str, action: Any) -> StepReply:
        """Apply one action in a session."""
        space = (await self.spec()).observation_space
        response = await self._invoke(
            self._stub.Step, wire.step_request(action, session_id), session_id
        )
        return StepReply.from_proto(response, space)

    async def state(self, session_id: str) -> StateReply:
        """Read a session's episode id, step count and env state."""
        response = await self._invoke(
            self._stub.State, pb.StateRequest(session_id=session_id), session_id
        )
        return StateReply.from_proto(response)

    async def close_session(self, session_id: str) -> None:
        """Close a session and free its env on the server."""
        await self._invoke(
            self._stub.CloseSession, pb.CloseSessionRequest(session_id=session_id), session_id
        )

    async def _invoke(self, method: Any, request: Any, session_id: str = "") -> Any:
        """One unary call with the client's deadline and headers; failures as EnvErrors."""
        try:
            return await method(request, timeout=self.timeout, metadata=wire.metadata(session_id))
        except grpc.RpcError as exc:
            raise _error(exc) from None

    async def stream(self) -> AsyncStreamSession:
        """A new session on its own bidirectional stream (reset or attach it first)."""
        return AsyncStreamSession(self._stub, (await self.spec()).observation_space)

    async def close(self) -> None:
        """Close the channel (and with it every stream on it)."""
        await self._channel.close(grace=None)

    async def __aenter__(self) -> AsyncEnvClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncStreamSession:
    """One session on one StepStream, driven by awaited calls."""

    def __init__(self, stub: Any, space: Any) -> None:
        self._space = space
        self._batched = BatchedSpaces(space)
        self._call_obj = stub.StepStream(metadata=wire.metadata())
        self._seq = 0
        self._closed = False
        self.session_id = ""

    async def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetReply:
        """Start an episode (the first reset creates the stream's session)."""
        request = wire.reset_request(seed=seed, options=options, task_id=task_id)
        reply = ResetReply.from_proto(await self._call("reset", request), self._space)
        self.session_id = reply.session_id
        return reply

    async def step(self, action: Any) -> StepReply:
        """Apply one action."""
        response = await self._call("step", wire.step_request(action))
        return StepReply.from_proto(response, self._space)

    async def state(self) -> StateReply:
        """Read the session's state."""
        return StateReply.from_proto(await self._call("state", pb.StateRequest()))

    async def attach(self, session_id: str) -> StateReply:
        """Bind this stream to a session made by a unary Reset (first request only)."""
        response = await self._call("attach", pb.AttachRequest(session_id=session_id))
        self.session_id = response.session_id
        return StateReply.from_proto(response.state)

    async def close(self) -> None:
        """End the stream; the server closes a session the stream created."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._call_obj.done_writing()
            while await self._call_obj.read() is not EOF:
                pass
        except grpc.RpcError:
            pass

    async def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        env_ids: Sequence[int] = (),
    ) -> BatchResetReply:
        """Reset a batched session (the first call creates it with num_envs sub-envs)."""
        request = wire.reset_request(
            seed=seed,
            options=options,
            task_id=task_id,
            num_envs=num_envs,
            autoreset_mode=autoreset_mode,
            env_ids=env_ids,
        )
        reply = BatchResetReply.from_proto(await self._call("reset", request), self._batched)
        self.session_id = reply.session_id
        return reply

    async def step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> BatchStepReply:
        """Step sub-envs together (all, in order, when env_ids is empty)."""
        response = await self._call("step", wire.step_request(actions, env_ids=env_ids))
        return BatchStepReply.from_proto(response, self._batched)

    async def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """EnvPool's send: start stepping env_ids; collect the results with `recv`."""
        await self._call("send", wire.step_request(actions, env_ids=env_ids))

    async def recv(self, num_envs: int = 0) -> BatchStepReply:
        """EnvPool's recv: the first num_envs sub-envs to finish (0: all in flight)."""
        response = await self._call("recv", pb.RecvRequest(num_envs=num_envs))
        return BatchStepReply.from_proto(response, self._batched)

    async def _write(self, kind: str, message: Any) -> int:
        if self._closed:
            raise Unavailable("this stream is closed; open a new one with client.stream()")
        self._seq += 1
        try:
            await self._call_obj.write(wire.stream_request(self._seq, kind, message))
        except grpc.RpcError as exc:
            self._closed = True
            raise _error(exc) from None
        return self._seq

    async def _call(self, kind: str, message: Any) -> Any:
        seq = await self._write(kind, message)
        try:
            response = await self._call_obj.read()
        except grpc.RpcError as exc:
            self._closed = True
            raise _error(exc) from None
        if response is EOF:
            self._closed = True
            code = await self._call_obj.code()
            details = await self._call_obj.details()
            raise from_status(code, details or "the server ended the stream; open a new one")
        return wire.unwrap_stream_response(response, seq, kind)

    async def __aenter__(self) -> AsyncStreamSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
