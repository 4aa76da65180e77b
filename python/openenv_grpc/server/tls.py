"""Server TLS from certificate files, re-read when they change or on SIGHUP.

cert-manager and the like rotate certificates by rewriting the mounted
files. gRPC's dynamic server credentials ask for a new configuration at each
new connection; `ReloadingCredentials` answers with the files read again when
their size or modification time changed (or a reload was asked for), so a
rotation applies to the next connection without a restart, and open
connections and their sessions are never dropped. A file that cannot be read
or parsed keeps the last good configuration, with a warning.
"""

from __future__ import annotations

import logging
import os
import pathlib
from dataclasses import dataclass

import grpc

log = logging.getLogger("openenv_grpc.server")


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate chain and key, and the CA that client certificates need."""

    cert: pathlib.Path
    key: pathlib.Path
    client_ca: pathlib.Path | None = None

    @property
    def paths(self) -> tuple[pathlib.Path, ...]:
        return (self.cert, self.key) + ((self.client_ca,) if self.client_ca else ())


class ReloadingCredentials:
    """Server credentials whose certificates follow their files (see the module docstring)."""

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._stamp = self._stamp_now()
        self._forced = False
        self.credentials = grpc.dynamic_ssl_server_credentials(
            self._configuration(),  # unreadable files fail here, at start-up, loudly
            self._fetch,  # type: ignore[arg-type]  # None means "unchanged"; stubs omit it
            require_client_authentication=files.client_ca is not None,
        )

    def reload(self) -> None:
        """Read the files again at the next connection even if they look unchanged (SIGHUP)."""
        self._forced = True

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        stamp = self._stamp_now()
        if stamp == self._stamp and not self._forced:
            return None
        self._forced = False
        try:
            configuration = self._configuration()
        except (OSError, ValueError) as exc:
            log.warning("TLS files could not be read again; keeping the last ones: %s", exc)
            return None
        self._stamp = stamp
        log.info("TLS certificates reloaded from %s", self.files.cert)
        return configuration

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        files = self.files
        return grpc.ssl_server_certificate_configuration(
            [(files.key.read_bytes(), files.cert.read_bytes())],
            root_certificates=files.client_ca.read_bytes() if files.client_ca else None,
        )

    def _stamp_now(self) -> tuple[tuple[int, int], ...]:
        stamps = []
        for path in self.files.paths:
            try:
                info = os.stat(path)
            except OSError:
                stamps.append((-1, -1))
            else:
                stamps.append((info.st_mtime_ns, info.st_size))
        return tuple(stamps)


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")
