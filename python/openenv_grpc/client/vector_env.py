"""`RemoteVectorEnv`: batched sessions as a real `gymnasium.vector.VectorEnv`.

One batched session per server ("shard"), each on its own stream. A step
is one message to each shard and one back, with the shards' messages sent
before any answer is awaited, so several servers step at the same time.
Observations, rewards, terminations, truncations and infos come back in
Gymnasium's vector form, with Gymnasium's autoreset semantics, so code
written for `gymnasium.vector.SyncVectorEnv` runs unchanged:

    envs = RemoteVectorEnv("localhost:50051", num_envs=64)
    envs = RemoteVectorEnv([("pod-a:50051", 32), ("pod-b:50051", 32)])

Beyond Gymnasium, `send` and `recv` step sub-envs EnvPool-style (one shard).

It talks to the asyncio client core (one `AsyncEnvClient` and stream per
shard) on the blocking clients' private loop, driven by the calling thread:
the shards' calls of one reset or step run together. A shard whose stream
is lost (server restarted, session reaped) fails the call that met it, with
its reason; the next `reset` makes that shard's session anew.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar, Unpack, cast

import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, create_empty_array, iterate

from .. import vector_infos
from ..vector import FLAT_SPACES, BatchedSpaces
from .blocking import client_loop
from .client import AsyncEnvClient, AsyncStreamSession, ClientOptions
from .results import BatchResetReply, BatchStepReply

T = TypeVar("T")

StepTuple = tuple[
    Any, npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]
]


class RemoteVectorEnv(VectorEnv[Any, Any, Any]):
    """A vector env whose sub-envs live in batched sessions on one or more servers (takes
    the client's `ClientOptions` keywords: timeout, TLS files, token, ...)."""

    def __init__(
        self,
        servers: str | Sequence[tuple[str, int]],
        num_envs: int | None = None,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        task_id: str = "",
        **options: Unpack[ClientOptions],
    ) -> None:
        if isinstance(servers, str):
            if not num_envs:
                raise ValueError("give num_envs with a single server address")
            servers = [(servers, num_envs)]
        if not servers or any(n < 1 for _, n in servers):
            raise ValueError(f"every server needs at least one sub-env: {servers!r}")
        self._shards = [(address, n) for address, n in servers]
        self._loop = client_loop()
        self._clients = [
            self._loop.make(functools.partial(AsyncEnvClient, address, **options))
            for address, _ in self._shards
        ]
        spec, *others = self._loop.run(_all([client.describe() for client in self._clients]))
        for client, other in zip(self._clients[1:], others, strict=True):
            if (other.observation_space, other.action_space) != (
                spec.observation_space,
                spec.action_space,
            ):
                raise ValueError(f"{client.address} serves other spaces than {spec.env_name}")
        self.num_envs = sum(n for _, n in self._shards)
        self.single_observation_space = spec.observation_space
        self.single_action_space = spec.action_space
        self.observation_space = batch_space(spec.observation_space, self.num_envs)
        self.action_space = batch_space(spec.action_space, self.num_envs)
        self.metadata = {**spec.metadata, "autoreset_mode": autoreset_mode}
        self.render_mode = None
        self.autoreset_mode = autoreset_mode
        self.task_id = task_id
        self._offsets = np.cumsum([0] + [n for _, n in self._shards])
        self._streams: list[AsyncStreamSession] = []
        self._actions = BatchedSpaces(spec.action_space)
        self._batched_observations = BatchedSpaces(spec.observation_space)
        self._observations: Any = None

    @property
    def session_ids(self) -> list[str]:
        """The batched session on each server ([] before the first reset)."""
        return [stream.session_id for stream in self._streams]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is not None and not self._streams:
            raise ValueError("reset_mask needs a first reset of every sub-env")
        if not self._streams:
            self._streams = self._loop.run(_all([client.stream() for client in self._clients]))
        offsets: list[int] = []
        resets: list[Awaitable[BatchResetReply]] = []
        for shard, stream in enumerate(self._streams):
            offset, n = int(self._offsets[shard]), self._shards[shard][1]
            new = not stream.session_id  # its first reset, or its stream was lost: all anew
            local: list[int] = (
                [] if mask is None or new else np.flatnonzero(mask[offset : offset + n]).tolist()
            )
            if mask is not None and not new and not local:
                continue
            offsets.append(offset)
            resets.append(
                stream.reset_batch(
                    n if new else 0,
                    autoreset_mode=self.autoreset_mode,
                    seed=None if seed is None else seed + offset,
                    options=options,
                    task_id=self.task_id,
                    env_ids=local,
                )
            )
        replies = list(zip(offsets, self._loop.run(_all(resets)), strict=True))
        infos = self._infos([(offset + reply.env_ids, reply.info) for offset, reply in replies])
        if mask is None and len(replies) == 1:
            self._observations = replies[0][1].observations
        else:
            self._observations = self._merge(
                [(offset, reply.env_ids, reply.observations) for offset, reply in replies]
            )
        return self._observations, infos

    def step(self, actions: Any) -> StepTuple:
        if not self._streams:
            raise RuntimeError("call reset() before step()")
        if len(self._streams) == 1:
            return self._combine([(0, self._loop.run(self._streams[0].step_batch(actions)))])
        per_env = list(iterate(self.action_space, actions))
        offsets: list[int] = []
        steps: list[Awaitable[BatchStepReply]] = []
        for shard, stream in enumerate(self._streams):
            offset, n = int(self._offsets[shard]), self._shards[shard][1]
            offsets.append(offset)
            steps.append(stream.step_batch(self._actions.stack(per_env[offset : offset + n])))
        return self._combine(list(zip(offsets, self._loop.run(_all(steps)), strict=True)))

    def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """Start stepping the sub-envs env_ids (EnvPool's send); one server only."""
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
        streams, self._streams = self._streams, []
        self._loop.run(_all([stream.close() for stream in streams]))
        self._loop.run(_all([client.close() for client in self._clients]))

    def _single_stream(self) -> AsyncStreamSession:
        if len(self._streams) != 1:
            raise RuntimeError("send and recv need one server and a first reset()")
        return self._streams[0]

    def _combine(self, replies: list[tuple[int, BatchStepReply]]) -> StepTuple:
        infos = self._infos([(offset + reply.env_ids, reply.info) for offset, reply in replies])
        for offset, reply in replies:
            for i, error in reply.errors.items():
                # A sub-env whose step failed: its episode ends, truncated, with the error
                # in its info; it keeps its last observation and the server resets it next.
                failure = {"error": {"reason": error.reason, "message": error.message}}
                infos = self._add_info(infos, failure, offset + i)
        if len(replies) == 1 and not replies[0][1].errors:
            reply = replies[0][1]
            self._observations = reply.observations
            return (
                reply.observations,
                reply.rewards,
                reply.terminations,
                reply.truncations,
                infos,
            )
        self._observations = self._merge(
            [(offset, reply.env_ids, reply.observations) for offset, reply in replies]
        )
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminations = np.zeros(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        for offset, reply in replies:
            where = offset + reply.env_ids
            rewards[where] = reply.rewards
            terminations[where] = reply.terminations
            truncations[where] = reply.truncations
            truncations[[offset + i for i in reply.errors]] = True
        return self._observations, rewards, terminations, truncations, infos

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


async def _all(calls: Sequence[Awaitable[T]]) -> list[T]:
    """The results of calls run together; when some fail, the first error, raised once
    every call has ended (none is left running behind the caller's back)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)
