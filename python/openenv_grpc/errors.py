"""The project's errors: a status code, a stable reason, metadata, and what to do.

The contract's error model (AIP-193, `proto/openenv/v1/errors.proto`): every
failure a client can cause has a gRPC status code (the `google.rpc.Code`
numbers, held here in `Code` so this module needs no grpc), a stable
`reason` from the contract's ErrorReason list, `metadata` with the facts a
program needs (a session id, a limit, the server's step count), and a
message for people that says what to do next. The server raises these from
anywhere; `server/` turns them into a gRPC status with a google.rpc.Status
detail (in-band on streams), and `client/` turns both back into the same
classes, so a trainer can write `except NotFound:` or match `err.reason`
whichever path the error came by.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

DOMAIN = "openenv.v1"  # google.rpc.ErrorInfo.domain of every reason below
_ECHO_LIMIT = 128  # at most this many characters of client input go back in an error


class Code(enum.IntEnum):
    """gRPC status codes by their `google.rpc.Code` numbers."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class Reason(enum.StrEnum):
    """The contract's ErrorReason values, as ErrorInfo.reason spells them."""

    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    SESSION_BUSY = "SESSION_BUSY"
    EPISODE_ENDED = "EPISODE_ENDED"
    STEP_OUT_OF_ORDER = "STEP_OUT_OF_ORDER"
    ACTION_OUT_OF_SPACE = "ACTION_OUT_OF_SPACE"
    INVALID_VALUE = "INVALID_VALUE"
    INVALID_REQUEST = "INVALID_REQUEST"
    SESSION_LIMIT = "SESSION_LIMIT"
    ENV_LIMIT = "ENV_LIMIT"
    DRAINING = "DRAINING"
    ENV_ERROR = "ENV_ERROR"
    ENV_REJECTED = "ENV_REJECTED"
    WRONG_SESSION_KIND = "WRONG_SESSION_KIND"
    SUB_ENVS_IN_FLIGHT = "SUB_ENVS_IN_FLIGHT"
    STREAM_NOT_BOUND = "STREAM_NOT_BOUND"
    STREAM_ALREADY_BOUND = "STREAM_ALREADY_BOUND"
    PROTOCOL_MISMATCH = "PROTOCOL_MISMATCH"
    ENV_TIMEOUT = "ENV_TIMEOUT"
    CAPACITY_EXHAUSTED = "CAPACITY_EXHAUSTED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TOOL_NOT_FOUND = "TOOL_NOT_FOUND"
    INVALID_TOOL_ARGUMENTS = "INVALID_TOOL_ARGUMENTS"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    REWARD_ERROR = "REWARD_ERROR"


def echo(text: object) -> str:
    """Client input as it may appear in a message, metadata or a log line: control
    characters escaped (no forged log lines), cut to a bounded length."""
    text = str(text)[: _ECHO_LIMIT * 2]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 3] + "..."


class EnvError(Exception):
    """Base of every error with a status: `code`, `reason`, `metadata`, `retry_delay`.

    `reason` is "" when the error carries none (an env's own refusal; a
    status from a server that sent no ErrorInfo). `retry_delay` is the
    seconds a server asked the caller to wait before retrying, or None.
    """

    code: Code = Code.UNKNOWN
    reason: str = ""

    def __init__(
        self,
        message: str = "",
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_delay: float | None = None,
    ) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = str(reason)
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_delay = retry_delay

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArgument(EnvError):
    """The request itself is wrong: a malformed value, an action outside the space."""

    code = Code.INVALID_ARGUMENT


class NotFound(EnvError):
    """The named thing does not exist (a session never made, closed, or reaped)."""

    code = Code.NOT_FOUND


class FailedPrecondition(EnvError):
    """The request is valid but the session is not in a state to take it."""

    code = Code.FAILED_PRECONDITION


class Aborted(EnvError):
    """A sequencing check failed (a step index that is not the next one)."""

    code = Code.ABORTED


class ResourceExhausted(EnvError):
    """A server limit was reached (sessions, sub-environments, message size)."""

    code = Code.RESOURCE_EXHAUSTED


class Unavailable(EnvError):
    """The server cannot take the request now (draining, shutting down, unreachable)."""

    code = Code.UNAVAILABLE


class DeadlineExceeded(EnvError):
    """The caller's deadline passed before the answer came."""

    code = Code.DEADLINE_EXCEEDED


class Cancelled(EnvError):
    """The call was cancelled."""

    code = Code.CANCELLED


class Unauthenticated(EnvError):
    """The caller did not prove who it is."""

    code = Code.UNAUTHENTICATED


class PermissionDenied(EnvError):
    """The caller is known but may not do this."""

    code = Code.PERMISSION_DENIED


class NotAuthenticated(Unauthenticated):
    reason = Reason.UNAUTHENTICATED

    def __init__(self, why: str) -> None:
        super().__init__(
            f"{why}; send `authorization: Bearer TOKEN` with a token this server knows (ask "
            "its operator for one)"
        )


