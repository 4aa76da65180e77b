"""Envs written against OpenEnv (`openenv` on PyPI), as its users write them, for the
tests that serve them with `openenv-grpc serve openenv:tests/openenvenvs.py:...`.

Nothing here knows of openenv-grpc: pydantic Action and Observation types, an
`Environment[...]` per env, a `State`, and an MCP env with FastMCP tools in the
shape of OpenEnv's own echo env.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from typing import Any, Literal

from fastmcp import FastMCP
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.mcp_environment import MCPEnvironment
from openenv.core.env_server.types import Action, EnvironmentMetadata, Observation, State
from pydantic import Field, model_validator

GOAL = 4


class Light(enum.StrEnum):
    """How near the goal the walker is."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class Move(Action):
    """Walk left or right by one to three cells, with an optional note."""

    direction: Literal["left", "right"]
    cells: int = Field(ge=1, le=3)
    note: str = Field(default="", max_length=40)

    @model_validator(mode="after")
    def _no_shouting(self) -> Move:
        if self.note.isupper():
            raise ValueError("notes are not written in capitals")
        return self


class Where(Observation):
    """Where the walker stands, and how it got there."""

    position: int
    light: Light
    trail: list[int] = Field(default_factory=list)
    offset: list[float] = Field(min_length=2, max_length=2)
    last_note: str = ""


class Walk(Environment[Move, Where, State]):
    """Walk from 0 to cell 4 on a line; each move costs 0.1, arriving pays 1."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self._state = State(episode_id=None, step_count=0)
        self._position = 0
        self._trail: list[int] = []

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name="walk", description="walk to cell 4", version="2.1", author="tests"
        )

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kw: Any) -> Where:
        self._state = State(episode_id=episode_id or uuid.uuid4().hex, step_count=0)
        self._position = int(kw.get("start", 0))
        self._trail = [self._position]
        return self._where(note="", reward=None, done=False, seed=seed)

    def step(self, action: Move, timeout_s: float | None = None, **kw: Any) -> Where:
        self._state.step_count += 1
        self._position += action.cells if action.direction == "right" else -action.cells
        self._trail.append(self._position)
        done = self._position == GOAL
        return self._where(action.note, 1.0 if done else -0.1, done, seed=None)

    def _where(self, note: str, reward: float | None, done: bool, seed: int | None) -> Where:
        distance = abs(GOAL - self._position)
        light = Light.GREEN if distance == 0 else Light.AMBER if distance <= 2 else Light.RED
        return Where(
            position=self._position,
            light=light,
            trail=list(self._trail),
            offset=[float(self._position), float(distance) / 2],
            last_note=note,
            reward=reward,
            done=done,
            metadata={"distance": distance, "seed": seed},
        )

    @property
    def state(self) -> State:
        return self._state


class Echo(MCPEnvironment):
    """A pure MCP env in the shape of OpenEnv's echo env: everything is a tool."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        mcp = FastMCP("echo_env")
        self.calls = 0

        @mcp.tool
        def echo_message(message: str) -> str:
            """Echo back the provided message."""
            self.calls += 1
            return message

        @mcp.tool
        def echo_with_length(message: str) -> dict[str, Any]:
            """Echo back the message with its length."""
            self.calls += 1
            return {"message": message, "length": len(message)}

        super().__init__(mcp)
        self._state = State(episode_id=str(uuid.uuid4()), step_count=0)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kw: Any) -> Any:
        self._state = State(episode_id=episode_id or str(uuid.uuid4()), step_count=0)
        return Observation(done=False, reward=0.0, metadata={"status": "ready"})

    def _step_impl(self, action: Action, timeout_s: float | None = None, **kw: Any) -> Any:
        return Observation(done=False, reward=0.0, metadata={"error": "use the tools"})

    @property
    def state(self) -> State:
        return State(episode_id=self._state.episode_id, step_count=self.calls)


class Countdown(Environment[Move, Where, State]):
    """An async env (it overrides reset_async and step_async, as OpenEnv allows)."""

    def __init__(self) -> None:
        super().__init__()
        self._inner = Walk()
        self.loop_ids: set[int] = set()

    async def reset_async(self, seed: int | None = None, episode_id: str | None = None) -> Where:
        await asyncio.sleep(0)
        self.loop_ids.add(id(asyncio.get_running_loop()))
        return self._inner.reset(seed=seed, episode_id=episode_id)

    async def step_async(self, action: Move, timeout_s: float | None = None, **kw: Any) -> Where:
        await asyncio.sleep(0)
        self.loop_ids.add(id(asyncio.get_running_loop()))
        where = self._inner.step(action)
        where.metadata["loops"] = len(self.loop_ids)
        return where

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kw: Any) -> Where:
        raise AssertionError("the async env is awaited, never called")

    def step(self, action: Move, timeout_s: float | None = None, **kw: Any) -> Where:
        raise AssertionError("the async env is awaited, never called")

    @property
    def state(self) -> State:
        return self._inner.state


def walk_app() -> Any:
    """The Walk env under OpenEnv's own server (for uvicorn's --factory), to compare with."""
    from openenv.core.env_server.http_server import create_fastapi_app

    return create_fastapi_app(Walk, Move, Where, max_concurrent_envs=4)
