"""Serve any Gymnasium env: wrap a `gymnasium.Env` as an `Environment`.

`gymnasium_factory("CartPole-v1")` is what `openenv-grpc serve
gymnasium:CartPole-v1` uses: one `gymnasium.make` per session, so every
session has its own env, RNG and wrappers (TimeLimit and the rest), made in
the render mode its client asked for.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym

from ..env import EnvFactory, Environment, ResetResult, StepResult
from ..errors import InvalidArgument


class GymnasiumEnvironment(Environment):
    """A Gymnasium env behind the Environment API."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        self.env = env
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        spec = env.spec
        self.name = spec.id if spec is not None else type(env.unwrapped).__name__
        self.version = f"v{spec.version}" if spec is not None and spec.version is not None else ""
        self.metadata = dict(env.metadata)
        self.reward_range = getattr(env.unwrapped, "reward_range", (-math.inf, math.inf))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        if task_id:
            raise InvalidArgument(
                f"{self.name} has no tasks; reset with an empty task_id (got {task_id!r})"
            )
        observation, info = self.env.reset(seed=seed, options=options or None)
        return ResetResult(observation=observation, info=dict(info))

    def step(self, action: Any) -> StepResult:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return StepResult(
            observation=observation,
            reward=float(reward),
            terminated=bool(terminated),
            truncated=bool(truncated),
            info=dict(info),
        )

    @property
    def render_mode(self) -> str | None:
        """The wrapped env's render mode: Gymnasium fixes it when the env is made."""
        return self.env.render_mode

    @render_mode.setter
    def render_mode(self, mode: str | None) -> None:
        if mode != self.env.render_mode:
            raise ValueError(
                f"{self.name} was made with render_mode={self.env.render_mode!r}, not {mode!r}: "
                "a Gymnasium env takes its render mode when it is made, so give its factory a "
                "render_mode keyword and pass it on to gymnasium.make"
            )

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def gymnasium_factory(env_id: str, **make_kwargs: Any) -> EnvFactory:
    """A factory that makes `gymnasium.make(env_id, **make_kwargs)` per session.

    The id is looked up at once, so a typo fails when the server starts,
    not at the first Reset.
    """
    gym.spec(env_id)

    def make(render_mode: str | None = None) -> Environment:
        kwargs = {**make_kwargs, "render_mode": render_mode} if render_mode else make_kwargs
        return GymnasiumEnvironment(gym.make(env_id, **kwargs))

    return make
