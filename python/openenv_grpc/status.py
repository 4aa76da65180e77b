"""Errors to and from `google.rpc.Status`: the one wire form of the error model.

A server puts the Status in the `grpc-status-details-bin` trailer of a
failed unary call and in `StepStreamResponse.error` on a stream; a client
reads either back into the same `EnvError`. Protobuf only, no grpc: the
transports (`server/`, `client/`) only move the bytes.
"""

from __future__ import annotations

from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from .errors import DOMAIN, EnvError, Reason, from_status

DETAILS_KEY = "grpc-status-details-bin"  # the trailer that carries a serialized Status

_ERROR_INFO = error_details_pb2.ErrorInfo.DESCRIPTOR.full_name
_RETRY_INFO = error_details_pb2.RetryInfo.DESCRIPTOR.full_name


def to_proto(error: EnvError, out: status_pb2.Status | None = None) -> status_pb2.Status:
    """The Status of an error: code, message, ErrorInfo and, where it helps, RetryInfo.

    An error without a reason of its own (an env refusing a request with a
    family error) is reported as ENV_REJECTED.
    """
    status = out if out is not None else status_pb2.Status()
    status.code = int(error.code)
    status.message = error.message
    info = error_details_pb2.ErrorInfo(
        reason=error.reason or Reason.ENV_REJECTED, domain=DOMAIN, metadata=error.metadata
    )
    status.details.add().Pack(info)
    if error.retry_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_delay * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def from_proto(status: status_pb2.Status) -> EnvError:
    """The EnvError a Status stands for, with the reason, metadata and retry delay it carries."""
    reason, metadata, retry_delay = "", {}, None
    for detail in status.details:
        name = detail.TypeName()
        if name == _ERROR_INFO:
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif name == _RETRY_INFO:
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToNanoseconds() / 1e9
    return from_status(
        status.code, status.message, reason=reason, metadata=metadata, retry_delay=retry_delay
    )


def from_details(code: int, message: str, details: bytes | None) -> EnvError:
    """The EnvError of a failed call: from its serialized Status when it has one."""
    if details:
        status = status_pb2.Status()
        try:
            status.ParseFromString(details)
        except Exception:  # a peer that sent garbage: fall back to the code alone
            return from_status(code, message)
        if status.code == code:
            return from_proto(status)
    return from_status(code, message)
