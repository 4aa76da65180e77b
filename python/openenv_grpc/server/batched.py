"""The batched half of the servicer: ResetBatch, StepBatch, send and recv.

A batch travels as one message each way: the actions of M sub-envs as one
value of Gymnasium's batched action space (for Discrete, one int64 tensor),
and back their observations as one batched value, rewards, terminations,
truncations and each reward component as one tensor each, and the infos
either in Gymnasium's vector layout (one map of arrays, for sessions created
with INFO_LAYOUT_VECTOR, as our clients do since 1.4) or one map per
sub-env (as before). Everything here works on whole arrays: the only
per-sub-env Python is in `vector.SubEnvs`, next to the env calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces as gs
from gymnasium.vector.utils import iterate

from openenv_proto.v1 import env_service_pb2 as pb

from .. import vector_infos
from ..codec import decode_action, decode_map, encode_map, encode_value
from ..errors import EnvCodeError, EnvError, InvalidRequest
from ..modes import AUTORESET_FROM_PROTO
from ..sessions import Session, SessionManager, batched
from ..status import to_proto
from ..telemetry import Telemetry, monotonic
from ..tensors import decode_tensor, encode_tensor
from ..vector import FLAT_SPACES, AutoresetMode, BatchedSpaces, BatchStep, SubEnvStart
from .exposure import EnvErrors
from .limits import check_size
from .rewards import Scorer
from .tasks import TaskCatalog, selector_of


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
        *,
        tasks: TaskCatalog | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self._sessions = sessions
        self._tasks = tasks or TaskCatalog(())
        self._scorer = scorer or Scorer(None, telemetry, env_name)
        self._errors = errors
        self._options_limit = max_options_bytes
        self._observations = BatchedSpaces(observation_space)
        self._actions = BatchedSpaces(action_space)
        self._action_range = (
            (int(action_space.start), int(action_space.start + action_space.n - 1))
            if isinstance(action_space, gs.Discrete)
            else None
        )
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
        if request.WhichOneof("session") == "new_session":
            session.vector_infos = request.new_session.info_layout == pb.INFO_LAYOUT_VECTOR
        with self._telemetry.env_span(
            "env.reset",
            **{
                "openenv.session.id": session.id,
                "openenv.env.name": self._env_name,
                "openenv.batch.size": len(ids),
            },
        ):
            ids, results = await self._sessions.vector_reset(
                session, ids, self._starts(session, request, ids, request_id), request_id
            )
        out.session_id = session.id
        out.episode_id = session.episode_id
        out.env_ids[:] = ids
        encode_value(
            self._observations.stack([r.observation for r in results]), out=out.observations
        )
        infos = [(k, r.info) for k, r in enumerate(results) if r.info]
        _encode_infos(infos, len(results), session.vector_infos, out)

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
        ) as span:
            scoring = self._scorer.enabled  # the reward hook's scores in place of the env's
            before = self._scorer.before(session, ids, actions) if scoring else []
            batch = await self._sessions.vector_step(session, ids, actions, request.step_index)
            if scoring:
                index = request.step_index or session.step_count
                batch = await self._scorer.batch(session, ids, batch, before, index, span)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(ids))
        self.fill(out, session, ids, batch, request.step_index or session.step_count)

    def send(self, session: Session, request: pb.SendRequest, out: pb.SendResponse) -> None:
        ids, actions = self._actions_of(session, request.env_ids, request, "SendRequest")
        if not request.env_ids:
            raise InvalidRequest(
                "SendRequest.env_ids is empty; name the sub-envs to start", field="env_ids"
            )
        self._sessions.send(session, ids, actions)
        if self._scorer.enabled:
            self._scorer.sent(session, ids, actions)
        out.env_ids[:] = ids

    async def recv(
        self, session: Session, request: pb.RecvRequest, out: pb.StepBatchResponse
    ) -> None:
        start = monotonic()
        done = await self._sessions.recv(session, request.num_envs)
        self._telemetry.record_step(self._env_name, monotonic() - start, sub_envs=len(done))
        batch = BatchStep.gather(self._observations.space, [r for _, r in done])
        ids = [i for i, _ in done]
        if self._scorer.enabled:
            before = self._scorer.received(session, ids)
            batch = await self._scorer.batch(session, ids, batch, before, session.step_count, None)
        self.fill(out, session, ids, batch, session.step_count)

    def fill(
        self,
        out: pb.StepBatchResponse,
        session: Session,
        ids: Sequence[int],
        batch: BatchStep,
        step_index: int,
    ) -> None:
        """Write a batched step of the sub-envs `ids` into one StepBatchResponse: the
        results as arrays, each failed sub-env's error in `sub_env_errors`."""
        for k, error in sorted(batch.errors.items()):
            failure = out.sub_env_errors.add(env_id=ids[k])
            shown = error if isinstance(error, EnvError) else EnvCodeError("step", error)
            to_proto(self._errors.shown(shown), failure.status)
        keep = batch.kept()
        infos, components = batch.infos, batch.reward_components
        if keep is not None:  # only the sub-envs that succeeded, renumbered
            ids = [i for i, kept in zip(ids, keep.tolist(), strict=True) if kept]
            renumber = np.cumsum(keep) - 1
            infos = [(int(renumber[k]), info) for k, info in infos if keep[k]]
            components = [(int(renumber[k]), c) for k, c in components if keep[k]]
        out.step_index = step_index
        out.env_ids[:] = ids
        encode_value(batch.rows.value(keep), out=out.observations)
        for array, field in (
            (batch.rewards, out.rewards),
            (batch.terminations, out.terminations),
            (batch.truncations, out.truncations),
        ):
            encode_tensor(array if keep is None else array[keep], field)
        names = sorted({name for _, parts in components for name in parts})
        for name in names:
            column = np.zeros(len(ids), dtype=np.float64)
            for k, parts in components:
                column[k] = parts.get(name, 0.0)
            encode_tensor(column, out.reward_components[name])
        _encode_infos(infos, len(ids), session.vector_infos, out)

    def _actions_of(
        self, session: Session, env_ids: Sequence[int], request: Any, what: str
    ) -> tuple[list[int], Any]:
        """The sub-envs named and their actions: one array for spaces whose batch is an
        array (its rows are the actions), else one value per sub-env."""
        ids = batched(session).check_ids(env_ids)
        if not request.HasField("actions"):
            raise InvalidRequest(
                f"{what}.actions is not set; send the batch of actions", field="actions"
            )
        space = self._actions[len(ids)]
        actions = self._quick_actions(request.actions, len(ids))
        if actions is None:
            actions = decode_action(request.actions, space)  # checked, or its precise error
        if isinstance(self._actions.space, FLAT_SPACES):
            return ids, actions  # one array: its rows are the sub-envs' actions
        return ids, list(iterate(space, actions))

    def _quick_actions(self, msg: Any, n: int) -> Any:
        """A batch of Discrete actions as int64 array, checked with two comparisons instead
        of Gymnasium's contains (a tenth of a small batch's time); None when the space is
        another or the value is not plainly right, for decode_action to judge."""
        if self._action_range is None or msg.WhichOneof("kind") != "tensor":
            return None
        try:
            actions = decode_tensor(msg.tensor)
        except EnvError:
            return None
        low, high = self._action_range
        if actions.shape != (n,) or actions.dtype != np.int64 or not n:
            return None
        return actions if low <= actions.min() and actions.max() <= high else None

    def _starts(
        self, session: Session, request: pb.ResetBatchRequest, ids: Sequence[int], request_id: str
    ) -> list[SubEnvStart]:
        """Each reset sub-env's start: the same for all (seed + i), or one of its own; its
        task chosen by its selector (not again for a repeat of the last reset)."""
        limit = self._options_limit
        check_size("all.options", request.all.options, limit)
        for one in request.sub_envs:
            check_size("sub_envs.options", one.options, limit)
        starts = _starts(request, ids)
        last = session.last_reset
        if request_id and last is not None and last[0] == request_id:
            return starts
        if request.sub_envs:
            selectors = [selector_of(one) for one in request.sub_envs]
        else:
            every = selector_of(request.all)
            selectors = [every and every.shifted(k) for k in range(len(ids))]
        return [
            dataclasses.replace(start, task_id=self._tasks.task_id(session, i, selector))
            for i, start, selector in zip(ids, starts, selectors, strict=True)
        ]


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


def _encode_infos(
    infos: Sequence[tuple[int, dict[str, Any]]],
    n: int,
    vector: bool,
    out: pb.StepBatchResponse | pb.ResetBatchResponse,
) -> None:
    """The infos of n sub-envs (those not empty, by position): in Gymnasium's vector
    layout, or one MapValue per sub-env; nothing when all are empty (a plain batch costs
    nothing)."""
    if not infos:
        return
    if vector:
        vector_infos.encode(vector_infos.build(infos, n), out.vector_info)
        return
    by_position = dict(infos)
    for k in range(n):
        encode_map(by_position.get(k, {}), out=out.infos.add())
