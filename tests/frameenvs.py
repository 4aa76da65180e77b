"""Environments that render, for the frame and playground tests."""

from __future__ import annotations

import string
import threading
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult
from openenv_grpc.tools import tool


class Painter(Environment):
    """Paints its frame with the step count: frame[y, x] = (count, y % 256, x % 256).

    Its constructor takes no render_mode: the server sets the attribute after
    making it. "ansi" renders the count as text. `renders` counts render calls
    of every instance; the reset option "broken" makes render raise.
    """

    name = "Painter"
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 30}
    observation_space = gs.Box(low=0, high=1_000_000, shape=(1,), dtype=np.int64)
    action_space = gs.Discrete(3)
    height, width = 48, 64
    renders = 0
    lock = threading.Lock()

    def __init__(self) -> None:
        self.count = 0
        self.broken = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        self.count, self.broken = 0, bool((options or {}).get("broken", False))
        return ResetResult(observation=np.array([0], dtype=np.int64))

    def step(self, action: Any) -> StepResult:
        self.count += 1
        return StepResult(
            observation=np.array([self.count], dtype=np.int64),
            reward=float(action),
            reward_components={"paint": float(action), "bonus": 0.5},
        )

    def render(self) -> Any:
        with Painter.lock:
            Painter.renders += 1
        if self.broken:
            raise RuntimeError("the brush broke")
        if self.render_mode == "ansi":
            return f"count={self.count}\n"
        if self.render_mode != "rgb_array":
            return None
        return painted(self.count, self.height, self.width)


def painted(count: int, height: int = Painter.height, width: int = Painter.width) -> np.ndarray:
    """The frame a Painter shows after `count` steps."""
    frame = np.empty((height, width, 3), np.uint8)
    frame[:, :, 0] = count % 256
    frame[:, :, 1] = (np.arange(height) % 256)[:, None]
    frame[:, :, 2] = (np.arange(width) % 256)[None, :]
    return frame


class BigPainter(Painter):
    """A Painter whose frames are large (512x512), to fill a slow watcher's window fast."""

    height, width = 512, 512


class Typist(Environment):
    """A text env with a tool: each action (text) is appended to the page; "ansi" renders
    the page. Its tool `count` counts a letter in the page."""

    name = "Typist"
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}
    observation_space = gs.Text(max_length=256, min_length=0, charset=string.printable)
    action_space = gs.Text(max_length=32, charset=string.ascii_letters + " ")

    def __init__(self) -> None:
        self.page = ""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        self.page = ""
        return ResetResult(observation="")

    def step(self, action: Any) -> StepResult:
        self.page = (self.page + str(action))[-256:]
        return StepResult(
            observation=self.page,
            reward=float(len(action)),
            reward_components={"letters": float(sum(c.isalpha() for c in action))},
            info={"length": len(self.page)},
        )

    def render(self) -> Any:
        return f"page: {self.page}" if self.render_mode == "ansi" else None

    @tool
    def count(self, letter: str) -> dict[str, int]:
        """How many times `letter` appears on the page."""
        return {"count": self.page.count(letter)}
