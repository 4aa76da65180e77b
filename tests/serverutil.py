"""Run a real EnvServer on a free loopback port, on its own event loop thread.

The tests' clients are ordinary blocking or asyncio gRPC clients in the test
thread, so the server must not share their loop: each server gets a thread
running its own asyncio loop, exactly as `openenv-grpc serve` would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from openenv_grpc.env import EnvFactory
from openenv_grpc.server import EnvServer, ServerConfig

T = TypeVar("T")


class ServerThread:
    """An EnvServer bound to 127.0.0.1 on a free port, started and stopped by the test."""

    def __init__(self, factory: EnvFactory, config: ServerConfig, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.server = self.run(self._make(factory, config, kwargs))
        self.run(self.server.start())
        self.address = f"127.0.0.1:{self.server.port}"

    @staticmethod
    async def _make(factory: EnvFactory, config: ServerConfig, kwargs: Any) -> EnvServer:
        return EnvServer(factory, config, **kwargs)  # built on the loop it will serve on

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the server's loop (to read its state safely)."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())

    def stop(self) -> None:
        self.run(self.server.stop(grace=0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()
