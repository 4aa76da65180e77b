"""The benchmark envs as openenv_grpc `Environment`s, plus the logic both frameworks share.

Two envs, each built twice (here for openenv-grpc, in `openenv_envs` for
OpenEnv) so that the only difference between two rows of the table is the
transport:

- echo: every step returns the same payload of `BENCH_OBS_BYTES` bytes
  (a uint8 array); the action is a Discrete(2) int and is ignored. It
  isolates the cost of carrying an observation.
- CartPole: Gymnasium's CartPole-v1, 4 floats per observation.

The OpenEnv classes live in another module because importing anything
under `openenv.core.env_server` imports gradio (about 6 s and 100+ MB),
which would distort our server's start-up and memory figures.

    openenv-grpc serve bench/envs.py:make_echo_env        # BENCH_OBS_BYTES=1048576
    openenv-grpc serve bench/envs.py:make_cartpole_env
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult
from openenv_grpc.adapters.gymnasium import gymnasium_factory

OBS_BYTES_VAR = "BENCH_OBS_BYTES"
DEFAULT_OBS_BYTES = 16
CARTPOLE_ID = "CartPole-v1"


def obs_bytes_from_env() -> int:
    """The echo payload size, read from the environment so a server subprocess can be told."""
    return int(os.environ.get(OBS_BYTES_VAR, DEFAULT_OBS_BYTES))


@functools.cache
def payload(n_bytes: int) -> npt.NDArray[np.uint8]:
    """A fixed pseudo-random uint8 frame, shared by every session (pixels-like, incompressible)."""
    frame = np.random.default_rng(0).integers(0, 256, n_bytes, dtype=np.uint8)
    frame.setflags(write=False)
    return frame


@functools.cache
def _echo_space(n_bytes: int) -> gs.Box:
    # Built once per size: a Box broadcasts its bounds to full arrays, 32 MB at 16 MiB.
    return gs.Box(0, 255, (n_bytes,), np.uint8)


class EchoEnv(Environment):
    """Returns the payload on every reset and step; never ends an episode."""

    name = "BenchEcho"
    action_space = gs.Discrete(2)

    def __init__(self, n_bytes: int) -> None:
        self.observation_space = _echo_space(n_bytes)
        self._frame = payload(n_bytes)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        return ResetResult(observation=self._frame)

    def step(self, action: Any) -> StepResult:
        return StepResult(observation=self._frame, reward=1.0)


def make_echo_env() -> EchoEnv:
    """Factory for `openenv-grpc serve bench/envs.py:make_echo_env` (size from BENCH_OBS_BYTES)."""
    return EchoEnv(obs_bytes_from_env())


make_cartpole_env = gymnasium_factory(CARTPOLE_ID)
"""Factory for `openenv-grpc serve bench/envs.py:make_cartpole_env`: the stock Gymnasium adapter."""
