"""The Python clients of EnvService: one asyncio core and its blocking face.

`AsyncEnvClient` and `AsyncStreamSession` (grpc.aio) are the core: every
call is written once, here. `EnvClient` and `StreamSession` are the same
calls, blocking: each runs the core's coroutine on a private event loop
driven by the calling thread (`blocking.py`), so a blocking step costs one
message each way and no thread hand-off, and the two faces cannot drift.

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

    async with AsyncEnvClient("localhost:50051") as client:
        async with await client.stream() as env:
            reply = await env.reset(seed=0)
"""

from __future__ import annotations

import asyncio
import functools
import json
import pathlib
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypedDict, Unpack

import grpc
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import tasks_pb2, tools_pb2

from .. import status
from ..errors import Code, DeadlineExceeded, EnvError, Unavailable, from_status
from ..tools import ToolResult, ToolSpec
from ..vector import AutoresetMode, BatchedSpaces, SubEnvStart
from ..version import check_protocol
from . import frames, wire
from .blocking import ClientLoop, Facade, blocking, blocking_iter, client_loop
from .endpoints import DEFAULT_REFRESH_SECONDS, Endpoint, Endpoints, in_turn, is_unreachable
from .results import (
    BatchResetReply,
    BatchStepReply,
    EnvSpec,
    ResetReply,
    ServerLoad,
    StateReply,
    StepReply,
    TaskPage,
    tool_result,
    tool_spec,
)
from .wire import TaskChoice

DEFAULT_TIMEOUT = 60.0


class ClientOptions(TypedDict, total=False):
    """How a client reaches its server; every client (and RemoteEnv, RemoteVectorEnv)
    takes these keywords.

    timeout: the deadline, in seconds, of every unary call, and how long the first
        request of a stream waits for the server to be reachable (None: no limit;
        default 60); the server stops working on a call whose deadline has passed.
    max_message_bytes: the largest message sent or received (default 64 MiB).
    keepalive_seconds: the HTTP/2 keepalive ping interval (default 30).
    deadline_retries: how often an idempotent unary call whose deadline passed on
        the way is sent again (default 0).
    credentials: TLS channel credentials; or give the PEM files:
    ca_file, cert_file, key_file: the CA of the server's certificate, and this
        client's certificate and key for mutual TLS.
    token: a bearer token (default $OPENENV_GRPC_TOKEN).
    refresh_seconds: how often a `dns:` target that names many pods is looked up
        again (default 10; also whenever none of its pods answers).
    """

    timeout: float | None
    max_message_bytes: int
    keepalive_seconds: float
    deadline_retries: int
    credentials: grpc.ChannelCredentials | None
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    token: str | None
    refresh_seconds: float


_CREATING = frozenset({"Reset", "ResetBatch"})
"""The unary calls that make a session when they name none."""


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


def _spec_and_load(response: pb.DescribeResponse) -> tuple[EnvSpec, ServerLoad]:
    """What a Describe answer says: the env spec (FailedPrecondition when the server's
    protocol major differs) and the server's load."""
    check_protocol(response.protocol_version, who="server")
    return EnvSpec.from_proto(response), ServerLoad.from_proto(response.load)


