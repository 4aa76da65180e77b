"""Versions: of this package, and of the protocol it speaks.

PROTOCOL_VERSION is "MAJOR.MINOR". MINOR grows with additions that old
peers can ignore; MAJOR changes only with a new proto package (openenv.v2),
and peers of different MAJOR refuse each other (see `check_protocol`), as
Unity ML-Agents' handshake does.
"""

from __future__ import annotations

from .errors import FailedPrecondition

__version__ = "0.1.0"
PROTOCOL_VERSION = "1.0"
PROTOCOL_HEADER = "openenv-protocol-version"
SESSION_HEADER = "openenv-session-id"


def check_protocol(remote: str, *, who: str) -> None:
    """Refuse a peer whose protocol MAJOR differs from ours (FAILED_PRECONDITION)."""
    if remote.split(".", 1)[0] != PROTOCOL_VERSION.split(".", 1)[0]:
        raise FailedPrecondition(
            f"the {who} speaks openenv protocol {remote or '(unknown)'} but this side speaks "
            f"{PROTOCOL_VERSION}; upgrade the older side to the same major version"
        )
