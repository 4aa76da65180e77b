"""The same envs as `bench.envs`, written the way an OpenEnv user writes them.

Pydantic Action/Observation types, an `openenv` `Environment` per env (with
its `step` typed, so `openenv-grpc serve openenv:bench/openenv_envs.py:
OpenEnvCartPole` serves the very same class), and an `EnvClient` subclass per
env that parses replies into those types, as OpenEnv's own env packages do
(for example its Atari env). Written for PyPI `openenv` (0.10; `openenv-core`
0.3, its former name, has the same import paths).

JSON cannot carry bytes, so the echo payload travels as OpenEnv's Atari env
sends its screen: a flat `list[int]` (`BENCH_OBS_ENCODING=list`, the default),
or as a base64 string (`base64`), the cheapest JSON form. Either way the
client hands the caller a uint8 numpy array, as ours does, so rows compare
the same work.
"""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field

from bench.envs import CARTPOLE_ID, obs_bytes_from_env, payload

ENCODING_VAR = "BENCH_OBS_ENCODING"
ENCODINGS = ("list", "base64")


class EchoAction(Action):
    """A Discrete(2) action, ignored by the env."""

    action: int = Field(default=0, ge=0, le=1)


class EchoObservation(Observation):
    """The payload as a flat list of ints (OpenEnv's Atari env sends `screen` this way)."""

    payload: list[int] = Field(default_factory=list)


class EchoB64Observation(Observation):
    """The payload as base64 text: the cheapest way to put bytes in JSON."""

    payload: str = ""


class CartPoleAction(Action):
    """Push the cart left (0) or right (1)."""

    action: int = Field(ge=0, le=1)


class CartPoleObservation(Observation):
    """Cart position and velocity, pole angle and angular velocity."""

    state: list[float] = Field(default_factory=list)


class _Episode(Environment[Any, Any, State]):
    """Episode bookkeeping both envs share (OpenEnv's `state` property)."""

    SUPPORTS_CONCURRENT_SESSIONS = True  # one instance per session, nothing shared

    def __init__(self) -> None:
        super().__init__()
        self._state = State(episode_id=None, step_count=0)

    def _new_episode(self) -> None:
        self._state = State(episode_id=uuid.uuid4().hex, step_count=0)

    @property
    def state(self) -> State:
        return self._state


class OpenEnvEcho(_Episode):
    """Echo env: payload size from BENCH_OBS_BYTES, encoding from BENCH_OBS_ENCODING."""

    def __init__(self) -> None:
        super().__init__()
        self._frame = payload(obs_bytes_from_env())
        self._encoding = os.environ.get(ENCODING_VAR, "list")
        if self._encoding not in ENCODINGS:
            raise ValueError(f"{ENCODING_VAR} must be one of {ENCODINGS}")

    def _observation(self) -> Observation:
        # Encoded per step, as a real env encodes each new frame.
        if self._encoding == "base64":
            text = base64.b64encode(self._frame.tobytes()).decode("ascii")
            return EchoB64Observation(payload=text, reward=1.0)
        return EchoObservation(payload=self._frame.tolist(), reward=1.0)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kw: Any) -> Any:
        self._new_episode()
        return self._observation()

    def step(self, action: EchoAction, timeout_s: float | None = None, **kw: Any) -> Any:
        self._state.step_count += 1
        return self._observation()


class OpenEnvCartPole(_Episode):
    """Gymnasium CartPole-v1 behind OpenEnv's Environment API.

    `step` before any `reset` resets first: OpenEnv's HTTP /step makes a
    fresh env for every request and never resets it, so without this the
    stateless HTTP path could not step CartPole at all.
    """

    def __init__(self) -> None:
        super().__init__()
        self._env = gym.make(CARTPOLE_ID)
        self._needs_reset = True

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kw: Any
    ) -> CartPoleObservation:
        obs, _ = self._env.reset(seed=seed)
        self._needs_reset = False
        self._new_episode()
        return CartPoleObservation(state=obs.tolist(), reward=0.0, done=False)

    def step(
        self, action: CartPoleAction, timeout_s: float | None = None, **kw: Any
    ) -> CartPoleObservation:
        if self._needs_reset:
            self.reset()
        obs, reward, terminated, truncated, _ = self._env.step(action.action)
        self._state.step_count += 1
        done = bool(terminated or truncated)
        self._needs_reset = done
        return CartPoleObservation(state=obs.tolist(), reward=float(reward), done=done)

    def close(self) -> None:
        self._env.close()


def decode_echo(observation: dict[str, Any]) -> npt.NDArray[np.uint8]:
    """The payload of an echo observation dict as a uint8 array (either encoding)."""
    data = observation["payload"]
    if isinstance(data, str):
        text = EchoB64Observation(payload=data).payload
        return np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return np.asarray(EchoObservation(payload=data).payload, dtype=np.uint8)


def decode_cartpole(observation: dict[str, Any]) -> npt.NDArray[np.float32]:
    """The 4 floats of a CartPole observation dict as a float32 array, like Gymnasium's."""
    return np.asarray(CartPoleObservation(**observation).state, dtype=np.float32)


class EchoClient(EnvClient[EchoAction, Any, State]):
    """OpenEnv WebSocket client of the echo env."""

    def _step_payload(self, action: EchoAction) -> dict[str, Any]:
        return {"action": action.action}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Any]:
        return StepResult(
            observation=decode_echo(payload.get("observation", {})),
            reward=payload.get("reward"),
            done=payload.get("done", False),
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)


class CartPoleClient(EnvClient[CartPoleAction, Any, State]):
    """OpenEnv WebSocket client of the CartPole env."""

    def _step_payload(self, action: CartPoleAction) -> dict[str, Any]:
        return {"action": action.action}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Any]:
        return StepResult(
            observation=decode_cartpole(payload.get("observation", {})),
            reward=payload.get("reward"),
            done=payload.get("done", False),
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)
