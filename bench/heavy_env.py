"""A pure-Python env that costs about 1 ms of CPU per step, for the batched bench.

CartPole's step is a few microseconds, so a batch of it measures the
batching machinery; this one measures where the env's own Python runs: in
the server's process (one core, behind the GIL) or in `--vector-processes`
worker processes (one core each). The work is a fixed integer recurrence,
so every run and every process does the same amount; its observations and
rewards come from it, so nothing can skip it.

    openenv-grpc serve bench.heavy_env:HeavyEnv --vector-processes 2
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces as gs

WORK = 15_000  # iterations per step: about 1 ms on the bench machine (see `cost`)
EPISODE = 200


class HeavyEnv(gym.Env[np.ndarray, np.int64]):
    """Observations are four numbers of a pseudo-random walk; truncated every 200 steps."""

    observation_space = gs.Box(0.0, 1.0, (4,), np.float32)
    action_space = gs.Discrete(2)

    def __init__(self) -> None:
        self.state = 1
        self.steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.state = int(self.np_random.integers(1, 2**31 - 1))
        self.steps = 0
        return self._observation(), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        x = self.state + int(action)
        for _ in range(WORK):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        self.state = x
        self.steps += 1
        return self._observation(), (x & 0xFF) / 255.0, False, self.steps >= EPISODE, {}

    def _observation(self) -> np.ndarray:
        x = self.state
        parts = [(x >> shift) & 0xFF for shift in (0, 8, 16, 23)]
        return np.array(parts, dtype=np.float32) / 255.0


def cost(steps: int = 200) -> float:
    """Seconds of CPU per step on this machine."""
    import time

    env = HeavyEnv()
    env.reset(seed=0)
    start = time.process_time()
    for _ in range(steps):
        env.step(np.int64(1))
    return (time.process_time() - start) / steps


if __name__ == "__main__":
    print(f"{cost() * 1e3:.2f} ms of CPU per step")
