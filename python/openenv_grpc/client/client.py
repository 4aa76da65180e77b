"""`EnvClient` (blocking) and `AsyncEnvClient` (asyncio): the typed Python face of EnvService.

Both offer the unary calls, which name a session by id, and `stream()`, a
session on one bidirectional stream: one message per step each way, the
session pinned to one server, closed when the stream closes. Failures raise
the `openenv_grpc.errors` family of the status (NotFound, InvalidArgument,
FailedPrecondition, ...), with the server's message, its stable `reason`
and `metadata`.

Every creation and reset carries a fresh request id and every step its
step index, so the retries the channel makes on UNAVAILABLE, and the
`deadline_retries` a caller asks for, are never applied twice.

    with EnvClient("localhost:50051") as client, client.stream() as env:
        reply = env.reset(seed=0)
        while not (step := env.step(client.spec.action_space.sample())).done:
            ...
"""

from __future__ import annotations

import pathlib
import queue
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

import grpc
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from .. import status
from ..errors import Code, EnvError, Unavailable, from_status
from ..vector import AutoresetMode, BatchedSpaces, SubEnvStart
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
    """The error of a failed call, reason and metadata read from its status details."""
    if isinstance(exc, (grpc.Call, grpc.aio.AioRpcError)):
        code = exc.code() or grpc.StatusCode.UNKNOWN
        trailers: Any = exc.trailing_metadata() or ()
        return status.from_details(code.value[0], exc.details() or "", _details(trailers))
    return from_status(Code.UNKNOWN, str(exc))


def _details(trailers: Any) -> bytes | None:
    """The serialized google.rpc.Status in a call's trailers, if the server sent one."""
    for key, value in trailers:
        if key == status.DETAILS_KEY and isinstance(value, bytes):
            return value
    return None


_RETRIED_AFTER_DEADLINE = (Code.DEADLINE_EXCEEDED,)


def _final(error: EnvError, attempt: int, attempts: int) -> bool:
    """Whether a failed attempt is the answer: the server's own error (it has a reason),
    anything but a deadline that passed on the way, or the last attempt allowed."""
    return (
        bool(error.reason) or error.code not in _RETRIED_AFTER_DEADLINE or attempt + 1 == attempts
    )


