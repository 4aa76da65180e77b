"""What the sync and async clients share: channel options, headers, request builders.

The retry policy goes through gRPC's service config and applies on
UNAVAILABLE to every call that is safe to repeat: Describe and State, and
the resets and steps, which are idempotent because the clients always send a
request id (creation, reset) and a step index (step): the server answers a
repeat with the first answer and never applies it twice.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import tasks_pb2

from .. import status
from ..codec import encode_map, encode_value
from ..errors import Internal
from ..modes import AUTORESET_TO_PROTO
from ..tasks import TaskSelector
from ..vector import AutoresetMode, SubEnvStart
from ..version import PROTOCOL_HEADER, PROTOCOL_VERSION, SESSION_HEADER

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EnvService"].full_name
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [
                    {"service": SERVICE_NAME, "method": method}
                    for method in (
                        *("Describe", "State", "Reset", "Step", "ResetBatch", "StepBatch"),
                        *("ListTasks", "ListTools"),
                    )
                ],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def channel_options(
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, keepalive_seconds: float = 30.0
) -> list[tuple[str, Any]]:
    """Options for a client channel: message sizes, keepalive, retries."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", int(keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # A server that comes back (a restarted pod) is reconnected to within 5 s, not
        # after gRPC's default backoff of up to 120 s.
        ("grpc.max_reconnect_backoff_ms", 5_000),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _SERVICE_CONFIG),
    ]


TOKEN_VARIABLE = "OPENENV_GRPC_TOKEN"


def token_or_environment(token: str | None) -> str:
    """The caller's bearer token: the one given, else $OPENENV_GRPC_TOKEN, else none."""
    return token if token is not None else os.environ.get(TOKEN_VARIABLE, "")


def metadata(session_id: str = "", token: str = "") -> tuple[tuple[str, str], ...]:
    """Request headers: the protocol version, the bearer token, the session id for L7
    routing, and the caller's W3C trace context (so a trainer's span is the parent of the
    server's)."""
    headers = [(PROTOCOL_HEADER, PROTOCOL_VERSION)]
    if token:
        headers.append(("authorization", f"Bearer {token}"))
    if session_id:
        headers.append((SESSION_HEADER, session_id))
    if _tracing():
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        headers.extend(carrier.items())
    return tuple(headers)


def _tracing() -> bool:
    """Whether the caller is inside a span (else there is no context to propagate)."""
    return trace.get_current_span().get_span_context().is_valid


def stream_request(seq: int, kind: str, message: Any) -> pb.StepStreamRequest:
    """One StepStream request, carrying the caller's current trace context."""
    request = pb.StepStreamRequest(seq=seq, **{kind: message})
    if _tracing():
        propagate.inject(request.trace_context)
    return request


def new_request_id() -> str:
    """A fresh request id (AIP-155): a random UUID."""
    return str(uuid.uuid4())


TaskChoice = TaskSelector | str | Mapping[str, Any]
"""Which task a reset starts: a TaskSelector, a task id, or a dict of TaskSelector's
fields ({"split": "test", "index": 2})."""


def task_selector(task: TaskChoice, out: tasks_pb2.TaskSelector) -> None:
    """Write a reset's task choice into the contract's TaskSelector (at most one of
    task_id, index and seed)."""
    if isinstance(task, str):
        task = TaskSelector(task_id=task)
    elif not isinstance(task, TaskSelector):
        unknown = set(task) - {"taskset", "split", "task_id", "index", "seed"}
        if unknown:
            raise ValueError(
                f"a task selector has no {sorted(unknown)}; use taskset, split and one of "
                "task_id, index, seed"
            )
        task = TaskSelector(**task)
    chosen = [bool(task.task_id), task.index is not None, task.seed is not None]
    if sum(chosen) > 1:
        raise ValueError("a task selector takes one of task_id, index and seed, not several")
    out.taskset, out.split = task.taskset, task.split
    if task.task_id:
        out.task_id = task.task_id
    elif task.index is not None:
        out.index = task.index
    elif task.seed is not None:
        out.seed = task.seed
    else:
        out.SetInParent()  # the split's next task: the selector is set, its choice is not


