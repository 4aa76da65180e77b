"""The env of the failover tests (`tests/failoverenvs.py:NonceEnv`): its observations let a
trainer check that every episode is accounted for across servers that die and drain.

An observation is [nonce, count]: a random nonce drawn at each reset (never from the
seeded generator, so two servers given the same seed still differ) and the steps taken
in the episode. An episode terminates after `episode_length(nonce)` steps and is never
truncated by the env itself, so a truncation can only come from the transport.

Two hooks, set per server process by environment variables:

- LEDGER (a file path): each reset appends its nonce, so the test can check which
  server ran which episode.
- HOLD (a directory): a step that finds the file `marker` there removes it, says "in
  step" through the FIFO `fifo`, and waits for a shared flock on `lock`, which the test
  holds exclusively; so the test knows a step is in flight and decides when it ends.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import secrets
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces as gs

LEDGER = "FAILOVER_LEDGER"
HOLD = "FAILOVER_HOLD"
IN_STEP = b"in step\n"
NONCE_HIGH = 2**62


def episode_length(nonce: int) -> int:
    """How many steps the episode of this nonce lasts (3 to 8)."""
    return 3 + nonce % 6


def recorded(path: pathlib.Path) -> list[int]:
    """The nonces a server's LEDGER file holds, in order (none when it has none yet)."""
    return [int(line) for line in path.read_text().split()] if path.exists() else []


class NonceEnv(gym.Env[np.ndarray, np.int64]):
    """Observation [nonce, count]; reward 1 a step; terminates at episode_length(nonce)."""

    observation_space = gs.Box(0, NONCE_HIGH, (2,), np.int64)
    action_space = gs.Discrete(2)

    def __init__(self) -> None:
        self.nonce = 0
        self.count = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.nonce, self.count = 1 + secrets.randbelow(NONCE_HIGH - 1), 0
        if ledger := os.environ.get(LEDGER):
            with open(ledger, "a") as file:  # one short append: whole lines across threads
                file.write(f"{self.nonce}\n")
        return self._observation(), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if hold := os.environ.get(HOLD):
            _held(pathlib.Path(hold))
        self.count += 1
        done = self.count >= episode_length(self.nonce)
        return self._observation(), 1.0, done, False, {}

    def _observation(self) -> np.ndarray:
        return np.array([self.nonce, self.count], dtype=np.int64)


def _held(where: pathlib.Path) -> None:
    """Wait, once per marker, for the test to release this step (see the module's doc)."""
    try:
        (where / "marker").unlink()
    except FileNotFoundError:
        return
    with open(where / "fifo", "wb") as fifo:
        fifo.write(IN_STEP)
    with open(where / "lock", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
