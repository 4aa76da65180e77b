"""Who is calling: bearer tokens from a file, or the client certificate of mutual TLS.

`--tokens-file` holds one `PRINCIPAL TOKEN` pair per line (`#` starts a
comment), optionally followed by the role `admin`: an admin may also watch
other principals' sessions (WatchSession), nothing more. It is read again
when it changes, so tokens are added and revoked
without a restart. A call brings `authorization: Bearer TOKEN`; the token is
compared with every known one in constant time and never logged. Without a
tokens file but with client certificates required, the principal is the
certificate's subject common name. Without either, every caller is the same
anonymous principal "". The principal owns the sessions it creates.
"""

from __future__ import annotations

import hmac
import logging
import os
import pathlib
from typing import Any

from ..errors import NotAuthenticated

log = logging.getLogger("openenv_grpc.server")
ANONYMOUS = ""


class TokensFile:
    """Principals by token, from a file that is read again when it changes."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._tokens: list[tuple[bytes, str]] = []
        self._admins: frozenset[str] = frozenset()
        self._load()  # a missing or malformed file fails at start-up, loudly

    def principal(self, token: str) -> str | None:
        """The principal a token stands for, or None; every known token is compared."""
        self._refresh()
        given = token.encode()
        found = None
        for known, principal in self._tokens:
            if hmac.compare_digest(known, given) and found is None:
                found = principal
        return found

    def is_admin(self, principal: str) -> bool:
        """Whether the principal's lines give it the `admin` role."""
        self._refresh()
        return principal in self._admins

    def _refresh(self) -> None:
        try:
            info = os.stat(self.path)
        except OSError as exc:
            log.warning(
                "tokens file %s cannot be read; keeping the last tokens: %s", self.path, exc
            )
            return
        if (info.st_mtime_ns, info.st_size) != self._stamp:
            try:
                self._load()
            except (OSError, ValueError) as exc:
                log.warning(
                    "tokens file %s is not valid; keeping the last tokens: %s", self.path, exc
                )

    def _load(self) -> None:
        info = os.stat(self.path)
        tokens: list[tuple[bytes, str]] = []
        roles: dict[str, tuple[bool, int]] = {}  # principal: (admin, first line)
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) not in (2, 3) or parts[2:] not in ([], ["admin"]):
                raise ValueError(
                    f"line {number} is not `PRINCIPAL TOKEN` or `PRINCIPAL TOKEN admin`"
                )
            admin = len(parts) == 3
            known, first = roles.setdefault(parts[0], (admin, number))
            if known != admin:
                raise ValueError(
                    f"line {number} gives principal {parts[0]!r} another role than line {first}; "
                    "give every line of a principal the same role"
                )
            tokens.append((parts[1].encode(), parts[0]))
        self._tokens, self._stamp = tokens, (info.st_mtime_ns, info.st_size)
        self._admins = frozenset(p for p, (admin, _) in roles.items() if admin)
        log.info("tokens file %s: %d principals", self.path, len({p for _, p in tokens}))


class Authenticator:
    """Finds the principal of a call; NotAuthenticated when the server needs one it lacks."""

    def __init__(self, tokens: TokensFile | None = None, client_certificates: bool = False):
        self.tokens = tokens
        self.client_certificates = client_certificates

    def principal(self, context: Any) -> str:
        if self.tokens is not None:
            token = _bearer(context.invocation_metadata() or ())
            if token is None:
                raise NotAuthenticated("this server needs a token and the call brought none")
            principal = self.tokens.principal(token)
            if principal is None:
                raise NotAuthenticated("the call's token is not one this server knows")
            return principal
        if self.client_certificates:
            names = context.auth_context().get("x509_common_name") or []
            return names[0].decode() if names else ANONYMOUS
        return ANONYMOUS

    def is_admin(self, principal: str) -> bool:
        """Whether the principal is an admin (only a tokens file names admins)."""
        return self.tokens is not None and self.tokens.is_admin(principal)


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata:
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else str(value)
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None
