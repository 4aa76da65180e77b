"""One session of openenv-grpc per client path, behind the same reset/step shape.

`step(i)` sends action `i % 2` (valid for both envs) and returns whether the
episode ended; each driver uses the public client API exactly as the README
shows it, so the numbers are what a user of that path gets.
"""

from __future__ import annotations

from openenv_grpc.client import (
    AsyncEnvClient,
    AsyncStreamSession,
    EnvClient,
    RemoteEnv,
    StreamSession,
)


class UnaryDriver:
    """`EnvClient.reset` / `EnvClient.step`: one unary call per step, the session named by id."""

    def __init__(self, address: str) -> None:
        self.client = EnvClient(address)
        self.session_id = ""

    def reset(self) -> None:
        self.session_id = self.client.reset(session_id=self.session_id).session_id

    def step(self, i: int) -> bool:
        return self.client.step(self.session_id, i % 2).done

    def close(self) -> None:
        if self.session_id:
            self.client.close_session(self.session_id)
        self.client.close()


class StreamDriver:
    """`EnvClient.stream()`: a blocking StreamSession, one message each way per step."""

    def __init__(self, address: str) -> None:
        self.client = EnvClient(address)
        self.session: StreamSession = self.client.stream()

    def reset(self) -> None:
        self.session.reset()

    def step(self, i: int) -> bool:
        return self.session.step(i % 2).done

    def close(self) -> None:
        self.session.close()
        self.client.close()


class RemoteEnvDriver:
    """`RemoteEnv`: the Gymnasium face (a StreamSession underneath, plus the 5-tuple)."""

    def __init__(self, address: str) -> None:
        self.env = RemoteEnv(address)

    def reset(self) -> None:
        self.env.reset()

    def step(self, i: int) -> bool:
        _, _, terminated, truncated, _ = self.env.step(i % 2)
        return bool(terminated or truncated)

    def close(self) -> None:
        self.env.close()


class AsyncStreamDriver:
    """`AsyncEnvClient.stream()`: an AsyncStreamSession; many may share one client's channel."""

    def __init__(self, session: AsyncStreamSession) -> None:
        self.session = session

    @classmethod
    async def open(cls, client: AsyncEnvClient) -> AsyncStreamDriver:
        return cls(await client.stream())

    async def reset(self) -> None:
        await self.session.reset()

    async def step(self, i: int) -> bool:
        return (await self.session.step(i % 2)).done

    async def close(self) -> None:
        await self.session.close()
