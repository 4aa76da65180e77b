"""The environment API: what an env author implements, with no gRPC in sight.

An `Environment` is Gymnasium-shaped (`reset`, `step`, spaces, `close`)
plus OpenEnv's `state()`, and it returns small result objects rather than
bare tuples so that a reward breakdown can ride along. The server makes one
instance per session from a factory, calls it from one thread at a time,
and never shares an instance between sessions, so an env needs no locking.

    class Echo(Environment):
        observation_space = gymnasium.spaces.Text(64)
        action_space = gymnasium.spaces.Text(64)

        def reset(self, *, seed=None, options=None, task_id=""):
            return ResetResult(observation="")

        def step(self, action):
            return StepResult(observation=action, reward=float(len(action)))
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces as gs

from .tasks import TaskSet


@dataclass
class ResetResult:
    """The first observation of an episode and its info."""

    observation: Any
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    """The outcome of one step: Gymnasium's five values and an optional reward breakdown."""

    observation: Any
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    reward_components: dict[str, float] = field(default_factory=dict)


class Environment(abc.ABC):
    """Base class of environments served by openenv-grpc.

    Set `observation_space` and `action_space` (Gymnasium spaces) as class or
    instance attributes, implement `reset` and `step`, and optionally `state`
    and `close`. `name`, `version`, `metadata` and `reward_range` describe the
    env to clients through Describe.
    """

    observation_space: gs.Space[Any]
    action_space: gs.Space[Any]
    name: str = ""
    version: str = ""
    metadata: Mapping[str, Any] = {}
    reward_range: tuple[float, float] = (-math.inf, math.inf)
    # The render mode the env was made in (one of metadata["render_modes"]), or None.
    render_mode: str | None = None
    # The env's tasksets (see tasks.py): Describe lists them, ListTasks pages through
    # them, and a reset's task selector is resolved to a `task_id` among them.
    tasksets: Sequence[TaskSet] = ()

    @abc.abstractmethod
    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetResult:
        """Start a new episode; seed the env's randomness when `seed` is given."""

    @abc.abstractmethod
    def step(self, action: Any) -> StepResult:
        """Apply an action that lies in `action_space` (the server has checked it)."""

    def state(self) -> Any:
        """Env-specific state for State calls (any encodable value); None by default."""
        return None

    def render(self) -> Any:
        """The current frame in `render_mode` (an RGB array, a string for "ansi"); None by
        default. Render and WatchSession call it between steps, never during one."""
        return None

    def close(self) -> None:  # noqa: B027 (optional hook, empty by design)
        """Release the env's resources; called once when its session ends."""

    @property
    def display_name(self) -> str:
        """The name shown to clients: `name`, or the class name when it is empty."""
        return self.name or type(self).__name__


EnvFactory = Callable[..., Environment]
"""Makes one fresh Environment per session: called with no arguments, or with a
`render_mode` keyword when a client asks for a render mode and the factory takes one
(see `make_env`)."""


def make_env(factory: EnvFactory, render_mode: str | None = None) -> Environment:
    """One env from a factory, in `render_mode` when one is asked for.

    Gymnasium envs need their render mode when they are made, so a factory that takes a
    `render_mode` keyword gets it; any other factory's env gets the attribute set after
    it is made (an `Environment` that renders reads `self.render_mode`).
    """
    if not render_mode:
        return factory()
    if takes_keyword(factory, "render_mode"):
        return factory(render_mode=render_mode)
    env = factory()
    env.render_mode = render_mode
    return env


def takes_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` accepts the keyword argument `name` (named, or through **kwargs)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return any(
        (p.name == name and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
