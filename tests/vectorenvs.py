"""Gymnasium envs for the batched tests: served remotely (also in worker processes, by the
ENV spec `vectorenvs:InfoEnv`) and stepped locally by SyncVectorEnv, side by side."""

from __future__ import annotations

import threading
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces as gs


class InfoEnv(gym.Env[np.ndarray, np.int64]):
    """Episodes of different lengths per seed (some terminate, some are truncated), and
    infos of every kind Gymnasium's vector layout has: ints, floats, bools, numpy scalars
    and arrays, strings and None (object arrays), nested dicts, keys that only some
    sub-envs have on some steps. Action 2 hangs (for the hung-worker test) when the env
    was made with `hang=True`."""

    observation_space = gs.Box(-100.0, 100.0, (3,), np.float32)
    action_space = gs.Discrete(3)

    def __init__(self, hang: bool = False) -> None:
        self.hang = hang
        self.count = 0
        self.limit = 5
        self.total = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.count = 0
        self.total = 0.0
        self.limit = int(self.np_random.integers(3, 9))
        info: dict[str, Any] = {"limit": self.limit, "start": "fresh"}
        if seed is not None:
            info["seed"] = seed
        return self._observation(), info

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.hang and action == 2:
            threading.Event().wait()  # never returns: a hung env
        self.count += 1
        noise = float(self.np_random.normal())
        self.total += noise
        terminated = self.count >= self.limit and self.limit % 2 == 0
        truncated = self.count >= self.limit and not terminated
        info: dict[str, Any] = {"count": self.count, "noise": noise}
        if action == 1:
            info["label"] = f"one@{self.count}"
            info["even"] = self.count % 2 == 0
        if action == 2:
            info["vec"] = np.array([self.count, noise], dtype=np.float32)
            info["small"] = np.int16(self.count)
            info["maybe"] = None if self.count % 2 else [self.count, "x"]
        if self.count % 3 == 0:
            info["nested"] = {"total": self.total, "tag": "third", "deep": {"n": self.count}}
        return self._observation(), float(self.count) - noise, terminated, truncated, info

    def _observation(self) -> np.ndarray:
        return np.array([self.count, self.total, self.limit], dtype=np.float32)


def hanging_info_env() -> InfoEnv:
    return InfoEnv(hang=True)
