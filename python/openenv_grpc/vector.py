"""Batched sessions: N sub-environments stepped as one, with Gymnasium's autoreset rules.

`SubEnvs` mirrors `gymnasium.vector.SyncVectorEnv` sub-env by sub-env
(seeds `seed + i`, the three autoreset modes, `final_obs`/`final_info` in
SAME_STEP), but keeps each sub-env's info as its own dict and can step any
subset of sub-envs, which EnvPool-style `send`/`recv` needs. It runs env
code and nothing else: the session table decides which thread calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces as gs
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from .env import Environment, ResetResult, StepResult
from .errors import FailedPrecondition, InvalidRequest, Reason

__all__ = [
    "AutoresetMode",
    "BatchedSpaces",
    "SubEnvStart",
    "SubEnvs",
]


@dataclass(frozen=True)
class SubEnvStart:
    """How one sub-env starts its episode: the arguments of its `reset`."""

    seed: int | None = None
    options: dict[str, Any] | None = None
    task_id: str = ""

    @classmethod
    def same_for(cls, env_ids: Sequence[int], seed: int | None, **kwargs: Any) -> list[SubEnvStart]:
        """One start per sub-env, sub-env i seeded with seed + i as Gymnasium's vector envs do."""
        return [cls(None if seed is None else seed + i, **kwargs) for i in env_ids]


class SubEnvs:
    """The sub-environments of one batched session and where each episode stands."""

    def __init__(self, envs: Sequence[Environment], mode: AutoresetMode) -> None:
        self.envs = list(envs)
        self.mode = mode
        # True where a sub-env's episode has ended and it has not been reset since.
        self.ended = np.zeros(len(self.envs), dtype=bool)

    @property
    def num_envs(self) -> int:
        return len(self.envs)

    def check_ids(self, env_ids: Sequence[int]) -> list[int]:
        """The sub-env ids as a list, all of them when empty; INVALID_ARGUMENT if bad."""
        if not env_ids:
            return list(range(self.num_envs))
        ids = [int(i) for i in env_ids]
        if len(set(ids)) != len(ids) or not all(0 <= i < self.num_envs for i in ids):
            raise InvalidRequest(
                f"env_ids {ids[:16]} must be distinct sub-env ids in [0, {self.num_envs})",
                field="env_ids",
            )
        return ids

    def reset(self, env_ids: Sequence[int], starts: Sequence[SubEnvStart]) -> list[ResetResult]:
        """Reset the given sub-envs, each with its own start (seed, options, task)."""
        results = []
        for i, start in zip(env_ids, starts, strict=True):
            result = self.envs[i].reset(
                seed=start.seed, options=start.options, task_id=start.task_id
            )
            if not isinstance(result, ResetResult):
                raise TypeError(f"reset returned {type(result).__name__}, not ResetResult")
            self.ended[i] = False
            results.append(result)
        return results

    def step(self, env_ids: Sequence[int], actions: Sequence[Any]) -> list[StepResult | Exception]:
        """Step the given sub-envs in order (one call into each). A sub-env that raises
        gives its exception in its place; the others' results are kept."""
        if self.mode is AutoresetMode.DISABLED:
            ended = [i for i in env_ids if self.ended[i]]
            if ended:
                raise FailedPrecondition(
                    f"sub-envs {ended[:16]} have ended and autoreset is disabled; reset them "
                    "with env_ids first",
                    reason=Reason.EPISODE_ENDED,
                    metadata={"env_ids": ",".join(map(str, ended[:16]))},
                )
        return [self.outcome(i, action) for i, action in zip(env_ids, actions, strict=True)]

    def outcome(self, i: int, action: Any) -> StepResult | Exception:
        """One sub-env's step, its exception in place of a result if it raises."""
        try:
            return self.step_one(i, action)
        except Exception as exc:
            return exc

    def step_one(self, i: int, action: Any) -> StepResult:
        """One sub-env's step under the session's autoreset mode."""
        env = self.envs[i]
        if self.ended[i] and self.mode is not AutoresetMode.DISABLED:
            # NEXT_STEP's reset step; under SAME_STEP only a sub-env whose step raised.
            reset = env.reset()
            self.ended[i] = False
            return StepResult(observation=reset.observation, info=reset.info)
        try:
            result = env.step(action)
        except Exception:
            self.ended[i] = True  # its episode cannot go on; autoreset (or a reset) restarts it
            raise
        if not isinstance(result, StepResult):
            raise TypeError(f"step returned {type(result).__name__}, not StepResult")
        done = bool(result.terminated or result.truncated)
        if done and self.mode is AutoresetMode.SAME_STEP:
            reset = env.reset()
            info = {"final_obs": result.observation, "final_info": result.info, **reset.info}
            return StepResult(
                observation=reset.observation,
                reward=result.reward,
                terminated=result.terminated,
                truncated=result.truncated,
                info=info,
                reward_components=result.reward_components,
            )
        self.ended[i] = done
        return result

    def close(self) -> None:
        errors: list[BaseException] = []
        for env in self.envs:
            try:
                env.close()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


class BatchedSpaces:
    """Gymnasium's batched form of a space, per batch size, made once and kept."""

    def __init__(self, space: gs.Space[Any]) -> None:
        self.space = space
        self._batched: dict[int, gs.Space[Any]] = {}

    def __getitem__(self, n: int) -> gs.Space[Any]:
        batched = self._batched.get(n)
        if batched is None:
            batched = self._batched[n] = batch_space(self.space, n)
        return batched

    def stack(self, items: Sequence[Any]) -> Any:
        """Sub-env values as one batch (what a local vector env would return)."""
        out: Any = create_empty_array(self.space, len(items))
        return concatenate(self.space, items, out)
