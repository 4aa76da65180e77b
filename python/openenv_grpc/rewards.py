"""External rewards: a hook, outside the env, that scores every step.

Rewards are often defined apart from the env: a grader that compares an
answer with the task's reference, a learned reward model, a rubric. The
operator names one when starting the server, and every step's reward then
comes from it:

    openenv-grpc serve ENV --reward mypackage.rewards:score
    openenv-grpc serve ENV --reward-service 127.0.0.1:50100   # rewards.proto

A Python hook is a function of one `RewardEvent` (the step, its action, the
env's own reward and the episode's task, hidden fields included) returning a
float or a mapping of named components (the reward is then their sum); an
`async def` is awaited. The trainer gets the hook's reward as the step's
reward, and its components merged into the step's `reward_components` over
the env's own parts of the same names (a float comes as one part, "external").

The hook is untrusted like env code: a sync hook runs on the env threads,
every call has the reward timeout, and a hook that raises, hangs or returns
something else fails the step with REWARD_ERROR, never the server. The env
has applied the step by then, so a repeat of its step index (the client's
retry) scores the same result again without stepping the env twice; a
result already scored is answered from memory.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import numbers
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .env import StepResult
from .errors import RewardError
from .runner import EnvThreads
from .tasks import Task

EXTERNAL = "external"  # the component a hook's plain float is reported as


@dataclass(frozen=True)
class RewardEvent:
    """One step as a reward hook sees it."""

    env_name: str
    session_id: str
    episode_id: str
    step_index: int
    env_id: int  # the sub-env of a batched session; 0 for a single-env session
    task: Task | None  # the episode's task (its hidden fields too); None without tasksets
    action: Any
    observation: Any
    reward: float  # the env's own
    reward_components: Mapping[str, float]
    terminated: bool
    truncated: bool
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Score:
    """A hook's verdict on one step: the reward and its named parts."""

    reward: float
    components: dict[str, float]


RewardFunction = Callable[[RewardEvent], Any]
"""A `--reward` hook: returns (or, when async, resolves to) a float or a mapping of
component name to float."""


class RewardHook(Protocol):
    """Where scores come from: a Python function or a RewardService."""

    name: str

    async def score(self, event: RewardEvent) -> Score:
        """The step's score; RewardError on any failure (timeouts included)."""
        ...

    async def close(self) -> None:
        """Release what the hook holds (a channel)."""
        ...


def as_score(value: Any, hook: str) -> Score:
    """A hook's return value as a Score: a finite number, or a non-empty mapping of names to
    finite numbers (summed); RewardError for anything else."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        reward = float(value)
        if math.isfinite(reward):
            return Score(reward, {EXTERNAL: reward})
    elif isinstance(value, Mapping) and value:
        parts: dict[str, float] = {}
        for name, part in value.items():
            if not isinstance(name, str) or isinstance(part, bool):
                break
            if not isinstance(part, numbers.Real) or not math.isfinite(float(part)):
                break
            parts[name] = float(part)
        else:
            return Score(math.fsum(parts.values()), parts)
    raise RewardError(
        hook,
        "malformed",
        f"returned {type(value).__name__} {str(value)[:80]!r}; a hook returns a finite float "
        "or a non-empty mapping of component names to finite floats",
    )


def scored(result: StepResult, score: Score) -> StepResult:
    """The step result the trainer gets: the hook's reward, the components merged."""
    return replace(
        result,
        reward=score.reward,
        reward_components={**result.reward_components, **score.components},
    )


class FunctionHook:
    """A Python function as the reward hook, called within `timeout` seconds: a sync one on
    its own daemon threads (a hung call is written off, never waited for), an async one
    on the server's loop (it must not block)."""

    def __init__(
        self,
        function: RewardFunction,
        *,
        name: str = "",
        timeout: float = 10.0,
        threads: EnvThreads | None = None,
    ) -> None:
        self.function = function
        self.name = name or getattr(function, "__qualname__", repr(function))
        self.timeout = timeout
        self._threads = threads or EnvThreads(name="openenv-reward")
        self._async = inspect.iscoroutinefunction(function)

    async def score(self, event: RewardEvent) -> Score:
        seconds = self.timeout or None
        try:
            if self._async:
                value = await asyncio.wait_for(self.function(event), seconds)
            else:
                future = asyncio.wrap_future(self._threads.submit(self.function, event))
                try:
                    value = await asyncio.wait_for(asyncio.shield(future), seconds)
                except TimeoutError:
                    if not future.done():
                        self._write_off(future)
                    raise
            if inspect.isawaitable(value):
                value = await asyncio.wait_for(_awaited(value), seconds)
        except TimeoutError:
            raise RewardError(
                self.name, "timeout", f"did not return within {self.timeout:g}s"
            ) from None
        except RewardError:
            raise
        except Exception as exc:
            raise RewardError(
                self.name, "raised", f"raised {type(exc).__name__}: {str(exc)[:200]}"
            ) from exc
        return as_score(value, self.name)

    def _write_off(self, future: asyncio.Future[Any]) -> None:
        self._threads.write_off()

        def returned(done: asyncio.Future[Any]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved: a late failure is not "never retrieved"
            self._threads.restore()

        future.add_done_callback(returned)

    async def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value
