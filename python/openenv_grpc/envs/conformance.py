"""The conformance env: small, deterministic, and every number exact in float32.

Every language's conformance client (tests/conformance/README.md) checks
the values a live server returns against `tests/conformance/scenario.json`,
which `tests/conformance/make_scenario.py` writes by running this env. So
the env has no randomness beyond its seed, and its observations (integers
below 1000) and rewards (multiples of 0.25) survive float32 exactly: a
client in any language can compare with `==`.

    state s = seed % 997, step count t = 0; observation [s, t, 0]
    step(a): t += 1; s = (31 * s + a + 7) % 997; observation [s, t, a]
    reward 0.5 * a - 0.25 = components {"action": 0.5 * a, "penalty": -0.25}
    terminated when a == 2 and t >= 4; truncated when t >= 8 otherwise

The reset option `step_seconds` makes each later step sleep that long
first: the slow step that the deadline-and-retry check needs.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from ..env import Environment, ResetResult, StepResult
from ..errors import InvalidArgument

MODULUS = 997  # a prime below the observation bound of 1000
TERMINAL_ACTION, TERMINAL_AFTER = 2, 4  # action 2 on step 4 or later ends the episode
TIME_LIMIT = 8  # steps before truncation
MAX_STEP_SECONDS = 60.0  # a slow step, not a stuck session


class ConformanceEnv(Environment):
    """The deterministic env behind the cross-language conformance scenario."""

    name = "Conformance-v1"
    version = "1"
    reward_range = (-0.25, 0.75)
    observation_space = spaces.Box(low=0.0, high=1000.0, shape=(3,), dtype=np.float32)
    action_space = spaces.Discrete(3)

    def __init__(self) -> None:
        self._s = 0
        self._t = 0
        self._step_seconds = 0.0

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetResult:
        """Start at s = seed % 997 (0 unseeded); `options["step_seconds"]` slows later steps."""
        self._step_seconds = _step_seconds(options or {})
        self._s, self._t = (seed or 0) % MODULUS, 0
        return ResetResult(observation=self._observation(0))

    def step(self, action: Any) -> StepResult:
        """Advance the state by the action; the reward depends on the action alone."""
        if self._step_seconds:
            time.sleep(self._step_seconds)
        a = int(action)
        self._t += 1
        self._s = (self._s * 31 + a + 7) % MODULUS
        terminated = a == TERMINAL_ACTION and self._t >= TERMINAL_AFTER
        return StepResult(
            observation=self._observation(a),
            reward=0.5 * a - 0.25,
            terminated=terminated,
            truncated=self._t >= TIME_LIMIT and not terminated,
            info={"t": self._t},
            reward_components={"action": 0.5 * a, "penalty": -0.25},
        )

    def state(self) -> dict[str, int]:
        """The whole state: s and the step count t."""
        return {"s": self._s, "t": self._t}

    def _observation(self, action: int) -> npt.NDArray[np.float32]:
        return np.array([self._s, self._t, action], dtype=np.float32)


def _step_seconds(options: Mapping[str, Any]) -> float:
    value = options.get("step_seconds", 0.0)
    seconds = float(value) if isinstance(value, numbers.Real) else math.nan
    if isinstance(value, bool) or not 0 <= seconds <= MAX_STEP_SECONDS:
        raise InvalidArgument(
            f"option step_seconds must be a number of seconds from 0 to {MAX_STEP_SECONDS}, "
            f"got {value!r}"
        )
    return seconds
