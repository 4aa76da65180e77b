"""`openenv-grpc playground ADDR`: a web page to play, inspect and watch any env server.

A separate process (the env pod stays lean) and a gRPC client like any other:
the page shows the env's spec, a form for actions that follows the action
space, each step's observation, reward, terminated/truncated, info and
reward components, the live frame and the episode's return, the env's tools
with a form each, and a second tab that watches any session by id (the
playground's token must own it or be an admin's). Starlette and uvicorn
serve it; every asset comes from this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

import grpc

from .app import create_app
from .backend import Remote

__all__ = ["Remote", "create_app", "run"]


def run(
    address: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    credentials: grpc.ChannelCredentials | None = None,
) -> int:
    """Serve the playground of the env server at `address` until interrupted."""
    import uvicorn

    listener = socket.create_server((host, port), family=_family(host))
    bound = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"openenv-grpc playground of {address} on http://{shown}:{bound}/", flush=True)

    async def main() -> None:
        remote = Remote(address, token=token, credentials=credentials)
        config = uvicorn.Config(create_app(remote), log_level="warning", ws="websockets-sansio")
        try:
            await uvicorn.Server(config).serve(sockets=[listener])
        finally:
            await remote.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1]))