class Unimplemented(EnvError):
    """The server does not support the request (a newer protocol feature)."""

    code = Code.UNIMPLEMENTED


class Internal(EnvError):
    """Something broke on the server side, most often in the environment's own code."""

    code = Code.INTERNAL


# The specific conditions of the contract: each one family above, one reason.


class SessionNotFound(NotFound):
    reason = Reason.SESSION_NOT_FOUND

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {echo(session_id)!r} does not exist on this server (never created, or "
            "closed); start a new session (Reset with new_session)",
            metadata={"session_id": echo(session_id)},
        )


class SessionExpired(NotFound):
    reason = Reason.SESSION_EXPIRED

    def __init__(self, session_id: str, ttl_seconds: float) -> None:
        super().__init__(
            f"session {echo(session_id)!r} was closed after being idle for longer than the "
            f"session TTL of {ttl_seconds:g}s; start a new session, and call more often than "
            "the TTL",
            metadata={"session_id": echo(session_id), "ttl_seconds": f"{ttl_seconds:g}"},
        )


class SessionBusy(FailedPrecondition):
    reason = Reason.SESSION_BUSY

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id!r} is still running another call; a session takes one "
            "call at a time, so wait for the previous answer before sending the next",
            metadata={"session_id": session_id},
        )


class EpisodeEnded(FailedPrecondition):
    reason = Reason.EPISODE_ENDED

    def __init__(self, session_id: str, why: str) -> None:
        super().__init__(
            f"the episode of session {session_id!r} {why}; call Reset first",
            metadata={"session_id": session_id, "why": why},
        )


class StepOutOfOrder(Aborted):
    reason = Reason.STEP_OUT_OF_ORDER

    def __init__(self, step_index: int, step_count: int) -> None:
        super().__init__(
            f"step_index {step_index} is out of order: the episode has {step_count} steps "
            f"applied, so the next step is {step_count + 1} (a repeat of {step_count} is "
            "answered again); read State and continue from the server's count",
            metadata={"step_index": str(step_index), "step_count": str(step_count)},
        )


class ActionOutOfSpace(InvalidArgument):
    reason = Reason.ACTION_OUT_OF_SPACE

    def __init__(self, message: str, space: object) -> None:
        super().__init__(message, metadata={"space": echo(space)})


class InvalidValue(InvalidArgument):
    """A malformed Value or Tensor (sizes, dtypes, kinds, repeated keys)."""

    reason = Reason.INVALID_VALUE


class InvalidRequest(InvalidArgument):
    """A malformed request: a missing field, bad env ids, an unknown enum value."""

    reason = Reason.INVALID_REQUEST

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message, metadata={"field": field} if field else None)


class SessionLimitReached(ResourceExhausted):
    reason = Reason.SESSION_LIMIT

    def __init__(self, limit: int, scope: str = "server") -> None:
        holder = "the server already holds" if scope == "server" else "you already hold"
        super().__init__(
            f"{holder} the maximum of {limit} sessions; close sessions you no longer need, "
            "retry later, or connect to another server",
            metadata={"limit": str(limit), **({"scope": scope} if scope != "server" else {})},
            retry_delay=1.0,
        )


class EnvLimitReached(ResourceExhausted):
    reason = Reason.ENV_LIMIT

    def __init__(
        self, limit: int, requested: int, in_use: int | None = None, scope: str = "server"
    ) -> None:
        if in_use is not None:
            whose = "your batched sessions" if scope == "principal" else "all batched sessions"
            what = (
                f"{whose} together hold at most {limit} sub-environments on this server and "
                f"{in_use} are in use"
            )
        elif limit == 0:
            what = "batched sessions are turned off on this server"
        else:
            what = f"a batched session holds at most {limit} sub-environments on this server"
        super().__init__(
            f"{requested} sub-environments asked for, but {what}; ask for fewer, or use "
            "single-env sessions",
            metadata={
                "limit": str(limit),
                "requested": str(requested),
                **({"scope": scope} if scope != "server" else {}),
            },
        )


class Draining(Unavailable):
    reason = Reason.DRAINING

    def __init__(
        self, what: str = "is draining before it shuts down and takes no new sessions"
    ) -> None:
        super().__init__(f"the server {what}; connect to another server", retry_delay=1.0)


class EnvCodeError(Internal):
    """An exception raised by the environment's own code, or a result it cannot send."""

    reason = Reason.ENV_ERROR

    def __init__(self, where: str, exc: BaseException | str) -> None:
        if isinstance(exc, BaseException):
            what, kind = f"raised {type(exc).__name__} in {where}: {exc}", type(exc).__name__
        else:
            what, kind = f"failed in {where}: {exc}", ""
        super().__init__(
            f"the environment {what}",
            metadata={"where": where, **({"exception": kind} if kind else {})},
        )


