"""The batched half of the servicer: ResetBatch, StepBatch, send and recv.

A batch travels as one message each way: the actions of M sub-envs as one
value of Gymnasium's batched action space (for Discrete, one int64 tensor),
and back their observations as one batched value, rewards, terminations,
truncations and each reward component as one tensor each, and one info per
sub-env.
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
from ..errors import EnvError, InvalidRequest
from ..modes import AUTORESET_FROM_PROTO
from ..sessions import Session, SessionManager, batched
from ..status import to_proto
from ..telemetry import Telemetry, monotonic
from ..tensors import encode_tensor
from ..vector import AutoresetMode, BatchedSpaces, SubEnvStart
from .exposure import EnvErrors
from .limits import check_size


class Batched:
    """Serves batched sessions for one env's spaces."""

    def __init__(
        self,
        sessions: SessionManager,
        observation_space: gs.Space[Any],
        action_space: gs.Space[Any],
        telemetry: Telemetry,
        env_name: str,
        errors: EnvErrors,
        max_options_bytes: int = 0,
    ) -> None:
        self._sessions = sessions
        self._errors = errors
        self._options_limit = max_options_bytes
        self._observations = BatchedSpaces(observation_space)
        self._actions = BatchedSpaces(action_space)
        self._telemetry = telemetry
        self._env_name = env_name

    @staticmethod
    def autoreset_mode(new: pb.NewBatchSession) -> AutoresetMode:
        try:
            return AUTORESET_FROM_PROTO[new.autoreset_mode]
        except KeyError:
            raise InvalidRequest(
                f"autoreset_mode {new.autoreset_mode} is unknown; use NEXT_STEP, SAME_STEP "
                "or DISABLED",
                field="new_session.autoreset_mode",
            ) from None

    async def reset(
        self,
        session: Session,
        request: pb.ResetBatchRequest,
        out: pb.ResetBatchResponse,
        request_id: str,
    ) -> None:
        vector = batched(session)
        ids = vector.check_ids(request.env_ids)
        with self._telemetry.env_span(
            "env.reset",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.batch.size": len(ids),
            },
        ):
            ids, results = await self._sessions.vector_reset(
                session, ids, self._starts(request, ids), request_id
            )
        out.session_id = session.id
        out.episode_id = session.episode_id
        out.env_ids[:] = ids
        encode_value(
            self._observations.stack([r.observation for r in results]), out=out.observations
        )
        _encode_infos([r.info for r in results], out.infos)

    async def step(
        self, session: Session, request: pb.StepBatchRequest, out: pb.StepBatchResponse
    ) -> None:
        ids, actions = self._actions_of(session, request.env_ids, request, "StepBatchRequest")
        start = monotonic()
        with self._telemetry.env_span(
            "env.step",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.episode.id": session.episode_id,
                "openenv.step.index": request.step_index or session.step_count + 1,
                "openenv.batch.size": len(ids),
            },
        ):
            results = await self._sessions.vector_step(session, ids, actions, request.step_index)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(ids))
        self.fill(out, ids, results, request.step_index or session.step_count)

    def send(self, session: Session, request: pb.SendRequest, out: pb.SendResponse) -> None:
        ids, actions = self._actions_of(session, request.env_ids, request, "SendRequest")
        if not request.env_ids:
            raise InvalidRequest(
                "SendRequest.env_ids is empty; name the sub-envs to start", field="env_ids"
            )
        self._sessions.send(session, ids, actions)
        out.env_ids[:] = ids

    async def recv(
        self, session: Session, request: pb.RecvRequest, out: pb.StepBatchResponse
    ) -> None:
        start = monotonic()
        done = await self._sessions.recv(session, request.num_envs)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(done))
        self.fill(out, [i for i, _ in done], [r for _, r in done], session.step_count)

    def fill(
        self,
        out: pb.StepBatchResponse,
        ids: Sequence[int],
        outcomes: Sequence[StepResult | EnvError],
        step_index: int,
    ) -> None:
        """Write M sub-env outcomes into one StepBatchResponse: the results as batches,
        each failed sub-env's error in `sub_env_errors`."""
        results: list[StepResult] = []
        succeeded: list[int] = []
        for i, outcome in zip(ids, outcomes, strict=True):
            if isinstance(outcome, EnvError):
                failure = out.sub_env_errors.add(env_id=i)
                to_proto(self._errors.shown(outcome), failure.status)
            else:
                results.append(outcome)
                succeeded.append(i)
        ids = succeeded
        out.step_index = step_index
        out.env_ids[:] = ids
        encode_value(
            self._observations.stack([r.observation for r in results]), out=out.observations
        )
        encode_tensor(np.array([float(r.reward) for r in results], dtype=np.float64), out.rewards)
        encode_tensor(np.array([bool(r.terminated) for r in results]), out.terminations)
        encode_tensor(np.array([bool(r.truncated) for r in results]), out.truncations)
        names = {name for r in results if r.reward_components for name in r.reward_components}
        for name in sorted(names):
            parts = [float(r.reward_components.get(name, 0.0)) for r in results]
            encode_tensor(np.array(parts, dtype=np.float64), out.reward_components[name])
        _encode_infos([r.info for r in results], out.infos)

    def _actions_of(
        self, session: Session, env_ids: Sequence[int], request: Any, what: str
    ) -> tuple[list[int], list[Any]]:
        ids = batched(session).check_ids(env_ids)
        if not request.HasField("actions"):
            raise InvalidRequest(
                f"{what}.actions is not set; send the batch of actions", field="actions"
            )
        space = self._actions[len(ids)]
        actions = decode_action(request.actions, space)
        return ids, list(iterate(space, actions))

    def _starts(self, request: pb.ResetBatchRequest, ids: Sequence[int]) -> list[SubEnvStart]:
        """Each reset sub-env's start: the same for all (seed + i), or one of its own."""
        limit = self._options_limit
        check_size("all.options", request.all.options, limit)
        for one in request.sub_envs:
            check_size("sub_envs.options", one.options, limit)
        return _starts(request, ids)


def _starts(request: pb.ResetBatchRequest, ids: Sequence[int]) -> list[SubEnvStart]:
    """Each reset sub-env's start: the same for all (seed + i), or one of its own each."""
    if request.sub_envs:
        if request.HasField("all"):
            raise InvalidRequest("set either `all` or `sub_envs`, not both", field="all")
        if len(request.sub_envs) != len(ids):
            raise InvalidRequest(
                f"{len(request.sub_envs)} sub_envs for {len(ids)} sub-envs reset; give one per "
                "entry of env_ids (per sub-env when env_ids is empty)",
                field="sub_envs",
            )
        return [_start(one) for one in request.sub_envs]
    every = request.all
    return SubEnvStart.same_for(
        ids,
        every.seed if every.HasField("seed") else None,
        options=decode_map(every.options),
        task_id=every.task_id,
    )


def _start(one: pb.SubEnvReset) -> SubEnvStart:
    return SubEnvStart(
        one.seed if one.HasField("seed") else None, decode_map(one.options), one.task_id
    )


def _encode_infos(infos: Sequence[dict[str, Any]], out: Any) -> None:
    """One MapValue per sub-env, or none when all are empty (so a plain batch costs nothing)."""
    if any(infos):
        for info in infos:
            encode_map(info, out=out.add())
