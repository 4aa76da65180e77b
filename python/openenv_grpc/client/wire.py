"""What the sync and async clients share: channel options, headers, request builders.

The retry policy goes through gRPC's service config, so it applies only to
the calls that are safe to repeat (Describe, State) and only on UNAVAILABLE;
Reset and Step change the env and are never retried behind the caller's back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace

from openenv_proto.v1 import env_service_pb2 as pb

from ..codec import encode_map, encode_value
from ..errors import Internal, from_status
from ..vector import AUTORESET_TO_PROTO, AutoresetMode
from ..version import PROTOCOL_HEADER, PROTOCOL_VERSION, SESSION_HEADER

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EnvService"].full_name
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [
                    {"service": SERVICE_NAME, "method": "Describe"},
                    {"service": SERVICE_NAME, "method": "State"},
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
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _SERVICE_CONFIG),
    ]


def metadata(session_id: str = "") -> tuple[tuple[str, str], ...]:
    """Request headers: the protocol version, the session id for L7 routing, and the
    caller's W3C trace context (so a trainer's span is the parent of the server's)."""
    headers = [(PROTOCOL_HEADER, PROTOCOL_VERSION)]
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


def reset_request(
    *,
    session_id: str = "",
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    task_id: str = "",
    num_envs: int = 0,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    env_ids: Sequence[int] = (),
) -> pb.ResetRequest:
    request = pb.ResetRequest(
        session_id=session_id,
        task_id=task_id,
        num_envs=num_envs,
        autoreset_mode=AUTORESET_TO_PROTO[autoreset_mode]
        if num_envs
        else pb.AUTORESET_MODE_UNSPECIFIED,
        env_ids=[int(i) for i in env_ids],
    )
    if seed is not None:
        request.seed = seed
    if options:
        encode_map(options, out=request.options)
    return request


def step_request(action: Any, session_id: str = "", env_ids: Sequence[int] = ()) -> pb.StepRequest:
    request = pb.StepRequest(session_id=session_id, env_ids=[int(i) for i in env_ids])
    encode_value(action, out=request.action)
    return request


def unwrap_stream_response(response: pb.StepStreamResponse, seq: int, kind: str) -> Any:
    """The `kind` answer of a stream response, or its in-band error raised as an EnvError."""
    if response.seq != seq:
        raise Internal(f"the stream answered request {response.seq} where {seq} was due")
    which = response.WhichOneof("response")
    if which == "error":
        raise from_status(response.error.code, response.error.message)
    if which != kind:
        raise Internal(f"the stream answered a {kind} request with {which}")
    return getattr(response, kind)
