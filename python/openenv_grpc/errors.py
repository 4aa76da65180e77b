"""The project's error types and the gRPC status code of each: one table.

The server raises these from anywhere (sessions, codec, servicer) and the
servicer turns them into a status with the exception's message; the clients
turn a status back into the matching family class, so a trainer can write
`except NotFound:` whether the server or a stream reported it. Messages say
what to do next, because they are what a user sees.
"""

from __future__ import annotations

from grpc import StatusCode


class EnvError(Exception):
    """Base of every error with a gRPC status; `code` is that status."""

    code: StatusCode = StatusCode.UNKNOWN

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArgument(EnvError):
    """The request itself is wrong: a malformed value, an action outside the space."""

    code = StatusCode.INVALID_ARGUMENT


class NotFound(EnvError):
    """The named thing does not exist (a session that was never made, closed or reaped)."""

    code = StatusCode.NOT_FOUND


class FailedPrecondition(EnvError):
    """The request is valid but the session is not in a state to take it."""

    code = StatusCode.FAILED_PRECONDITION


class ResourceExhausted(EnvError):
    """A server limit was reached (sessions, message size)."""

    code = StatusCode.RESOURCE_EXHAUSTED


class Unavailable(EnvError):
    """The server cannot take the request now (shutting down, unreachable)."""

    code = StatusCode.UNAVAILABLE


class DeadlineExceeded(EnvError):
    """The caller's deadline passed before the answer came."""

    code = StatusCode.DEADLINE_EXCEEDED


class Cancelled(EnvError):
    """The call was cancelled."""

    code = StatusCode.CANCELLED


class Unauthenticated(EnvError):
    """The caller did not prove who it is."""

    code = StatusCode.UNAUTHENTICATED


class Unimplemented(EnvError):
    """The server does not support the request (a newer protocol feature)."""

    code = StatusCode.UNIMPLEMENTED


class Internal(EnvError):
    """Something broke on the server side, most often in the environment's own code."""

    code = StatusCode.INTERNAL


# Specific server-side conditions: each is one family above.


class SessionNotFound(NotFound):
    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id!r} does not exist on this server (never created, closed, "
            "or reaped after being idle longer than the session TTL); call Reset without a "
            "session id to start a new one"
        )


class SessionBusy(FailedPrecondition):
    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id!r} is still running another call; a session takes one "
            "call at a time, so wait for the previous answer before sending the next"
        )


class EpisodeEnded(FailedPrecondition):
    def __init__(self, session_id: str, why: str) -> None:
        super().__init__(f"the episode of session {session_id!r} {why}; call Reset first")


class SessionLimitReached(ResourceExhausted):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the server already holds its maximum of {limit} sessions; close sessions you "
            "no longer need, retry later, or connect to another server"
        )


class EnvCodeError(Internal):
    """An exception raised by the environment's own code."""

    def __init__(self, where: str, exc: BaseException) -> None:
        super().__init__(f"the environment raised {type(exc).__name__} in {where}: {exc}")


_FAMILIES: dict[StatusCode, type[EnvError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        FailedPrecondition,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Cancelled,
        Unauthenticated,
        Unimplemented,
        Internal,
    )
}
_BY_NUMBER: dict[int, StatusCode] = {code.value[0]: code for code in StatusCode}


def status_number(code: StatusCode) -> int:
    """The wire number of a status code (as carried in a stream's error Status)."""
    number: int = code.value[0]
    return number


def from_status(code: StatusCode | int, message: str) -> EnvError:
    """The family error for a status received from a server (by code or its number)."""
    if isinstance(code, int):
        code = _BY_NUMBER.get(code, StatusCode.UNKNOWN)
    error = _FAMILIES.get(code, EnvError)(message)
    if type(error) is EnvError:
        error.code = code
    return error
