"""What a client sees of an error in env code, and the log line that keeps the rest.

Every env error gets an id, sent to the client in its ErrorInfo metadata
(`error_id`) and logged here with its traceback, so an operator can find the
one a user reports. With `hide` (`--hide-env-errors`) the client gets only
the exception's type and the id: exception text can carry paths, secrets or
other sessions' data that a shared server should not hand out.
"""

from __future__ import annotations

import logging
import uuid

from ..errors import EnvCodeError, EnvError, Internal, Reason

log = logging.getLogger("openenv_grpc.env")


class EnvErrors:
    """Decides what of an env error reaches the client; logs each one once with an id."""

    def __init__(self, hide: bool = False) -> None:
        self.hide = hide

    def shown(self, error: EnvError) -> EnvError:
        """The error as the client gets it (errors of other kinds pass unchanged)."""
        if not isinstance(error, EnvCodeError) or "error_id" in error.metadata:
            return error
        error_id = uuid.uuid4().hex[:16]
        cause = error.__cause__
        log.warning(
            "env error %s: %s",
            error_id,
            error.message,
            exc_info=(type(cause), cause, cause.__traceback__) if cause is not None else None,
            extra={"event": "env_error", "error_id": error_id},
        )
        metadata = {**error.metadata, "error_id": error_id}
        if not self.hide:
            error.metadata = metadata
            return error
        kind = metadata.get("exception", "an error")
        return Internal(
            f"the environment failed in {metadata.get('where', 'a call')} with {kind}; the "
            f"server's log has the details under error id {error_id}",
            reason=Reason.ENV_ERROR,
            metadata=metadata,
        )