def reset_request(
    *,
    session_id: str = "",
    new: bool = False,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    task_id: str = "",
    task: TaskChoice | None = None,
    request_id: str = "",
    render_mode: str = "",
) -> pb.ResetRequest:
    """A reset: of a new session (`new`, its env made in `render_mode`), of `session_id`,
    or (neither) of a stream's own; named by `request_id` (default: a fresh one) so that a
    retry is answered, not redone. `task` chooses its task (or `task_id`, not both)."""
    rid = request_id or new_request_id()
    request = pb.ResetRequest(task_id=task_id)
    if task is not None:
        task_selector(task, request.task)
    if new:
        request.new_session.request_id = rid
        request.new_session.render_mode = render_mode
    else:
        request.request_id = rid
        if session_id:
            request.session_id = session_id
    if seed is not None:
        request.seed = seed
    if options:
        encode_map(options, out=request.options)
    return request


def reset_batch_request(
    *,
    session_id: str = "",
    num_envs: int = 0,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    task_id: str = "",
    task: TaskChoice | None = None,
    env_ids: Sequence[int] = (),
    starts: Sequence[SubEnvStart] = (),
    tasks: Sequence[TaskChoice | None] = (),
) -> pb.ResetBatchRequest:
    """A batched reset: a new session of num_envs sub-envs (num_envs > 0), or the sub-envs
    env_ids (all when empty) of `session_id` (or of a stream's own session). `task` is
    every sub-env's task (sub-env i at index + i or seed + i), `tasks` one per entry of
    `starts` (or per sub-env reset, with the shared seed and options)."""
    rid = new_request_id()
    request = pb.ResetBatchRequest(env_ids=[int(i) for i in env_ids])
    if num_envs:
        new = request.new_session
        new.request_id, new.num_envs = rid, num_envs
        new.autoreset_mode = AUTORESET_TO_PROTO[autoreset_mode]
        new.info_layout = pb.INFO_LAYOUT_VECTOR  # infos as Gymnasium's vector envs give them
    else:
        request.request_id = rid
        if session_id:
            request.session_id = session_id
    if tasks and not starts:
        starts = SubEnvStart.same_for(range(len(tasks)), seed, options=options, task_id=task_id)
    if tasks and len(tasks) != len(starts):
        raise ValueError(f"{len(tasks)} tasks for {len(starts)} sub-env starts; give one each")
    if starts:
        for start, chosen in zip(starts, tasks or [None] * len(starts), strict=True):
            out = request.sub_envs.add()
            _sub_env_reset(start.seed, start.options, start.task_id, out)
            if chosen is not None:
                task_selector(chosen, out.task)
    else:
        _sub_env_reset(seed, options, task_id, request.all)
        if task is not None:
            task_selector(task, request.all.task)
    return request


def _sub_env_reset(
    seed: int | None, options: Mapping[str, Any] | None, task_id: str, out: pb.SubEnvReset
) -> None:
    out.task_id = task_id
    if seed is not None:
        out.seed = seed
    if options:
        encode_map(options, out=out.options)


def step_request(action: Any, session_id: str = "", step_index: int = 0) -> pb.StepRequest:
    request = pb.StepRequest(session_id=session_id, step_index=step_index)
    encode_value(action, out=request.action)
    return request


def step_batch_request(
    actions: Any, session_id: str = "", env_ids: Sequence[int] = (), step_index: int = 0
) -> pb.StepBatchRequest:
    request = pb.StepBatchRequest(
        session_id=session_id, env_ids=[int(i) for i in env_ids], step_index=step_index
    )
    encode_value(actions, out=request.actions)
    return request


def send_request(actions: Any, env_ids: Sequence[int]) -> pb.SendRequest:
    request = pb.SendRequest(env_ids=[int(i) for i in env_ids])
    encode_value(actions, out=request.actions)
    return request


def unwrap_stream_response(response: pb.StepStreamResponse, seq: int, kind: str) -> Any:
    """The answer to a `kind` request (e.g. "step_request"), or its in-band error raised."""
    if response.seq != seq:
        raise Internal(f"the stream answered request {response.seq} where {seq} was due")
    which = response.WhichOneof("response")
    if which == "error":
        raise status.from_proto(response.error)
    expected = ANSWERS[kind]
    if which != expected:
        raise Internal(f"the stream answered a {kind} with {which}")
    return getattr(response, expected)


# The answer of each stream request kind.
ANSWERS = {
    "reset_request": "reset_response",
    "step_request": "step_response",
    "reset_batch_request": "reset_batch_response",
    "step_batch_request": "step_batch_response",
    "state_request": "state_response",
    "attach_request": "attach_response",
    "send_request": "send_response",
    "recv_request": "recv_response",
    "render_request": "render_response",
    "list_tools_request": "list_tools_response",
    "call_tool_request": "call_tool_response",
}
