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
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces as gs


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

    def close(self) -> None:  # noqa: B027 (optional hook, empty by design)
        """Release the env's resources; called once when its session ends."""

    @property
    def display_name(self) -> str:
        """The name shown to clients: `name`, or the class name when it is empty."""
        return self.name or type(self).__name__


EnvFactory = Callable[[], Environment]
"""Makes one fresh Environment per session."""
