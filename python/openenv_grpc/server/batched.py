"""The batched half of the servicer: reset, step, send and recv of batched sessions.

A batch travels as one message each way: the actions of M sub-envs as one
value of Gymnasium's batched action space (for Discrete, one int64 tensor),
and back their observations as one batched value, rewards, terminations and
truncations as one tensor each, and one info per sub-env.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces as gs
from gymnasium.vector.utils import iterate

from openenv_proto.v1 import env_service_pb2 as pb

from ..codec import decode_action, decode_map, encode_map, encode_value
from ..env import StepResult
from ..errors import InvalidArgument
from ..sessions import Session, SessionManager
from ..telemetry import Telemetry, monotonic
from ..tensors import encode_tensor
from ..vector import AUTORESET_FROM_PROTO, AutoresetMode, BatchedSpaces


def autoreset_mode(request: pb.ResetRequest) -> AutoresetMode:
    try:
        return AUTORESET_FROM_PROTO[request.autoreset_mode]
    except KeyError:
        raise InvalidArgument(
            f"autoreset_mode {request.autoreset_mode} is unknown; use NEXT_STEP, SAME_STEP "
            "or DISABLED"
        ) from None


class Batched:
    """Serves batched sessions for one env's spaces."""

    def __init__(
        self,
        sessions: SessionManager,
        observation_space: gs.Space[Any],
        action_space: gs.Space[Any],
        telemetry: Telemetry,
        env_name: str,
    ) -> None:
        self._sessions = sessions
        self._observations = BatchedSpaces(observation_space)
        self._actions = BatchedSpaces(action_space)
        self._telemetry = telemetry
        self._env_name = env_name

    async def reset(
        self, session: Session, request: pb.ResetRequest, out: pb.ResetResponse
    ) -> None:
        with self._telemetry.env_span(
            "env.reset",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.batch.size": len(request.env_ids) or _num_envs(session),
            },
        ):
            ids, results = await self._sessions.vector_reset(
                session,
                list(request.env_ids),
                seed=request.seed if request.HasField("seed") else None,
                options=decode_map(request.options),
                task_id=request.task_id,
            )
        out.session_id = session.id
        out.episode_id = session.episode_id
        out.env_ids[:] = ids
        encode_value(
            self._observations.stack([r.observation for r in results]), out=out.observation
        )
        _encode_infos([r.info for r in results], out.infos)

    async def step(self, session: Session, request: pb.StepRequest, out: pb.StepResponse) -> None:
        ids, actions = self._actions_of(session, request)
        start = monotonic()
        with self._telemetry.env_span(
            "env.step",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.episode.id": session.episode_id,
                "openenv.step.index": session.step_count + 1,
                "openenv.batch.size": len(ids),
            },
        ):
            results = await self._sessions.vector_step(session, ids, actions)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(ids))
        self.fill(out, ids, results, session.step_count)

    def send(self, session: Session, request: pb.StepRequest, out: pb.SendResponse) -> None:
        ids, actions = self._actions_of(session, request)
        self._sessions.send(session, ids, actions)
        out.env_ids[:] = ids

    async def recv(self, session: Session, request: pb.RecvRequest, out: pb.StepResponse) -> None:
        start = monotonic()
        done = await self._sessions.recv(session, request.num_envs)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(done))
        self.fill(out, [i for i, _ in done], [r for _, r in done], session.step_count)

    def fill(
        self, out: pb.StepResponse, ids: Sequence[int], results: Sequence[StepResult], count: int
    ) -> None:
        """Write M sub-env results into one batched StepResponse."""
        out.step_count = count
        out.env_ids[:] = ids
        encode_value(
            self._observations.stack([r.observation for r in results]), out=out.observation
        )
        encode_tensor(np.array([float(r.reward) for r in results], dtype=np.float64), out.rewards)
        encode_tensor(np.array([bool(r.terminated) for r in results]), out.terminations)
        encode_tensor(np.array([bool(r.truncated) for r in results]), out.truncations)
        infos = [
            {**r.info, "reward_components": dict(r.reward_components)}
            if r.reward_components
            else r.info
            for r in results
        ]
        _encode_infos(infos, out.infos)

    def _actions_of(self, session: Session, request: pb.StepRequest) -> tuple[list[int], list[Any]]:
        if request.WhichOneof("input") != "action":
            raise InvalidArgument("StepRequest.action is not set; send the batch of actions")
        vector = session.vector
        if vector is None:
            raise InvalidArgument("env_ids are for batched sessions; this session holds one env")
        ids = vector.check_ids(request.env_ids)
        space = self._actions[len(ids)]
        actions = decode_action(request.action, space)
        return ids, list(iterate(space, actions))


def _num_envs(session: Session) -> int:
    return session.vector.num_envs if session.vector is not None else 1


def _encode_infos(infos: Sequence[dict[str, Any]], out: Any) -> None:
    """One MapValue per sub-env, or none when all are empty (so a plain batch costs nothing)."""
    if any(infos):
        for info in infos:
            encode_map(info, out=out.add())
