"""`RemoteVectorEnv`: batched sessions as a real `gymnasium.vector.VectorEnv`.

Its sub-envs live in batched sessions on one or more servers. A step is one
message to each session and one back, with every message sent before any
answer is awaited, so several servers step at the same time. Observations,
rewards, terminations, truncations and infos come back in Gymnasium's
vector form, with Gymnasium's autoreset semantics, so code written for
`gymnasium.vector.SyncVectorEnv` runs unchanged:

    envs = RemoteVectorEnv("localhost:50051", num_envs=64)
    envs = RemoteVectorEnv("dns:///envs.training.svc:50051", num_envs=256)
    envs = RemoteVectorEnv(["pod-a:50051", "pod-b:50051"], num_envs=64)
    envs = RemoteVectorEnv([("pod-a:50051", 32), ("pod-b:50051", 32)])

Given a target and num_envs, the first reset spreads the sub-envs over the
target's servers by the room each has now (`placement.py`: Describe's limits
less its load; a draining or full server gets none); given (address, n)
pairs, it places them so.

Servers come and go. When a step meets a server that is gone (killed,
drained, its session reaped), that server's sub-envs end their episodes in
that very step: truncated, reward 0, their last observation, and the reason
in `info["error"]` (masked by `info["_error"]`), as a sub-env whose step
failed does; one whose episode had ended in the step before is not ended
twice: its row has the error in info and no end flag. The next step (or
reset) makes them anew on the servers alive then, placed by room again, and
returns their first observations as an autoreset step does. No episode is
lost silently and none is reported twice. `on_lost="raise"` raises the
error instead; the other servers' results of that step go with it, so
`step` then raises `ResetNeeded` until a `reset()` of every sub-env.

Beyond Gymnasium, `send` and `recv` step sub-envs EnvPool-style (one session).

It talks to the asyncio client core (one `AsyncEnvClient` over the target,
one stream per batched session) on the blocking clients' private loop,
driven by the calling thread.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Unpack, cast

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, create_empty_array, iterate

from .. import vector_infos
from ..errors import Code, EnvError, Unavailable
from ..vector import FLAT_SPACES, BatchedSpaces
from .blocking import client_loop
from .client import AsyncEnvClient, AsyncStreamSession, ClientOptions
from .endpoints import elsewhere
from .placement import room, spread
from .results import BatchResetReply, BatchStepReply

T = TypeVar("T")

StepTuple = tuple[
    Any, npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]
]

RECREATE_BACKOFF_SECONDS = 0.2
"""How long to wait before placing lost sub-envs again when no server took them."""


@dataclass(eq=False)
class _Part:
    """Sub-envs offset .. offset + n - 1 of the batch, in one batched session (`stream`;
    None once its server is gone: then `lost` says why, until it is made anew)."""

    offset: int
    n: int
    address: str
    stream: AsyncStreamSession | None = None
    lost: EnvError | None = None

    @property
    def end(self) -> int:
        return self.offset + self.n


def _address(server: str | tuple[str, int]) -> str:
    return server if isinstance(server, str) else server[0]


class RemoteVectorEnv(VectorEnv[Any, Any, Any]):
    """A vector env whose sub-envs live in batched sessions on one or more servers (takes
    the client's `ClientOptions` keywords: timeout, TLS files, token, ...)."""

    def __init__(
        self,
        servers: str | Sequence[str] | Sequence[tuple[str, int]],
        num_envs: int | None = None,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        task_id: str = "",
        on_lost: Literal["truncate", "raise"] = "truncate",
        **options: Unpack[ClientOptions],
    ) -> None:
        given: list[str | tuple[str, int]] = (
            [servers] if isinstance(servers, str) else [cast(Any, s) for s in servers]
        )
        placed = [(s[0], int(s[1])) for s in given if not isinstance(s, str)]
        if placed and len(placed) != len(given):
            raise ValueError("give addresses, or (address, num_envs) pairs, not both")
        if any(n < 1 for _, n in placed):
            raise ValueError(f"every server needs at least one sub-env: {servers!r}")
        num_envs = sum(n for _, n in placed) if placed else num_envs
        if not num_envs or num_envs < 1:
            raise ValueError("give num_envs with a target (an address, a list, a dns: name)")
        target = servers if isinstance(servers, str) else [_address(s) for s in given]
        self._loop = client_loop()
        self._client = self._loop.make(functools.partial(AsyncEnvClient, target, **options))
        self._timeout = options.get("timeout", 60.0)
        spec = self._loop.run(self._client.describe())
        self._spec = spec
        self.num_envs = num_envs
        self.single_observation_space = spec.observation_space
        self.single_action_space = spec.action_space
        self.observation_space = batch_space(spec.observation_space, self.num_envs)
        self.action_space = batch_space(spec.action_space, self.num_envs)
        self.metadata = {**spec.metadata, "autoreset_mode": autoreset_mode}
        self.render_mode = None
        self.autoreset_mode = autoreset_mode
        self.task_id = task_id
        self.on_lost = on_lost
        self._first_placement = placed
        self._parts: list[_Part] = [_Part(0, num_envs, "")]  # placed by the first reset
        self._actions = BatchedSpaces(spec.action_space)
        self._batched_observations = BatchedSpaces(spec.observation_space)
        self._observations: Any = None
        self._started = False
        # The sub-envs whose last row ended their episode and that await their reset
        # (NEXT_STEP's autoreset, DISABLED's reset); under SAME_STEP none ever does.
        self._ended = np.zeros(num_envs, dtype=np.bool_)
        self._reset_needed = ""  # why, after a loss raised under on_lost="raise"

    @property
    def session_ids(self) -> list[str]:
        """The batched session of each part of the batch ([] before the first reset; ""
        for a part whose server is gone, until it is made anew)."""
        if not self._started:
            return []
        return [part.stream.session_id if part.stream else "" for part in self._parts]

    @property
    def placement(self) -> list[tuple[str, int]]:
        """Where the sub-envs are, in order: (server address, how many) per batched
        session; "" for a part not placed (before the first reset) or whose server is
        gone (until the next step or reset)."""
        return [(part.address if part.stream else "", part.n) for part in self._parts]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is not None and not self._started:
            raise ValueError("reset_mask needs a first reset of every sub-env")
        return self._loop.run(self._reset(seed, options, mask))

    def step(self, actions: Any) -> StepTuple:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._reset_needed:
            raise gym.error.ResetNeeded(self._reset_needed)
        return self._loop.run(self._step(actions))

    async def _reset(
        self, seed: int | None, options: dict[str, Any], mask: Any
    ) -> tuple[Any, dict[str, Any]]:
        def chosen(part: _Part) -> bool:
            return mask is None or bool(np.any(mask[part.offset : part.offset + part.n]))

        made = await self._renew(chosen, seed, options)
        self._started = True
        offsets: list[int] = []
        resets: list[Awaitable[BatchResetReply]] = []
        for part in self._parts:
            if part in made or not chosen(part) or part.stream is None:
                continue
            local = [] if mask is None else np.flatnonzero(mask[part.offset : part.end]).tolist()
            offsets.append(part.offset)
            resets.append(self._reset_part(part, seed, options, local))
        replies = list(zip(offsets, await _all(resets), strict=True))
        replies += [(part.offset, reply) for part, reply in made.items()]
        for offset, reply in replies:
            self._ended[offset + reply.env_ids] = False
        if mask is None:
            self._reset_needed = ""
        infos = self._infos([(offset + reply.env_ids, reply.info) for offset, reply in replies])
        if len(replies) == 1 and len(replies[0][1].env_ids) == self.num_envs:
            self._observations = replies[0][1].observations
        else:
            self._observations = self._merge(
                [(offset, reply.env_ids, reply.observations) for offset, reply in replies]
            )
        return self._observations, infos

    async def _step(self, actions: Any) -> StepTuple:
        made = await self._renew(lambda part: part.stream is None, None, {})
        stepping = [part for part in self._parts if part not in made]
        if len(stepping) == 1 and stepping[0].n == self.num_envs:
            chunks = [actions]  # one session holds them all, in order
        else:
            per_env = list(iterate(self.action_space, actions))
            chunks = [self._actions.stack(per_env[part.offset : part.end]) for part in stepping]
        answers = await _settled(
            [
                cast(AsyncStreamSession, part.stream).step_batch(chunk)
                for part, chunk in zip(stepping, chunks, strict=True)
            ]
        )
        steps: list[tuple[int, BatchStepReply]] = []
        lost: list[tuple[_Part, EnvError]] = []
        for part, answer in zip(stepping, answers, strict=True):
            if isinstance(answer, BaseException):
                if not self._is_lost(part, answer):
                    raise answer
                lost.append((part, cast(EnvError, answer)))
            else:
                steps.append((part.offset, answer))
        for part, error in lost:
            part.stream, part.lost = None, error  # made anew by the next step or reset
        if lost and self.on_lost == "raise":
            # The other parts' results of this step are gone with it: only a reset of
            # every sub-env goes on from a known state.
            self._reset_needed = (
                f"a server was lost ({lost[0][1].message}), raised by the step that met it; "
                "call reset() to start every sub-env anew"
            )
            raise lost[0][1]
        return self._combine(steps, [(part.offset, reply) for part, reply in made.items()], lost)

    @staticmethod
    def _is_lost(part: _Part, answer: BaseException) -> bool:
        """Whether a part's call failed because its session is gone (its stream ended
        under the call), not because of what was asked."""
        return isinstance(answer, EnvError) and part.stream is not None and part.stream.lost

    async def _renew(
        self, which: Callable[[_Part], bool], seed: int | None, options: dict[str, Any]
    ) -> dict[_Part, BatchResetReply]:
        """Make the sessions of the parts that have none and `which` picks (never placed,
        or their server gone) on the servers alive now, by their room, and reset them:
        each new part and its first reset. Servers that fail on the way are left out and
        the placement tried again, for the client's timeout; then Unavailable."""
        made: dict[_Part, BatchResetReply] = {}
        for part in [part for part in self._parts if part.stream is None and which(part)]:
            new = await self._remake(part, seed, options)
            k = self._parts.index(part)
            self._parts[k : k + 1] = list(new)
            made.update(new)
        return made

    async def _remake(
        self, part: _Part, seed: int | None, options: dict[str, Any]
    ) -> dict[_Part, BatchResetReply]:
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            new: list[_Part] = []
            try:
                offset = part.offset
                for address, n in await self._sizes(part.n):
                    new.append(
                        _Part(offset, n, address, await self._client.stream(endpoint=address))
                    )
                    offset += n
                replies = await _all([self._reset_part(p, seed, options, []) for p in new])
                return dict(zip(new, replies, strict=True))
            except EnvError as error:
                await _all([p.stream.close() for p in new if p.stream is not None])
                # Sub-envs whose server is gone wait for room elsewhere (pods being
                # replaced); a first placement that finds none fails at once.
                retry = part.lost is not None and (
                    elsewhere(error) or error.code == Code.UNAVAILABLE
                )
                if not retry or (deadline is not None and time.monotonic() > deadline):
                    raise
            await asyncio.sleep(RECREATE_BACKOFF_SECONDS)  # no server took them: again

    async def _sizes(self, n: int) -> list[tuple[str, int]]:
        """Batched sessions for n sub-envs: the first placement as given, else spread
        over the servers alive now by their room."""
        if self._first_placement:
            sizes, self._first_placement = self._first_placement, []
            return sizes
        loads = await self._client.loads()
        rooms: list[tuple[str, float, int]] = []
        for address, answer in loads.items():
            if isinstance(answer, EnvError):
                continue
            spec, load = answer
            if (spec.observation_space, spec.action_space) != (
                self.single_observation_space,
                self.single_action_space,
            ):
                raise ValueError(f"{address} serves other spaces than {self._spec.env_name}")
            rooms.append((address, room(spec, load), spec.capabilities.max_num_envs))
        if not rooms:
            errors = "; ".join(
                f"{a}: {e.message}" for a, e in loads.items() if isinstance(e, EnvError)
            )
            raise Unavailable(f"no server of {self._client.address} answers ({errors})")
        return spread(n, rooms)

    def _reset_part(
        self, part: _Part, seed: int | None, options: dict[str, Any], env_ids: list[int]
    ) -> Awaitable[BatchResetReply]:
        stream = cast(AsyncStreamSession, part.stream)
        new = not stream.session_id  # made by this reset: all its sub-envs anew
        return stream.reset_batch(
            part.n if new else 0,
            autoreset_mode=self.autoreset_mode,
            seed=None if seed is None else seed + part.offset,
            options=options,
            task_id=self.task_id,
            env_ids=[] if new else env_ids,
        )

    def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """Start stepping the sub-envs env_ids (EnvPool's send); one session only."""
        self._loop.run(self._single_stream().send(actions, env_ids))

    def recv(self, num_envs: int = 0) -> tuple[Any, ...]:
        """The first num_envs sub-envs to finish (EnvPool's recv), as
        (observations, rewards, terminations, truncations, infos, env_ids)."""
        reply = self._loop.run(self._single_stream().recv(num_envs))
        return (
            reply.observations,
            reply.rewards,
            reply.terminations,
            reply.truncations,
            reply.info,  # Gymnasium's layout, one entry per entry of env_ids (as EnvPool's)
            reply.env_ids,
        )

    def close_extras(self, **kwargs: Any) -> None:
        streams = [part.stream for part in self._parts if part.stream is not None]
        self._parts = [_Part(0, self.num_envs, "")]
        self._loop.run(_all([stream.close() for stream in streams]))
        self._loop.run(self._client.close())

    def _single_stream(self) -> AsyncStreamSession:
        if len(self._parts) != 1 or self._parts[0].stream is None:
            raise RuntimeError("send and recv need one batched session and a first reset()")
        return self._parts[0].stream

    def _combine(
        self,
        steps: list[tuple[int, BatchStepReply]],
        resets: list[tuple[int, BatchResetReply]],
        lost: list[tuple[_Part, EnvError]],
    ) -> StepTuple:
        """One step of the whole batch from its parts: the steps, the first resets of
        parts made anew (an autoreset step for their sub-envs), and the parts whose
        server is gone (their episodes end, truncated, with the reason)."""
        answered: list[tuple[int, BatchStepReply | BatchResetReply]] = [*steps, *resets]
        infos = self._infos([(offset + reply.env_ids, reply.info) for offset, reply in answered])
        for offset, reply in steps:
            for i, error in reply.errors.items():
                # A sub-env whose step failed: its episode ends, truncated, with the error
                # in its info; it keeps its last observation and the server resets it next.
                infos = self._add_error(infos, offset + i, error.reason, error.message)
        for part, error in lost:
            reason = error.reason or error.code.name
            for i in range(part.offset, part.end):
                infos = self._add_error(infos, i, reason, error.message)
        if len(steps) == 1 and not resets and not lost and not steps[0][1].errors:
            reply = steps[0][1]
            if len(reply.env_ids) == self.num_envs:
                self._observations = reply.observations
                if self.autoreset_mode is not AutoresetMode.SAME_STEP:
                    self._ended = reply.terminations | reply.truncations
                return (
                    reply.observations,
                    reply.rewards,
                    reply.terminations,
                    reply.truncations,
                    infos,
                )
        self._observations = self._merge(
            [(offset, reply.env_ids, reply.observations) for offset, reply in answered]
        )
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminations = np.zeros(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        for offset, reply in steps:
            where = offset + reply.env_ids
            rewards[where] = reply.rewards
            terminations[where] = reply.terminations
            truncations[where] = reply.truncations
            truncations[[offset + i for i in reply.errors]] = True
        for part, _ in lost:
            # Their episodes end here, but one that ended in the last row is not ended
            # twice: it has its error in info, and its first observation next step.
            truncations[part.offset : part.end] = ~self._ended[part.offset : part.end]
        if self.autoreset_mode is not AutoresetMode.SAME_STEP:
            self._ended = terminations | truncations
        return self._observations, rewards, terminations, truncations, infos

    def _add_error(
        self, infos: dict[str, Any], i: int, reason: str, message: str
    ) -> dict[str, Any]:
        return self._add_info(infos, {"error": {"reason": reason, "message": message}}, i)

    def _infos(self, parts: list[tuple[npt.NDArray[np.int64], dict[str, Any]]]) -> dict[str, Any]:
        """The infos of the whole batch, in Gymnasium's vector layout, from the layouts of
        some sub-envs (each part: their positions in the batch, and their layout)."""
        if not any(info for _, info in parts):
            return {}
        if len(parts) == 1:
            where, info = parts[0]
            if len(where) == self.num_envs and np.array_equal(where, np.arange(self.num_envs)):
                return info  # one server answered for every sub-env, in order
        infos: dict[str, Any] = {}
        for where, info in parts:
            if info:
                infos = vector_infos.scatter(infos, info, where, self.num_envs)
        return infos

    def _merge(self, parts: list[tuple[int, npt.NDArray[np.int64], Any]]) -> Any:
        """The full batch of observations, with the given sub-envs' replaced."""
        if isinstance(self.single_observation_space, FLAT_SPACES):  # one array: scatter rows
            full: Any = (
                create_empty_array(self.single_observation_space, self.num_envs)
                if self._observations is None
                else np.array(self._observations)
            )
            for offset, env_ids, observations in parts:
                full[offset + env_ids] = observations
            return full
        if self._observations is None:
            items: list[Any] = [None] * self.num_envs
        else:
            items = list(iterate(self.observation_space, self._observations))
        for offset, env_ids, observations in parts:
            batched = self._batched_observations[len(env_ids)]
            for i, item in zip(env_ids, iterate(batched, observations), strict=True):
                items[offset + int(i)] = item
        return self._batched_observations.stack(items)


async def _settled(calls: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    """The results of calls run together, each its result or its exception (one call is
    awaited as it is: a gather would cost a task)."""
    if len(calls) == 1:
        try:
            return [await calls[0]]
        except Exception as exc:
            return [exc]
    return await asyncio.gather(*calls, return_exceptions=True)


async def _all(calls: Sequence[Awaitable[T]]) -> list[T]:
    """The results of calls run together; when some fail, the first error, raised once
    every call has ended (none is left running behind the caller's back)."""
    results = await _settled(calls)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)
