"""Bounds on what one request may cost the server, checked before decoding.

A decoded value costs many times its wire size (a 13 MiB options map once
took 210 MB), so the parts of a request that become Python objects in env
code are measured as bytes first.
"""

from __future__ import annotations

from google.protobuf.message import Message

from ..errors import RequestTooLarge


def check_size(field: str, message: Message, limit: int) -> None:
    """REQUEST_TOO_LARGE when `message` (a part of a request) is over `limit` bytes (0: none)."""
    if limit and (size := message.ByteSize()) > limit:
        raise RequestTooLarge(field, size, limit)
