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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, iterate

from ..vector import BatchedSpaces
from .client import DEFAULT_TIMEOUT, EnvClient, StreamSession, tls_credentials
from .results import BatchResetReply, BatchStepReply

StepTuple = tuple[
    Any, npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]
]


class RemoteVectorEnv(VectorEnv[Any, Any, Any]):
    """A vector env whose sub-envs live in batched sessions on one or more servers."""

    def __init__(
        self,
        servers: str | Sequence[tuple[str, int]],
        num_envs: int | None = None,
        *,
        autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
        task_id: str = "",
        timeout: float | None = DEFAULT_TIMEOUT,
        credentials: grpc.ChannelCredentials | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        token: str | None = None,
    ) -> None:
        if isinstance(servers, str):
            if not num_envs:
                raise ValueError("give num_envs with a single server address")
            servers = [(servers, num_envs)]
        if not servers or any(n < 1 for _, n in servers):
            raise ValueError(f"every server needs at least one sub-env: {servers!r}")
        self._shards = [(address, n) for address, n in servers]
        self._clients = [
            EnvClient(
                address,
                timeout=timeout,
                credentials=credentials or tls_credentials(ca_file, cert_file, key_file),
                token=token,
            )
            for address, _ in self._shards
        ]
        spec = self._clients[0].describe()
        for client in self._clients[1:]:
            other = client.describe()
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
        self._streams: list[StreamSession] = []
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
            self._streams = [client.stream() for client in self._clients]
        replies: list[tuple[int, BatchResetReply]] = []
        for shard, stream in enumerate(self._streams):
            offset, n = int(self._offsets[shard]), self._shards[shard][1]
            local = [] if mask is None else np.flatnonzero(mask[offset : offset + n]).tolist()
            if mask is not None and not local:
                continue
            reply = stream.reset_batch(
                n if not stream.session_id else 0,
                autoreset_mode=self.autoreset_mode,
                seed=None if seed is None else seed + offset,
                options=options,
                task_id=self.task_id,
                env_ids=local,
            )
            replies.append((offset, reply))
        infos: dict[str, Any] = {}
        for offset, reply in replies:
            for i, info in zip(reply.env_ids, reply.infos, strict=True):
                if info:
                    infos = self._add_info(infos, info, offset + int(i))
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
            return self._combine([(0, self._streams[0].step_batch(actions))])
        per_env = list(iterate(self.action_space, actions))
        pending = []
        for shard, stream in enumerate(self._streams):
            offset, n = int(self._offsets[shard]), self._shards[shard][1]
            batch = self._actions.stack(per_env[offset : offset + n])
            pending.append((offset, stream, stream.begin_step_batch(batch)))
        return self._combine(
            [(offset, stream.finish_step_batch(seq)) for offset, stream, seq in pending]
        )

    def send(self, actions: Any, env_ids: Sequence[int]) -> None:
        """Start stepping the sub-envs env_ids (EnvPool's send); one server only."""
        self._single_stream().send(actions, env_ids)

    def recv(self, num_envs: int = 0) -> tuple[Any, ...]:
        """The first num_envs sub-envs to finish (EnvPool's recv), as
        (observations, rewards, terminations, truncations, infos, env_ids)."""
        reply = self._single_stream().recv(num_envs)
        infos: dict[str, Any] = {}
        for position, info in enumerate(reply.infos):
            if info:
                infos = self._add_info(infos, info, position)
        return (
            reply.observations,
            reply.rewards,
            reply.terminations,
            reply.truncations,
            infos,
            reply.env_ids,
        )

    def close_extras(self, **kwargs: Any) -> None:
        for stream in self._streams:
            stream.close()
        for client in self._clients:
            client.close()
        self._streams = []

    def _single_stream(self) -> StreamSession:
        if len(self._streams) != 1:
            raise RuntimeError("send and recv need one server and a first reset()")
        return self._streams[0]

    def _combine(self, replies: list[tuple[int, BatchStepReply]]) -> StepTuple:
        infos: dict[str, Any] = {}
        for offset, reply in replies:
            for i, info in zip(reply.env_ids, reply.infos, strict=True):
                if info:
                    infos = self._add_info(infos, info, offset + int(i))
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

    def _merge(self, parts: list[tuple[int, npt.NDArray[np.int64], Any]]) -> Any:
        """The full batch of observations, with the given sub-envs' replaced."""
        if self._observations is None:
            items: list[Any] = [None] * self.num_envs
        else:
            items = list(iterate(self.observation_space, self._observations))
        for offset, env_ids, observations in parts:
            batched = self._batched_observations[len(env_ids)]
            for i, item in zip(env_ids, iterate(batched, observations), strict=True):
                items[offset + int(i)] = item
        return self._batched_observations.stack(items)
