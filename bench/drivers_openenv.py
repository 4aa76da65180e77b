"""One session of OpenEnv per client path, behind the same reset/step shape as `drivers_ours`.

The WebSocket drivers use OpenEnv's own `EnvClient` (async, and its
`.sync()` wrapper). OpenEnv ships no HTTP client, so the HTTP driver posts
to `/step` with a keep-alive `httpx.Client` (faster than `requests` here)
and decodes the reply as the WebSocket client would. HTTP `/step` is
stateless: the server builds a fresh env for every request, steps it once
and closes it, so there is no session and no episode; `reset` is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from openenv.core.env_client import EnvClient
from openenv.core.sync_client import SyncEnvClient

from bench.openenv_envs import (
    CartPoleAction,
    CartPoleClient,
    EchoAction,
    EchoClient,
    decode_cartpole,
    decode_echo,
)

# env kind -> (client class, action class, observation decoder)
KINDS: dict[str, tuple[type[EnvClient[Any, Any, Any]], type[Any], Callable[[Any], Any]]] = {
    "cartpole": (CartPoleClient, CartPoleAction, decode_cartpole),
    "echo": (EchoClient, EchoAction, decode_echo),
}
MESSAGE_TIMEOUT_S = 120.0  # a 16 MiB list-of-ints observation takes seconds


class WsAsyncDriver:
    """OpenEnv's async `EnvClient`: one WebSocket, one JSON frame each way per step."""

    def __init__(self, kind: str, url: str) -> None:
        client_cls, self._action, _ = KINDS[kind]
        self.client = client_cls(base_url=url, message_timeout_s=MESSAGE_TIMEOUT_S)

    async def open(self) -> WsAsyncDriver:
        await self.client.connect()
        return self

    async def reset(self) -> None:
        await self.client.reset()

    async def step(self, i: int) -> bool:
        return bool((await self.client.step(self._action(action=i % 2))).done)

    async def close(self) -> None:
        await self.client.close()


class WsSyncDriver:
    """OpenEnv's `EnvClient.sync()`: the blocking wrapper (a background event loop thread)."""

    def __init__(self, kind: str, url: str) -> None:
        client_cls, self._action, _ = KINDS[kind]
        async_client = client_cls(base_url=url, message_timeout_s=MESSAGE_TIMEOUT_S)
        self.client: SyncEnvClient[Any, Any, Any] = async_client.sync()
        self.client.connect()

    def reset(self) -> None:
        self.client.reset()

    def step(self, i: int) -> bool:
        return bool(self.client.step(self._action(action=i % 2)).done)

    def close(self) -> None:
        self.client.close()


class HttpStepDriver:
    """POST /step on a keep-alive connection: stateless, so never done and never reset."""

    def __init__(self, kind: str, url: str) -> None:
        _, self._action, self._decode = KINDS[kind]
        self.client = httpx.Client(base_url=url, timeout=MESSAGE_TIMEOUT_S)

    def reset(self) -> None:
        pass

    def step(self, i: int) -> bool:
        action = self._action(action=i % 2)
        reply = self.client.post("/step", json={"action": {"action": action.action}})
        reply.raise_for_status()
        self._decode(reply.json()["observation"])
        return False

    def close(self) -> None:
        self.client.close()
