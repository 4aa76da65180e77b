"""Batched sessions: N sub-environments stepped as one, with Gymnasium's autoreset rules.

`SubEnvs` mirrors `gymnasium.vector.SyncVectorEnv` sub-env by sub-env
(seeds `seed + i`, the three autoreset modes, `final_obs`/`final_info` in
SAME_STEP) and does per sub-env only what the env needs: its `step` (or
its autoreset `reset`) and the bookkeeping of its episode. Everything else
is arrays: observations go straight into one batch buffer (`Rows`),
rewards, terminations and truncations into arrays, and only the infos that
are not empty are kept, by position, for the transport to lay out
(`vector_infos`). It can step any subset of sub-envs, which EnvPool-style
`send`/`recv` needs. It runs env code and nothing else: the session table
decides which thread calls it, and `workers.WorkerSubEnvs` runs slices of
it in worker processes behind the same methods.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces as gs
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from .adapters.gymnasium import GymnasiumEnvironment
from .codec import summary
from .env import Environment, ResetResult, StepResult
from .errors import EnvCodeError, EnvError, FailedPrecondition, InvalidRequest, Reason, echo

__all__ = [
    "AutoresetMode",
    "Batch",
    "BatchStep",
    "BatchedSpaces",
    "Rows",
    "SubEnvStart",
    "SubEnvs",
    "outside",
]

# Spaces whose batch is one array (Gymnasium's batch_space gives a Box or MultiDiscrete).
FLAT_SPACES = (gs.Box, gs.Discrete, gs.MultiDiscrete, gs.MultiBinary)


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


def outside(space: gs.Space[Any], observation: Any) -> str:
    """Why an observation is not in the space ("" when it is)."""
    try:
        if space.contains(observation):
            return ""
    except Exception:  # a value of a kind the space cannot even compare
        pass
    return f"returned an observation outside {echo(space)}: {summary(observation)}"


class Rows:
    """M observations as one batch of `space`.

    `put` keeps each sub-env's observation as it came (one list store);
    `finish` writes them all at once into one preallocated array (`out`,
    e.g. a worker's shared memory, or a new one) for spaces whose batch is an
    array (Box, Discrete, MultiDiscrete, MultiBinary); other spaces are
    stacked by Gymnasium when the batch is sent. With `check`, observations
    are checked against the space, for arrays as a whole batch (one stack
    that allows only safe casts, one comparison with the bounds), one by one
    only when that fails.
    """

    def __init__(
        self,
        space: gs.Space[Any],
        n: int,
        out: npt.NDArray[Any] | None = None,
        check: bool = False,
        bounds: Bounds | None = None,
    ) -> None:
        self.space = space
        self.n = n
        self.check = check
        self.bounds = bounds
        self.flat = isinstance(space, FLAT_SPACES)
        self.items: list[Any] = [None] * n
        if self.flat:
            assert space.dtype is not None
            self.dtype, self.shape = space.dtype, tuple(space.shape or ())
            self.array: npt.NDArray[Any] = (
                out if out is not None else np.empty((n, *self.shape), space.dtype)
            )

    def put(self, k: int, observation: Any) -> None:
        """Keep the observation of position k (`finish` writes it)."""
        self.items[k] = observation

    def finish(self, failed: Container[int] = ()) -> list[tuple[int, str]]:
        """Write the observations of the positions not `failed` into the batch; the
        positions whose observation lies outside the space (or does not fit), and why."""
        if not self.flat:
            if not self.check:
                return []
            problems = [(k, outside(self.space, x)) for k, x in enumerate(self.items)]
            return [(k, problem) for k, problem in problems if problem and k not in failed]
        if not self.n:
            return []
        items = self.items
        if failed:
            filler = np.zeros(self.shape, self.dtype)
            items = [filler if k in failed else x for k, x in enumerate(items)]
        try:
            np.stack(items, out=self.array, casting="safe" if self.check else "unsafe")
        except Exception:  # some observation is not an array of the space's shape and dtype
            return self._one_by_one(failed)
        if not self.check:
            return []
        low, high = self.bounds or bounds_of(self.space)
        rows = self.array.reshape(self.n, -1)
        above, below = rows >= low, rows <= high
        if above.all() and below.all():  # the common case, in four operations
            return []
        bad = [int(k) for k in np.flatnonzero(~(above & below).all(axis=1)) if k not in failed]
        return [(k, outside(self.space, self.items[k])) for k in bad]

    def _one_by_one(self, failed: Container[int]) -> list[tuple[int, str]]:
        problems = []
        for k, observation in enumerate(self.items):
            if k in failed:
                continue
            problem = outside(self.space, observation) if self.check else ""
            if not problem:
                try:
                    self.array[k] = observation
                except Exception:
                    problem = f"returned an observation that does not fit {echo(self.space)}: "
                    problem += summary(observation)
            if problem:
                problems.append((k, problem))
        return problems

    def row(self, k: int) -> Any:
        """The observation of position k (after `finish`)."""
        return self.array[k] if self.flat else self.items[k]

    def value(self, keep: npt.NDArray[np.bool_] | None = None) -> Any:
        """The batch (only the rows where `keep` is True, when given), in Gymnasium's
        batched form of the space."""
        if self.flat:
            return self.array if keep is None else self.array[keep]
        items = (
            self.items if keep is None else [x for x, k in zip(self.items, keep, strict=True) if k]
        )
        out: Any = create_empty_array(self.space, len(items))
        return concatenate(self.space, items, out)


Bounds = tuple[npt.NDArray[Any], npt.NDArray[Any]]


def bounds_of(space: gs.Space[Any]) -> Bounds:
    """The lowest and highest value (both included) of each element of a flat space, as
    flat arrays (made once per batch of sub-envs, not per step)."""
    if isinstance(space, gs.Box):
        low, high = np.asarray(space.low), np.asarray(space.high)
    elif isinstance(space, gs.Discrete):
        low, high = np.asarray(space.start), np.asarray(space.start + space.n - 1)
    elif isinstance(space, gs.MultiDiscrete):
        low, high = np.asarray(space.start), np.asarray(space.start + space.nvec - 1)
    else:  # MultiBinary
        shape = tuple(space.shape or ())
        low, high = np.zeros(shape, np.int8), np.ones(shape, np.int8)
    return low.reshape(-1), high.reshape(-1)


@dataclass
class BatchStep:
    """The outcome of one batched step of M sub-envs; positions follow the env_ids stepped.

    Failed sub-envs are in `errors` by position; their rows of the arrays
    hold nothing meaningful. `infos` and `reward_components` keep only
    the sub-envs that returned some, in position order.
    """

    rows: Rows
    rewards: npt.NDArray[np.float64]
    terminations: npt.NDArray[np.bool_]
    truncations: npt.NDArray[np.bool_]
    infos: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    reward_components: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    errors: dict[int, BaseException] = field(default_factory=dict)

    @classmethod
    def empty(
        cls,
        space: gs.Space[Any],
        n: int,
        out: npt.NDArray[Any] | None = None,
        check: bool = False,
        bounds: Bounds | None = None,
    ) -> BatchStep:
        return cls(
            Rows(space, n, out, check, bounds),
            np.zeros(n, dtype=np.float64),
            np.zeros(n, dtype=np.bool_),
            np.zeros(n, dtype=np.bool_),
        )

    @property
    def size(self) -> int:
        return self.rows.n

    def in_order(self) -> None:
        """Sort infos and reward components by position (parts filled them out of order)."""
        self.infos.sort(key=_position)
        self.reward_components.sort(key=_position)

    def kept(self) -> npt.NDArray[np.bool_] | None:
        """Where a sub-env succeeded (None when all did)."""
        if not self.errors:
            return None
        keep = np.ones(self.size, dtype=bool)
        keep[list(self.errors)] = False
        return keep

    def result(self, k: int) -> StepResult | BaseException:
        """Position k as one sub-env's result (or its error)."""
        error = self.errors.get(k)
        if error is not None:
            return error
        return StepResult(
            observation=self.rows.row(k),
            reward=float(self.rewards[k]),
            terminated=bool(self.terminations[k]),
            truncated=bool(self.truncations[k]),
            info=next((info for p, info in self.infos if p == k), {}),
            reward_components=next((c for p, c in self.reward_components if p == k), {}),
        )

    @classmethod
    def gather(
        cls, space: gs.Space[Any], outcomes: Sequence[StepResult | BaseException]
    ) -> BatchStep:
        """Single results (EnvPool's recv) as one batch."""
        batch = cls.empty(space, len(outcomes))
        for k, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                batch.errors[k] = outcome
                continue
            batch.rows.put(k, outcome.observation)
            batch.rewards[k] = outcome.reward
            batch.terminations[k] = outcome.terminated
            batch.truncations[k] = outcome.truncated
            if outcome.info:
                batch.infos.append((k, outcome.info))
            if outcome.reward_components:
                batch.reward_components.append((k, outcome.reward_components))
        batch.rows.finish(batch.errors)
        return batch


class Batch:
    """What every batch of sub-envs keeps, wherever its envs run: its size, its autoreset
    mode, and which sub-envs' episodes have ended and not been reset since."""

    def __init__(self, num_envs: int, mode: AutoresetMode) -> None:
        self.num_envs = num_envs
        self.mode = mode
        # True where a sub-env's episode has ended (or never started) and it has not been
        # reset since.
        self._ended = bytearray(b"\x01" * num_envs)  # the step loop's view: fast to index
        self.ended = np.frombuffer(self._ended, dtype=np.bool_)

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

    def refuse_ended(self, env_ids: Sequence[int]) -> None:
        """EPISODE_ENDED when autoreset is disabled and some of these sub-envs have ended."""
        if self.mode is not AutoresetMode.DISABLED:
            return
        ids = np.asarray(env_ids, dtype=np.int64)
        ended = ids[self.ended[ids]].tolist()
        if ended:
            raise FailedPrecondition(
                f"sub-envs {ended[:16]} have ended and autoreset is disabled; reset them "
                "with env_ids first",
                reason=Reason.EPISODE_ENDED,
                metadata={"env_ids": ",".join(map(str, ended[:16]))},
            )


class SubEnvs(Batch):
    """The sub-environments of one batched session (or one worker's slice of them).

    `space` is the observation space the batch buffers follow (by default
    the first env's); with `check`, every observation is checked against it
    and one outside it is that sub-env's error (its episode ends).
    """

    def __init__(
        self,
        envs: Sequence[Environment],
        mode: AutoresetMode,
        space: gs.Space[Any] | None = None,
        check: bool = False,
    ) -> None:
        super().__init__(len(envs), mode)
        self.envs = list(envs)
        self._gyms = [_gymnasium_env(env) for env in self.envs]
        self.space = space if space is not None else self.envs[0].observation_space
        self.check = check
        flat = isinstance(self.space, FLAT_SPACES)
        self._bounds = bounds_of(self.space) if check and flat else None

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
        if self.check:
            problems = [
                (i, outside(self.space, r.observation))
                for i, r in zip(env_ids, results, strict=True)
            ]
            bad = [(i, problem) for i, problem in problems if problem]
            if bad:
                self.ended[[i for i, _ in bad]] = True
                i, problem = bad[0]
                raise EnvCodeError("observation", f"reset of sub-env {i} {problem}")
        return results

    def step_batch(
        self,
        env_ids: Sequence[int],
        actions: Any,
        out: npt.NDArray[Any] | None = None,
        *,
        pool: Executor | None = None,
        chunks: int = 1,
    ) -> BatchStep:
        """Step the given sub-envs in order, one call into each (an ended one is reset
        instead, as the autoreset mode says); observations go into `out` when given. With
        a pool, `chunks` runs of sub-envs step at once (for envs that release the GIL)."""
        self.refuse_ended(env_ids)
        batch = BatchStep.empty(self.space, len(env_ids), out, self.check, self._bounds)
        if pool is None or chunks <= 1:
            self.step_into(batch, 0, env_ids, actions)
        else:
            size = -(-len(env_ids) // chunks)
            parts = [
                pool.submit(self.step_into, batch, k, env_ids[k : k + size], actions[k : k + size])
                for k in range(size, len(env_ids), size)
            ]
            self.step_into(batch, 0, env_ids[:size], actions[:size])
            for part in parts:
                part.result()
            batch.in_order()
        for k, problem in batch.rows.finish(batch.errors):
            self.ended[env_ids[k]] = True
            batch.errors[k] = EnvCodeError("observation", f"sub-env {env_ids[k]} {problem}")
        return batch

    def step_into(self, batch: BatchStep, start: int, env_ids: Sequence[int], actions: Any) -> None:
        """Step env_ids into positions start, start + 1, ... of `batch`. A sub-env that
        raises gets its exception in `batch.errors` and its episode ends; the others go on.
        Chunks of one batch may run on several threads at once (their positions differ).

        The loop is the hot path of a batch: Python lists and a bytearray in it, numpy
        once at the end."""
        envs, gyms, ended, items = self.envs, self._gyms, self._ended, batch.rows.items
        infos, components, errors = batch.infos, batch.reward_components, batch.errors
        rewards: list[Any] = []
        terminations: list[Any] = []
        truncations: list[Any] = []
        autoreset = self.mode is not AutoresetMode.DISABLED
        same_step = self.mode is AutoresetMode.SAME_STEP
        reward: Any
        terminated: Any
        truncated: Any
        for k, (i, action) in enumerate(zip(env_ids, actions, strict=True), start):
            env = envs[i]
            reward, terminated, truncated = 0.0, False, False
            try:
                if ended[i] and autoreset:
                    # NEXT_STEP's reset step; under SAME_STEP only a sub-env whose step failed.
                    reset = env.reset()
                    ended[i] = 0
                    observation, info = reset.observation, reset.info
                else:
                    gym_env = gyms[i]
                    if gym_env is not None:
                        observation, reward, terminated, truncated, info = gym_env.step(action)
                    else:
                        result = env.step(action)
                        if type(result) is not StepResult and not isinstance(result, StepResult):
                            raise TypeError(
                                f"step returned {type(result).__name__}, not StepResult"
                            )
                        observation, info = result.observation, result.info
                        reward, terminated = result.reward, result.terminated
                        truncated = result.truncated
                        if result.reward_components:
                            components.append((k, result.reward_components))
                    if terminated or truncated:
                        if same_step:
                            reset = env.reset()
                            final = {"final_obs": observation, "final_info": dict(info)}
                            info = {**final, **reset.info}
                            observation = reset.observation
                        else:
                            ended[i] = 1
            except Exception as exc:
                ended[i] = 1  # its episode cannot go on; autoreset (or a reset) restarts it
                errors[k] = exc
                observation, info = None, None
            rewards.append(reward)
            terminations.append(terminated)
            truncations.append(truncated)
            items[k] = observation
            if info:
                infos.append((k, info))
        stop = start + len(rewards)
        try:
            batch.rewards[start:stop] = rewards
        except (TypeError, ValueError):  # a reward that is not a number: that sub-env's error
            for k, reward in enumerate(rewards, start):
                try:
                    batch.rewards[k] = reward
                except (TypeError, ValueError) as exc:
                    ended[env_ids[k - start]] = 1
                    errors[k] = TypeError(f"its reward {reward!r} is not a number: {exc}")
        batch.terminations[start:stop] = terminations
        batch.truncations[start:stop] = truncations

    def outcome(self, i: int, action: Any) -> StepResult | BaseException:
        """One sub-env's step (EnvPool's send), its exception in place of a result if it fails."""
        try:
            return self.step_batch([i], [action]).result(0)
        except EnvError as exc:
            return exc

    def states(self) -> list[Any]:
        """Each sub-env's own state()."""
        return [env.state() for env in self.envs]

    def close(self) -> None:
        errors: list[BaseException] = []
        for env in self.envs:
            try:
                env.close()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


def _gymnasium_env(env: Environment) -> gym.Env[Any, Any] | None:
    """The Gymnasium env behind our adapter, whose own `step` (a 5-tuple) a batch calls
    directly: the adapter's StepResult would be one more object per sub-env and step, a
    tenth of a CartPole batch's time. Only for the adapter itself (not its subclasses,
    which may do more in `step`)."""
    return env.env if type(env) is GymnasiumEnvironment else None


def _position(item: tuple[int, Any]) -> int:
    return item[0]


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
