"""Environments with one deliberate bug each, for `openenv-grpc validate` to catch.

They are served for real (by the project's own server), so the validator
sees exactly what a trainer would: only the env is wrong, never the wire.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult

EPISODE_STEPS = 10


class OutOfSpaceEnv(Environment):
    """Declares observations in [0, 1], but from its third step on it observes 2.0."""

    name = "OutOfSpace"
    reward_range = (0.0, 1.0)
    observation_space = gs.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    action_space = gs.Discrete(2)

    def __init__(self) -> None:
        self.t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        self.t = 0
        return ResetResult(observation=np.zeros(2, dtype=np.float32))

    def step(self, action: Any) -> StepResult:
        self.t += 1
        second = 2.0 if self.t >= 3 else 0.5  # the bug: outside the declared high of 1.0
        return StepResult(
            observation=np.array([0.5, second], dtype=np.float32),
            reward=1.0,
            truncated=self.t >= EPISODE_STEPS,
        )


class SeedIgnoringEnv(Environment):
    """Draws observations from an RNG seeded from the OS, never from the reset seed."""

    name = "SeedIgnoring"
    reward_range = (0.0, 1.0)
    observation_space = gs.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    action_space = gs.Discrete(2)

    def __init__(self) -> None:
        self.rng = np.random.default_rng()  # the bug: reset's seed never reaches it
        self.t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        self.t = 0
        return ResetResult(observation=self._observe())

    def step(self, action: Any) -> StepResult:
        self.t += 1
        return StepResult(
            observation=self._observe(), reward=1.0, truncated=self.t >= EPISODE_STEPS
        )

    def _observe(self) -> Any:
        return self.rng.uniform(-1.0, 1.0, size=3).astype(np.float32)