class AsyncEnvClient:
    """An asyncio client of one EnvService server (the core both faces share).

    Takes the `ClientOptions` keywords, and `channel`, a grpc.aio channel of the
    caller's making (the options then only set the calls' deadlines and token).
    """

    def __init__(
        self,
        address: str | Sequence[str],
        *,
        channel: grpc.aio.Channel | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.address = address if isinstance(address, str) else ",".join(address)
        self.timeout = options.get("timeout", DEFAULT_TIMEOUT)
        self.deadline_retries = options.get("deadline_retries", 0)
        self.token = wire.token_or_environment(options.get("token"))
        # The step index each session is at, as far as this client has seen it.
        self._step_index: dict[str, int] = {}
        self._endpoints = (
            Endpoints.of_channel(channel, self.address)
            if channel is not None
            else Endpoints(
                address,
                functools.partial(_channel, options=options),
                refresh_seconds=options.get("refresh_seconds", DEFAULT_REFRESH_SECONDS),
            )
        )
        self._spec: EnvSpec | None = None
        self._batched_spaces: BatchedSpaces | None = None

    async def spec(self) -> EnvSpec:
        """The env spec, fetched by Describe on first use and kept."""
        return self._spec or await self.describe()

    async def describe(self) -> EnvSpec:
        """Fetch the env spec; FailedPrecondition when the server's protocol major differs."""
        return (await self.load())[0]

    async def load(self) -> tuple[EnvSpec, ServerLoad]:
        """One Describe, never cached: the spec (kept, as `describe` keeps it) and what the
        server holds now (since 1.5; all zero from an older server), to choose a server
        with room."""
        self._spec, load = _spec_and_load(await self._invoke("Describe", pb.DescribeRequest()))
        return self._spec, load

    async def loads(self, within: float = 5.0) -> dict[str, tuple[EnvSpec, ServerLoad] | EnvError]:
        """Describe on every server of the target at once (within `within` seconds):
        each one's spec and load, or the error that met the call, by address."""
        endpoints = await self._endpoints.current()

        async def one(endpoint: Endpoint) -> tuple[EnvSpec, ServerLoad] | EnvError:
            try:
                async with asyncio.timeout(within):
                    response = await self._invoke_on(
                        endpoint, "Describe", pb.DescribeRequest(), "", True
                    )
                return _spec_and_load(response)
            except TimeoutError:
                endpoint.failed()
                return DeadlineExceeded(f"{endpoint.address} did not answer within {within} s")
            except EnvError as error:
                if is_unreachable(error):
                    endpoint.failed()
                return error

        answers = await asyncio.gather(*(one(endpoint) for endpoint in endpoints))
        return {
            endpoint.address: answer for endpoint, answer in zip(endpoints, answers, strict=True)
        }

    async def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        task: TaskChoice | None = None,
        session_id: str = "",
        request_id: str = "",
        render_mode: str = "",
    ) -> ResetReply:
        """Start an episode: in a new session (no session_id; its env made in `render_mode`,
        if given) or in the given one. `task` chooses its task: a task id, or a
        `tasks.TaskSelector` (or dict) by split and index or seed; unset, the next of the
        default split. `request_id` names this creation or reset for retries (default: a
        fresh UUID)."""
        space = (await self.spec()).observation_space
        request = wire.reset_request(
            session_id=session_id,
            new=not session_id,
            seed=seed,
            options=options,
            task_id=task_id,
            task=task,
            request_id=request_id,
            render_mode=render_mode,
        )
        response = await self._invoke("Reset", request, session_id, idempotent=True)
        self._step_index[response.session_id] = 0
        return ResetReply.from_proto(response, space)

    async def step(
        self, session_id: str, action: Any, *, step_index: int | None = None
    ) -> StepReply:
        """Apply one action in a session as step `step_index` of the episode (default: the
        next one this client knows of; give the same index again to retry a step)."""
        space = (await self.spec()).observation_space
        index = self._next_step(session_id) if step_index is None else step_index
        request = wire.step_request(action, session_id, index)
        response = await self._invoke("Step", request, session_id, idempotent=True)
        self._step_index[session_id] = response.step_index
        return StepReply.from_proto(response, space)

    async def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        task: TaskChoice | None = None,
        session_id: str = "",
        env_ids: Sequence[int] = (),
        starts: Sequence[SubEnvStart] = (),
        tasks: Sequence[TaskChoice | None] = (),
    ) -> BatchResetReply:
        """Create a batched session of num_envs sub-envs (no session_id), or reset the
        sub-envs env_ids (all when empty) of an existing one. `starts` gives each sub-env
        reset its own seed, options and task instead of seed + i and the shared ones.
        `task` is every sub-env's task (by index or seed: sub-env i at index + i, seed +
        i); `tasks` one each (with `starts`, one per start)."""
        request = wire.reset_batch_request(
            session_id=session_id,
            num_envs=0 if session_id else num_envs,
            autoreset_mode=autoreset_mode,
            seed=seed,
            options=options,
            task_id=task_id,
            task=task,
            env_ids=env_ids,
            starts=starts,
            tasks=tasks,
        )
        response = await self._invoke("ResetBatch", request, session_id, idempotent=True)
        if not session_id or not env_ids:
            self._step_index[response.session_id] = 0
        return BatchResetReply.from_proto(response, await self._batched())

    async def step_batch(
        self, session_id: str, actions: Any, env_ids: Sequence[int] = ()
    ) -> BatchStepReply:
        """Step sub-envs of a batched session together (all, in order, when env_ids is empty)."""
        request = wire.step_batch_request(actions, session_id, env_ids, self._next_step(session_id))
        response = await self._invoke("StepBatch", request, session_id, idempotent=True)
        self._step_index[session_id] = response.step_index
        return BatchStepReply.from_proto(response, await self._batched())

    async def state(self, session_id: str) -> StateReply:
        """Read a session's episode id, step count and env state."""
        response = await self._invoke("State", pb.StateRequest(session_id=session_id), session_id)
        return StateReply.from_proto(response)

    async def list_tasks(
        self, taskset: str = "", split: str = "", start: int = 0, page_size: int = 0
    ) -> TaskPage:
        """A range of one split's tasks, public parts only (OpenEnv's `get_task_range`):
        from index `start`, at most `page_size` (0: the server's page of 100). "" names
        the env's first taskset and its default split. Needs no session."""
        request = tasks_pb2.ListTasksRequest(
            taskset=taskset, split=split, start=start, page_size=page_size
        )
        return TaskPage.from_proto(await self._invoke("ListTasks", request, idempotent=True))

    async def list_tools(self, session_id: str) -> list[ToolSpec]:
        """The MCP tools of a session's env (Describe's `tools` for a new session)."""
        request = tools_pb2.ListToolsRequest(session_id=session_id)
        response = await self._invoke("ListTools", request, session_id, idempotent=True)
        return [tool_spec(tool) for tool in response.tools]

    async def call_tool(
        self,
        session_id: str,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        request_id: str = "",
    ) -> ToolResult:
        """Run one tool of a session's env with `arguments` (JSON values). A failure the
        tool reports comes back with `is_error` set; an unknown tool or bad arguments
        raise InvalidArgument. `request_id` (default: a fresh one) makes a retry return
        the first call's answer instead of running the tool twice."""
        request = tool_request(name, arguments, session_id, request_id or wire.new_request_id())
        response = await self._invoke("CallTool", request, session_id, idempotent=True)
        return tool_result(response)

    async def close_session(self, session_id: str) -> None:
        """Close a session and free its env on the server."""
        self._step_index.pop(session_id, None)
        self._endpoints.forget(session_id)
        await self._invoke(
            "CloseSession", pb.CloseSessionRequest(session_id=session_id), session_id
        )

    async def render(
        self, session_id: str, frame_encoding: str = "raw", jpeg_quality: int = 0
    ) -> Any:
        """A session's current frame, as its env's render() returns it ("raw"; "png" and
        "jpeg" travel smaller and decode with Pillow); None without a render mode."""
        request = frames.render_request(session_id, frame_encoding, jpeg_quality)
        response = await self._invoke("Render", request, session_id)
        return frames.decode_frame(response.frame)

    async def watch(
        self,
        session_id: str,
        *,
        max_fps: float = 10.0,
        frame_encoding: str = "png",
        jpeg_quality: int = 0,
        keep_encoded: bool = False,
    ) -> AsyncIterator[frames.Watched]:
        """The step summaries and frames (at most `max_fps` a second; 0: none) of a live
        session, as they happen, until it closes (its owner's or an admin's)."""
        request = frames.watch_request(session_id, max_fps, frame_encoding, jpeg_quality)
        endpoint = (await self._endpoints.for_session(session_id))[0]
        call = endpoint.stub.WatchSession(request, metadata=wire.metadata(session_id, self.token))
        try:
            async for message in call:
                yield frames.watch_event(message, keep_encoded=keep_encoded)
        except grpc.RpcError as exc:
            raise _error(exc) from None
        finally:
            call.cancel()

    async def stream(self, render_mode: str = "", *, endpoint: str = "") -> AsyncStreamSession:
        """A new session on its own bidirectional stream (reset or attach it first); the
        session its first reset creates is made in `render_mode`, if given. The stream goes
        to the next endpoint in turn, or to the one at `endpoint` (an address of
        `endpoint_addresses()`), and stays there; a lost stream reopens where the next
        new session would go."""
        return AsyncStreamSession(
            self._endpoints,
            (await self.spec()).observation_space,
            self.token,
            self.timeout,
            render_mode=render_mode,
            endpoint=self._endpoints.get(endpoint) if endpoint else None,
        )

    async def endpoint_addresses(self) -> list[str]:
        """The servers of this client's target now (for a `dns:` target, its records)."""
        return [endpoint.address for endpoint in await self._endpoints.current()]

    async def close(self) -> None:
        """Close the channels (and with them every stream on them)."""
        await self._endpoints.close()

    def _next_step(self, session_id: str) -> int:
        known = self._step_index.get(session_id)
        return 0 if known is None else known + 1

    async def _batched(self) -> BatchedSpaces:
        if self._batched_spaces is None:
            self._batched_spaces = BatchedSpaces((await self.spec()).observation_space)
        return self._batched_spaces

    async def _invoke(
        self, method: str, request: Any, session_id: str = "", *, idempotent: bool = False
    ) -> Any:
        """One unary call on the endpoint it belongs to (see `endpoints`): a session's own,
        else the next in turn, going on to the next when one is unreachable (or, for a new
        session, draining or full). Failures come back as EnvErrors."""
        endpoints = self._endpoints
        if endpoints.single:
            return await self._invoke_on(endpoints.first, method, request, session_id, idempotent)
        tried = await (endpoints.for_session(session_id) if session_id else endpoints.candidates())
        creating = not session_id and method in _CREATING
        endpoint, response = await in_turn(
            tried,
            lambda endpoint: self._invoke_on(endpoint, method, request, session_id, idempotent),
            creating=creating,
        )
        endpoints.own(response.session_id if creating else session_id, endpoint)
        return response

    async def _invoke_on(
        self, endpoint: Endpoint, method: str, request: Any, session_id: str, idempotent: bool
    ) -> Any:
        """One unary call to one endpoint with the client's deadline and headers. An
        idempotent call whose deadline passed is sent again `deadline_retries` times (not
        one the server failed itself: ENV_TIMEOUT has closed the session)."""
        call = getattr(endpoint.stub, method)
        attempts = 1 + (self.deadline_retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return await call(
                    request, timeout=self.timeout, metadata=wire.metadata(session_id, self.token)
                )
            except grpc.RpcError as exc:
                error = _error(exc)
                if _final(error, attempt, attempts):
                    raise error from None
        raise AssertionError("unreachable")

    async def __aenter__(self) -> AsyncEnvClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def tool_request(
    name: str, arguments: Mapping[str, Any] | None, session_id: str = "", request_id: str = ""
) -> tools_pb2.CallToolRequest:
    """A CallToolRequest: the arguments as the JSON text the contract carries."""
    text = json.dumps(dict(arguments)) if arguments else ""
    return tools_pb2.CallToolRequest(
        session_id=session_id, name=name, arguments_json=text, request_id=request_id
    )


def _channel(address: str, host: str = "", *, options: ClientOptions) -> grpc.aio.Channel:
    """A grpc.aio channel to `address` (bound to the running loop), TLS when asked; `host`
    is the name the server's certificate is for when `address` is one of its IPs."""
    settings = wire.channel_options(
        options.get("max_message_bytes", wire.DEFAULT_MAX_MESSAGE_BYTES),
        options.get("keepalive_seconds", 30.0),
    )
    tls = options.get("credentials") or tls_credentials(
        options.get("ca_file"), options.get("cert_file"), options.get("key_file")
    )
    if tls is not None:
        if host:
            settings.append(("grpc.ssl_target_name_override", host))
        return grpc.aio.secure_channel(address, tls, options=settings)
    return grpc.aio.insecure_channel(address, options=settings)


LOST_NOTE = "the stream and its session are gone; the next reset opens a new session"


async def _ended(call: Any) -> EnvError:
    """The error of a stream call that has ended: its status, reason and metadata. A
    write that failed in the transport (the server went away) gets INTERNAL without
    details from grpc.aio: that is the connection lost, UNAVAILABLE."""
    code = await call.code()
    details = await call.details()
    trailers = await call.trailing_metadata()
    error = status.from_details(
        code.value[0],
        details or "the server ended the stream; open a new one",
        _details(trailers or ()),
    )
    if error.code == Code.INTERNAL and not error.reason:
        return Unavailable(f"the connection to the server was lost ({details})")
    return error


class AsyncStreamSession:
    """One session on one StepStream, driven by awaited calls.

    One request at a time: concurrent calls on one stream wait their turn, so
    their replies never cross. A stream that ends under a call (the server went
    away, the session was closed or reaped) raises that call's error, with its
    reason, once; later calls raise Unavailable until `reset` (or
    `reset_batch`) opens a new stream with a new session. `close` ends it for good.
    """

    def __init__(
        self,
        endpoints: Endpoints,
        space: gs.Space[Any],
        token: str = "",
        timeout: float | None = None,
        *,
        render_mode: str = "",
        endpoint: Endpoint | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._pinned = endpoint
        self.endpoint = ""
        """The address of the server the stream is on ("" before its first request)."""
        self.render_mode = render_mode
        self._token = token
        self._timeout = timeout
        self.space = space
        self._batched = BatchedSpaces(space)
        self._call_obj: Any = None  # the StepStream call, opened by the first request
        self._turn = asyncio.Lock()
        self._seq = 0
        self._closed = False
        self._lost: EnvError | None = None
        self.session_id = ""
        """The stream's session ("" before the first reset or attach, and once lost)."""
        self.num_envs = 0
        self.step_index = 0

    @property
    def lost(self) -> bool:
        """Whether the stream ended under a call (the next reset opens a new one)."""
        return self._lost is not None

    async def reset(
        self,
        *,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        task: TaskChoice | None = None,
    ) -> ResetReply:
        """Start an episode (the first reset creates the stream's session; after the
        stream was lost, a new stream and session); `task` chooses its task (see
        AsyncEnvClient.reset)."""
        self._reopen_if_lost()
        request = wire.reset_request(
            new=not self.session_id,
            seed=seed,
            options=options,
            task_id=task_id,
            task=task,
            render_mode=self.render_mode,
        )
        response = await self._call("reset_request", request)
        self.session_id, self.step_index = response.session_id, 0
        return ResetReply.from_proto(response, self.space)

    async def step(self, action: Any) -> StepReply:
        """Apply one action (as the next step index)."""
        response = await self._call("step_request", wire.step_request(action), next_step=True)
        return StepReply.from_proto(response, self.space)

    async def state(self) -> StateReply:
        """Read the session's state."""
        return StateReply.from_proto(await self._call("state_request", pb.StateRequest()))

    async def attach(self, session_id: str) -> StateReply:
        """Bind this stream to a session made elsewhere (first request only; after the
        stream was lost, the first of a new stream)."""
        self._reopen_if_lost()
        response = await self._call("attach_request", pb.AttachRequest(session_id=session_id))
        state = response.state
        self.session_id, self.num_envs = state.session_id, state.num_envs
        self.step_index = state.step_count
        return StateReply.from_proto(state)

    async def reset_batch(
        self,
        num_envs: int = 0,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        seed: int | None = None,
        options: Mapping[str, Any] | None = None,
        task_id: str = "",
        task: TaskChoice | None = None,
        env_ids: Sequence[int] = (),
        starts: Sequence[SubEnvStart] = (),
        tasks: Sequence[TaskChoice | None] = (),
    ) -> BatchResetReply:
        """Reset a batched session: the first call creates it with num_envs sub-envs;
        later calls reset the sub-envs in env_ids (all when empty). `task` and `tasks`
        choose tasks as in AsyncEnvClient.reset_batch."""
        self._reopen_if_lost()
        new = not self.session_id
        if new:
            self.num_envs = num_envs
        request = wire.reset_batch_request(
            num_envs=num_envs if new else 0,
            autoreset_mode=autoreset_mode,
            seed=seed,
            options=options,
            task_id=task_id,
            task=task,
            env_ids=env_ids,
            starts=starts,
            tasks=tasks,
        )
        response = await self._call("reset_batch_request", request)
        self.session_id = response.session_id
        if len(response.env_ids) == self.num_envs:
            self.step_index = 0
        return BatchResetReply.from_proto(response, self._batched)

    async def step_batch(self, actions: Any, env_ids: Sequence[int] = ()) -> BatchStepReply:
        """Step sub-envs together: actions is a batch of the action space for env_ids
        (all sub-envs, in order, when empty)."""
        request = wire.step_batch_request(actions, env_ids=env_ids)
        response = await self._call("step_batch_request", request, next_step=True)
        return BatchStepReply.from_proto(response, self._batched)

    async def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """EnvPool's send: start stepping env_ids; collect the results with `recv`."""
        await self._call("send_request", wire.send_request(actions, env_ids))

    async def recv(self, num_envs: int = 0) -> BatchStepReply:
        """EnvPool's recv: the first num_envs sub-envs to finish (0: all in flight)."""
        response = await self._call("recv_request", pb.RecvRequest(num_envs=num_envs))
        self.step_index = response.step_index
        return BatchStepReply.from_proto(response, self._batched)

    async def render(self, frame_encoding: str = "raw", jpeg_quality: int = 0) -> Any:
        """The session's current frame (see AsyncEnvClient.render)."""
        request = frames.render_request("", frame_encoding, jpeg_quality)
        return frames.decode_frame((await self._call("render_request", request)).frame)

    async def list_tools(self) -> list[ToolSpec]:
        """The MCP tools of the stream's session's env."""
        response = await self._call("list_tools_request", tools_pb2.ListToolsRequest())
        return [tool_spec(tool) for tool in response.tools]

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None) -> ToolResult:
        """Run one tool on the stream's session, in order with its steps (see
        AsyncEnvClient.call_tool)."""
        response = await self._call("call_tool_request", tool_request(name, arguments))
        return tool_result(response)

    async def close(self) -> None:
        """End the stream; the server closes a session the stream created."""
        if self._closed:
            return
        self._closed = True
        async with self._turn:
            call, self._call_obj = self._call_obj, None
            if call is None:
                return
            try:
                await call.done_writing()
                while await call.read() is not EOF:
                    pass
            except grpc.RpcError:
                pass

    def _reopen_if_lost(self) -> None:
        if self._lost is not None and not self._closed:
            self._lost, self.session_id, self.num_envs, self.step_index = None, "", 0, 0
            self._pinned = None  # the new stream goes where the next new session would

    async def _call(self, kind: str, message: Any, *, next_step: bool = False) -> Any:
        """Send one request and read its answer; raise its in-band error, or the error
        that ended the stream (once: the stream is lost from then on). A step
        (`next_step`) is numbered the next step index in turn, as its answer says."""
        async with self._turn:
            if next_step:
                message.step_index = self.step_index + 1
                answer = await self._call_in_turn(kind, message)
                self.step_index = answer.step_index
                return answer
            return await self._call_in_turn(kind, message)

    async def _call_in_turn(self, kind: str, message: Any) -> Any:
        if self._closed:
            raise Unavailable("this stream is closed; open a new one with client.stream()")
        if self._lost is not None:
            raise Unavailable(
                f"this stream's session is gone: the stream closed with {self._lost.message!r}"
                "; reset() opens a new stream and session"
            )
        if self._call_obj is None:
            return await self._open(kind, message)
        return await self._exchange(kind, message)

    async def _open(self, kind: str, message: Any) -> Any:
        """The first request on a new stream. With one server it waits for the server to
        be reachable, for `timeout` seconds at most; with several it goes to the next in
        turn, and on to the next while one is unreachable, draining or full (or, for an
        attach, does not know the session)."""
        attaching = kind == "attach_request"
        if self._pinned is not None:
            tried = [self._pinned]
        elif attaching:
            tried = await self._endpoints.for_session(message.session_id)
        else:
            tried = await self._endpoints.candidates()
        wait = len(tried) == 1
        endpoint, answer = await in_turn(
            tried,
            lambda endpoint: self._open_on(endpoint, kind, message, wait=wait),
            creating=not attaching,
        )
        self.endpoint = endpoint.address
        made = getattr(answer, "session_id", "") or getattr(message, "session_id", "")
        self._endpoints.own(made, endpoint)
        return answer

    async def _open_on(self, endpoint: Endpoint, kind: str, message: Any, *, wait: bool) -> Any:
        # A refusal on the endpoint tried before may have left its stream open, or lost:
        # this attempt starts afresh.
        self._give_up_call()
        self._lost = None
        call = self._call_obj = endpoint.stub.StepStream(
            metadata=wire.metadata(token=self._token), wait_for_ready=wait
        )
        # A timer ends the call when its first answer is late (not asyncio.timeout: the
        # blocking face runs a call's coroutine without a task).
        late: list[bool] = []

        def expire() -> None:
            late.append(True)
            call.cancel()

        timer = (
            None
            if self._timeout is None
            else asyncio.get_running_loop().call_later(self._timeout, expire)
        )
        try:
            return await self._exchange(kind, message)
        except asyncio.CancelledError:
            if not late:
                raise
            error = DeadlineExceeded(
                f"the server did not answer the stream's first request within {self._timeout} "
                "s; check that it runs and is reachable"
            )
            raise self._lose(error) from None
        finally:
            if timer is not None:
                timer.cancel()

    async def _exchange(self, kind: str, message: Any) -> Any:
        call = self._call_obj
        self._seq += 1
        sent = False
        try:
            await call.write(wire.stream_request(self._seq, kind, message))
            sent = True
            response = await call.read()
        except (grpc.RpcError, asyncio.InvalidStateError) as exc:
            # A write to a stream that has ended fails without its status: read it.
            if sent and isinstance(exc, grpc.RpcError):
                raise self._lose(_error(exc)) from None
            raise self._lose(await _ended(call)) from None
        except asyncio.CancelledError:  # the answer would arrive for the next request
            self._lose(Unavailable("a call on this stream was cancelled before its answer"))
            raise
        if response is EOF:
            raise self._lose(await _ended(call))
        return wire.unwrap_stream_response(response, self._seq, kind)

    def _give_up_call(self) -> None:
        call, self._call_obj = self._call_obj, None
        if call is not None:
            call.cancel()

    def _lose(self, error: EnvError) -> EnvError:
        """Mark the stream lost by `error` (ending the call) and return the error to raise."""
        self._give_up_call()
        self._lost, self.session_id = error, ""
        error.add_note(LOST_NOTE)
        return error

    async def __aenter__(self) -> AsyncStreamSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class EnvClient(Facade[AsyncEnvClient]):
    """A blocking client of one EnvService server: AsyncEnvClient's calls, run to their
    end in the calling thread (see `blocking.py`; safe to share between threads).
    Takes the `ClientOptions` keywords."""

    def __init__(self, address: str | Sequence[str], **options: Unpack[ClientOptions]) -> None:
        loop = client_loop()
        super().__init__(loop.make(lambda: AsyncEnvClient(address, **options)), loop)

    @property
    def address(self) -> str:
        """The target: the server's address (a list's, joined by commas)."""
        return self._core.address

    @property
    def token(self) -> str:
        """The bearer token sent with every call ("" for none)."""
        return self._core.token

    @property
    def timeout(self) -> float | None:
        """The deadline of every unary call, in seconds (None: none); may be changed."""
        return self._core.timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        self._core.timeout = seconds

    @property
    def deadline_retries(self) -> int:
        """How often an idempotent call whose deadline passed is sent again; may be changed."""
        return self._core.deadline_retries

    @deadline_retries.setter
    def deadline_retries(self, retries: int) -> None:
        self._core.deadline_retries = retries

    @property
    def spec(self) -> EnvSpec:
        """The env spec, fetched by Describe on first use and kept."""
        return self._core._spec or self._loop.run(self._core.describe())

    describe = blocking(AsyncEnvClient.describe)
    reset = blocking(AsyncEnvClient.reset)
    step = blocking(AsyncEnvClient.step)
    reset_batch = blocking(AsyncEnvClient.reset_batch)
    step_batch = blocking(AsyncEnvClient.step_batch)
    state = blocking(AsyncEnvClient.state)
    close_session = blocking(AsyncEnvClient.close_session)
    list_tasks = blocking(AsyncEnvClient.list_tasks)
    list_tools = blocking(AsyncEnvClient.list_tools)
    call_tool = blocking(AsyncEnvClient.call_tool)
    render = blocking(AsyncEnvClient.render)
    watch = blocking_iter(AsyncEnvClient.watch)
    load = blocking(AsyncEnvClient.load)
    loads = blocking(AsyncEnvClient.loads)
    endpoint_addresses = blocking(AsyncEnvClient.endpoint_addresses)
    close = blocking(AsyncEnvClient.close)

    def stream(self, render_mode: str = "", *, endpoint: str = "") -> StreamSession:
        """A new session on its own bidirectional stream (see AsyncEnvClient.stream)."""
        core = self._loop.run(self._core.stream(render_mode, endpoint=endpoint))
        return StreamSession(core, self._loop)

    def __enter__(self) -> EnvClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class StreamSession(Facade[AsyncStreamSession]):
    """One session on one StepStream, driven by blocking calls: AsyncStreamSession's
    calls, run to their end in the calling thread."""

    def __init__(self, core: AsyncStreamSession, loop: ClientLoop | None = None) -> None:
        super().__init__(core, loop or client_loop())

    @property
    def session_id(self) -> str:
        """The stream's session ("" before the first reset or attach, and once lost)."""
        return self._core.session_id

    @property
    def lost(self) -> bool:
        """Whether the stream ended under a call (the next reset opens a new one)."""
        return self._core.lost

    reset = blocking(AsyncStreamSession.reset)
    step = blocking(AsyncStreamSession.step)
    state = blocking(AsyncStreamSession.state)
    attach = blocking(AsyncStreamSession.attach)
    reset_batch = blocking(AsyncStreamSession.reset_batch)
    step_batch = blocking(AsyncStreamSession.step_batch)
    send = blocking(AsyncStreamSession.send)
    recv = blocking(AsyncStreamSession.recv)
    render = blocking(AsyncStreamSession.render)
    list_tools = blocking(AsyncStreamSession.list_tools)
    call_tool = blocking(AsyncStreamSession.call_tool)
    close = blocking(AsyncStreamSession.close)

    def __enter__(self) -> StreamSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