class WrongSessionKind(FailedPrecondition):
    reason = Reason.WRONG_SESSION_KIND

    def __init__(self, session_id: str, num_envs: int, wanted: str) -> None:
        kind = f"a batched session of {num_envs} sub-envs" if num_envs else "a single-env session"
        super().__init__(
            f"session {session_id!r} is {kind}; {wanted}",
            metadata={"session_id": session_id, "num_envs": str(num_envs)},
        )


class SubEnvsInFlight(FailedPrecondition):
    reason = Reason.SUB_ENVS_IN_FLIGHT

    def __init__(self, message: str, in_flight: int) -> None:
        super().__init__(message, metadata={"in_flight": str(in_flight)})


class StreamNotBound(FailedPrecondition):
    reason = Reason.STREAM_NOT_BOUND

    def __init__(self) -> None:
        super().__init__(
            "this stream has no session yet; send a reset with new_session, or attach first"
        )


class StreamAlreadyBound(FailedPrecondition):
    reason = Reason.STREAM_ALREADY_BOUND

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"this stream is already bound to session {session_id!r}; a stream creates or "
            "attaches a session only as its first request, so open a new stream",
            metadata={"session_id": session_id},
        )


class ProtocolMismatch(FailedPrecondition):
    reason = Reason.PROTOCOL_MISMATCH


class EnvTimeout(DeadlineExceeded):
    """An env call ran past the server's timeout; its session is closed, its env abandoned."""

    reason = Reason.ENV_TIMEOUT

    def __init__(self, where: str, timeout: float) -> None:
        super().__init__(
            f"the environment's {where} did not return within the server's {timeout:g}s "
            "timeout; the session is closed and its env abandoned: start a new session (and "
            "tell the env's author which call hangs)",
            metadata={"where": where, "timeout_seconds": f"{timeout:g}"},
        )


class CapacityExhausted(ResourceExhausted):
    reason = Reason.CAPACITY_EXHAUSTED

    def __init__(self, stuck: int) -> None:
        super().__init__(
            f"{stuck} env calls are stuck on this server, its limit; it takes no new sessions "
            "until they return: retry later or connect to another server",
            metadata={"stuck": str(stuck)},
            retry_delay=5.0,
        )


class RequestTooLarge(ResourceExhausted):
    reason = Reason.REQUEST_TOO_LARGE

    def __init__(self, field: str, size: int, limit: int) -> None:
        super().__init__(
            f"{field} is {size} bytes, over this server's limit of {limit}; send less",
            metadata={"field": field, "size": str(size), "limit": str(limit)},
        )


class ToolNotFound(InvalidArgument):
    reason = Reason.TOOL_NOT_FOUND

    def __init__(self, name: str, known: list[str]) -> None:
        offer = ", ".join(known[:32]) if known else "none"
        super().__init__(
            f"the env has no tool named {echo(name)!r}; its tools are: {offer} (ListTools "
            "describes them)",
            metadata={"tool": echo(name)},
        )


class InvalidToolArguments(InvalidArgument):
    """`problems` names each field at fault (echoed) with what is wrong, never its value."""

    reason = Reason.INVALID_TOOL_ARGUMENTS

    def __init__(self, name: str, problems: str, fields: list[str]) -> None:
        super().__init__(
            f"the arguments of tool {echo(name)!r} do not match its input schema: "
            f"{problems}; send arguments as ListTools describes them",
            metadata={"tool": echo(name), "fields": echo(",".join(fields))},
        )


class TaskNotFound(NotFound):
    """A task selector names a taskset, split, task or index the env does not have."""

    reason = Reason.TASK_NOT_FOUND

    def __init__(self, what: str, **facts: str) -> None:
        shown = {key: echo(value) for key, value in facts.items()}
        super().__init__(
            f"{what}; Describe lists the tasksets and their splits, ListTasks their tasks",
            metadata=shown,
        )


class RewardError(Internal):
    """The reward hook failed; the env applied the step, which a repeat of its index
    scores again."""

    reason = Reason.REWARD_ERROR

    def __init__(self, hook: str, why: str, detail: str) -> None:
        super().__init__(
            f"the reward hook {echo(hook)} {detail}; the env applied the step: repeat its "
            "step_index to have it scored again (and tell the server's operator)",
            metadata={"hook": echo(hook), "why": why},
        )


_FAMILIES: dict[Code, type[EnvError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        FailedPrecondition,
        Aborted,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Cancelled,
        Unauthenticated,
        PermissionDenied,
        Unimplemented,
        Internal,
    )
}


def from_status(
    code: int,
    message: str,
    *,
    reason: str = "",
    metadata: Mapping[str, str] | None = None,
    retry_delay: float | None = None,
) -> EnvError:
    """The family error for a status received from a server, reason and metadata kept."""
    try:
        known = Code(code)
    except ValueError:
        known = Code.UNKNOWN
    error = _FAMILIES.get(known, EnvError)(
        message, reason=reason, metadata=metadata, retry_delay=retry_delay
    )
    if type(error) is EnvError:
        error.code = known
    return error