def tls_credentials(
    ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None
) -> grpc.ChannelCredentials | None:
    """TLS credentials from PEM files: the CA that signed the server's certificate (None:
    the system's roots) and, for mutual TLS, this client's certificate and key. None when no
    file is given (plaintext, for loopback)."""
    if not (ca_file or cert_file or key_file):
        return None
    if bool(cert_file) != bool(key_file):
        raise ValueError("cert_file and key_file go together (a client certificate and its key)")

    def read(path: str | None) -> bytes | None:
        return pathlib.Path(path).read_bytes() if path else None

    return grpc.ssl_channel_credentials(read(ca_file), read(key_file), read(cert_file))


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
        deadline_retries: int = 0,
        channel: grpc.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        token: str | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.deadline_retries = deadline_retries
        self.token = wire.token_or_environment(token)
        # The step index each session is at, as far as this client has seen it.
        self._step_index: dict[str, int] = {}
        options = wire.channel_options(max_message_bytes, keepalive_seconds)
        tls = credentials or tls_credentials(ca_file, cert_file, key_file)
        self._channel = channel or (
            grpc.secure_channel(address, tls, options=options)
            if tls is not None
            else grpc.insecure_channel(address, options=options)
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
        request_id: str = "",
    ) -> ResetReply:
        """Start an episode: in a new session (no session_id) or in the given one.
        `request_id` names this creation or reset for retries (default: a fresh UUID)."""
        space = self.spec.observation_space
        request = wire.reset_request(
            session_id=session_id,
            new=not session_id,
            seed=seed,
            options=options,
            task_id=task_id,
            request_id=request_id,
        )
        response = self._invoke(self._stub.Reset, request, session_id, idempotent=True)
        self._step_index[response.session_id] = 0
        return ResetReply.from_proto(response, space)

    def step(self, session_id: str, action: Any, *, step_index: int | None = None) -> StepReply:
        """Apply one action in a session as step `step_index` of the episode (default: the
        next one this client knows of; give the same index again to retry a step)."""
        space = self.spec.observation_space
        index = self._next_step(session_id) if step_index is None else step_index
        request = wire.step_request(action, session_id, index)
        response = self._invoke(self._stub.Step, request, session_id, idempotent=True)
        self._step_index[session_id] = response.step_index
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
        starts: Sequence[SubEnvStart] = (),
    ) -> BatchResetReply:
        """Create a batched session of num_envs sub-envs (no session_id), or reset the
        sub-envs env_ids (all when empty) of an existing one. `starts` gives each sub-env
        reset its own seed, options and task instead of seed + i and the shared ones."""
        request = wire.reset_batch_request(
            session_id=session_id,
            num_envs=0 if session_id else num_envs,
            autoreset_mode=autoreset_mode,
            seed=seed,
            options=options,
            task_id=task_id,
            env_ids=env_ids,
            starts=starts,
        )
        response = self._invoke(self._stub.ResetBatch, request, session_id, idempotent=True)
        if not session_id or not env_ids:
            self._step_index[response.session_id] = 0
        return BatchResetReply.from_proto(response, self._batched())

    def step_batch(
        self, session_id: str, actions: Any, env_ids: Sequence[int] = ()
    ) -> BatchStepReply:
        """Step sub-envs of a batched session together (all, in order, when env_ids is empty)."""
        request = wire.step_batch_request(actions, session_id, env_ids, self._next_step(session_id))
        response = self._invoke(self._stub.StepBatch, request, session_id, idempotent=True)
        self._step_index[session_id] = response.step_index
        return BatchStepReply.from_proto(response, self._batched())

    def _next_step(self, session_id: str) -> int:
        known = self._step_index.get(session_id)
        return 0 if known is None else known + 1

    def _invoke(
        self, method: Any, request: Any, session_id: str = "", *, idempotent: bool = False
    ) -> Any:
        """One unary call with the client's deadline and headers; failures as EnvErrors.
        An idempotent call whose deadline passed is sent again `deadline_retries` times (not
        one the server failed itself: ENV_TIMEOUT has closed the session)."""
        attempts = 1 + (self.deadline_retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return method(
                    request, timeout=self.timeout, metadata=wire.metadata(session_id, self.token)
                )
            except grpc.RpcError as exc:
                error = _error(exc)
                if _final(error, attempt, attempts):
                    raise error from None
        raise AssertionError("unreachable")

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
        self._step_index.pop(session_id, None)
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


class _StreamState:
    """What a stream session knows of its session: id, kind, and the step index it is at."""

    def __init__(self, space: Any) -> None:
        self.space = space
        self.batched = BatchedSpaces(space)
        self.session_id = ""
        self.num_envs = 0
        self.step_index = 0

    def reset_request(
        self, seed: int | None, options: Mapping[str, Any] | None, task_id: str
    ) -> pb.ResetRequest:
        return wire.reset_request(
            new=not self.session_id, seed=seed, options=options, task_id=task_id
        )

    def reset_reply(self, response: pb.ResetResponse) -> ResetReply:
        self.session_id, self.step_index = response.session_id, 0
        return ResetReply.from_proto(response, self.space)

    def reset_batch_request(
        self,
        num_envs: int,
        autoreset_mode: AutoresetMode,
        seed: int | None,
        options: Mapping[str, Any] | None,
        task_id: str,
        env_ids: Sequence[int],
        starts: Sequence[SubEnvStart],
    ) -> pb.ResetBatchRequest:
        if not self.session_id:
            self.num_envs = num_envs
        return wire.reset_batch_request(
            num_envs=0 if self.session_id else num_envs,
            autoreset_mode=autoreset_mode,
            seed=seed,
            options=options,
            task_id=task_id,
            env_ids=env_ids,
            starts=starts,
        )

    def reset_batch_reply(self, response: pb.ResetBatchResponse) -> BatchResetReply:
        self.session_id = response.session_id
        if len(response.env_ids) == self.num_envs:
            self.step_index = 0
        return BatchResetReply.from_proto(response, self.batched)

    def step_reply(self, response: pb.StepResponse) -> StepReply:
        self.step_index = response.step_index
        return StepReply.from_proto(response, self.space)

    def step_batch_reply(self, response: pb.StepBatchResponse) -> BatchStepReply:
        self.step_index = response.step_index
        return BatchStepReply.from_proto(response, self.batched)

    def attach_reply(self, response: pb.AttachResponse) -> StateReply:
        state = response.state
        self.session_id, self.num_envs = state.session_id, state.num_envs
        self.step_index = state.step_count
        return StateReply.from_proto(state)


class StreamSession:
    """One session on one StepStream, driven by blocking calls."""

    def __init__(self, client: EnvClient) -> None:
        self._state = _StreamState(client.spec.observation_space)
        self._requests: queue.SimpleQueue[pb.StepStreamRequest | None] = queue.SimpleQueue()
        self._responses = cast(
            Iterator[pb.StepStreamResponse],
            client._stub.StepStream(
                iter(self._requests.get, None), metadata=wire.metadata(token=client.token)
            ),
        )
        self._seq = 0
        self._closed = False

    @property
    def session_id(self) -> str:
        """The stream's session ("" before the first reset or attach)."""
        return self._state.session_id

    def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetReply:
        """Start an episode (the first reset creates the stream's session)."""
        request = self._state.reset_request(seed, options, task_id)
        return self._state.reset_reply(self._call("reset_request", request))

    def step(self, action: Any) -> StepReply:
        """Apply one action (as the next step index)."""
        request = wire.step_request(action, step_index=self._state.step_index + 1)
        return self._state.step_reply(self._call("step_request", request))

    def state(self) -> StateReply:
        """Read the session's state."""
        return StateReply.from_proto(self._call("state_request", pb.StateRequest()))

    def attach(self, session_id: str) -> StateReply:
        """Bind this stream to a session made elsewhere (first request only)."""
        response = self._call("attach_request", pb.AttachRequest(session_id=session_id))
        return self._state.attach_reply(response)

    def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        env_ids: Sequence[int] = (),
        starts: Sequence[SubEnvStart] = (),
    ) -> BatchResetReply:
        """Reset a batched session: the first call creates it with num_envs sub-envs;
        later calls reset the sub-envs in env_ids (all when empty)."""
        request = self._state.reset_batch_request(
            num_envs, autoreset_mode, seed, options, task_id, env_ids, starts
        )
        return self._state.reset_batch_reply(self._call("reset_batch_request", request))

    def step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> BatchStepReply:
        """Step sub-envs together: actions is a batch of the action space for env_ids
        (all sub-envs, in order, when empty)."""
        return self.finish_step_batch(self.begin_step_batch(actions, env_ids))

    def begin_step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> int:
        """Send a batched step without waiting (to overlap several streams); returns its seq."""
        request = wire.step_batch_request(
            actions, env_ids=env_ids, step_index=self._state.step_index + 1
        )
        return self._write("step_batch_request", request)

    def finish_step_batch(self, seq: int) -> BatchStepReply:
        """The answer of a step begun by `begin_step_batch`."""
        return self._state.step_batch_reply(self._read("step_batch_request", seq))

    def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """EnvPool's send: start stepping env_ids; collect the results with `recv`."""
        self._call("send_request", wire.send_request(actions, env_ids))

    def recv(self, num_envs: int = 0) -> BatchStepReply:
        """EnvPool's recv: the first num_envs sub-envs to finish (0: all in flight)."""
        response = self._call("recv_request", pb.RecvRequest(num_envs=num_envs))
        return self._state.step_batch_reply(response)

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
        deadline_retries: int = 0,
        channel: grpc.aio.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        token: str | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.deadline_retries = deadline_retries
        self.token = wire.token_or_environment(token)
        self._step_index: dict[str, int] = {}
        options = wire.channel_options(max_message_bytes, keepalive_seconds)
        tls = credentials or tls_credentials(ca_file, cert_file, key_file)
        self._channel = channel or (
            grpc.aio.secure_channel(address, tls, options=options)
            if tls is not None
            else grpc.aio.insecure_channel(address, options=options)
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
        request_id: str = "",
    ) -> ResetReply:
        """Start an episode: in a new session (no session_id) or in the given one.
        `request_id` names this creation or reset for retries (default: a fresh UUID)."""
        space = (await self.spec()).observation_space
        request = wire.reset_request(
            session_id=session_id,
            new=not session_id,
            seed=seed,
            options=options,
            task_id=task_id,
            request_id=request_id,
        )
        response = await self._invoke(self._stub.Reset, request, session_id, idempotent=True)
        self._step_index[response.session_id] = 0
        return ResetReply.from_proto(response, space)

    async def step(
        self, session_id: str, action: Any, *, step_index: int | None = None
    ) -> StepReply:
        """Apply one action in a session as step `step_index` of the episode (default: the
        next one this client knows of; give the same index again to retry a step)."""
        space = (await self.spec()).observation_space
        known = self._step_index.get(session_id)
        if step_index is None:
            step_index = 0 if known is None else known + 1
        request = wire.step_request(action, session_id, step_index)
        response = await self._invoke(self._stub.Step, request, session_id, idempotent=True)
        self._step_index[session_id] = response.step_index
        return StepReply.from_proto(response, space)

    async def state(self, session_id: str) -> StateReply:
        """Read a session's episode id, step count and env state."""
        response = await self._invoke(
            self._stub.State, pb.StateRequest(session_id=session_id), session_id
        )
        return StateReply.from_proto(response)

    async def close_session(self, session_id: str) -> None:
        """Close a session and free its env on the server."""
        self._step_index.pop(session_id, None)
        await self._invoke(
            self._stub.CloseSession, pb.CloseSessionRequest(session_id=session_id), session_id
        )

    async def _invoke(
        self, method: Any, request: Any, session_id: str = "", *, idempotent: bool = False
    ) -> Any:
        """One unary call with the client's deadline and headers; failures as EnvErrors.
        An idempotent call whose deadline passed is sent again `deadline_retries` times (not
        one the server failed itself: ENV_TIMEOUT has closed the session)."""
        attempts = 1 + (self.deadline_retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return await method(
                    request, timeout=self.timeout, metadata=wire.metadata(session_id, self.token)
                )
            except grpc.RpcError as exc:
                error = _error(exc)
                if _final(error, attempt, attempts):
                    raise error from None
        raise AssertionError("unreachable")

    async def stream(self) -> AsyncStreamSession:
        """A new session on its own bidirectional stream (reset or attach it first)."""
        return AsyncStreamSession(self._stub, (await self.spec()).observation_space, self.token)

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

    def __init__(self, stub: Any, space: Any, token: str = "") -> None:
        self._state = _StreamState(space)
        self._call_obj = stub.StepStream(metadata=wire.metadata(token=token))
        self._seq = 0
        self._closed = False

    @property
    def session_id(self) -> str:
        """The stream's session ("" before the first reset or attach)."""
        return self._state.session_id

    async def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetReply:
        """Start an episode (the first reset creates the stream's session)."""
        request = self._state.reset_request(seed, options, task_id)
        return self._state.reset_reply(await self._call("reset_request", request))

    async def step(self, action: Any) -> StepReply:
        """Apply one action (as the next step index)."""
        request = wire.step_request(action, step_index=self._state.step_index + 1)
        return self._state.step_reply(await self._call("step_request", request))

    async def state(self) -> StateReply:
        """Read the session's state."""
        return StateReply.from_proto(await self._call("state_request", pb.StateRequest()))

    async def attach(self, session_id: str) -> StateReply:
        """Bind this stream to a session made elsewhere (first request only)."""
        response = await self._call("attach_request", pb.AttachRequest(session_id=session_id))
        return self._state.attach_reply(response)

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
        starts: Sequence[SubEnvStart] = (),
    ) -> BatchResetReply:
        """Reset a batched session (the first call creates it with num_envs sub-envs)."""
        request = self._state.reset_batch_request(
            num_envs, autoreset_mode, seed, options, task_id, env_ids, starts
        )
        return self._state.reset_batch_reply(await self._call("reset_batch_request", request))

    async def step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> BatchStepReply:
        """Step sub-envs together (all, in order, when env_ids is empty)."""
        request = wire.step_batch_request(
            actions, env_ids=env_ids, step_index=self._state.step_index + 1
        )
        return self._state.step_batch_reply(await self._call("step_batch_request", request))

    async def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """EnvPool's send: start stepping env_ids; collect the results with `recv`."""
        await self._call("send_request", wire.send_request(actions, env_ids))

    async def recv(self, num_envs: int = 0) -> BatchStepReply:
        """EnvPool's recv: the first num_envs sub-envs to finish (0: all in flight)."""
        response = await self._call("recv_request", pb.RecvRequest(num_envs=num_envs))
        return self._state.step_batch_reply(response)

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
            trailers = await self._call_obj.trailing_metadata()
            raise status.from_details(
                code.value[0],
                details or "the server ended the stream; open a new one",
                _details(trailers or ()),
            )
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
