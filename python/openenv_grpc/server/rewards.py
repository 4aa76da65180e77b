"""The reward hook on the server: a RewardService client, and the scoring of steps.

`Scorer` sits between the session table and the wire: after an env step (a
single step, a batched step, or sent steps received) it asks the hook for
each sub-env's score, in parallel for a batch, inside the `env.step` span
(whose `openenv.reward.hook.duration` attribute and `reward.hook` event tell
the hook's latency), and answers a repeated step from memory so a retried step
is neither stepped nor scored twice. A sub-env's hook failure is that
sub-env's error (REWARD_ERROR); the others keep their scores.

`ServiceHook` is the hook of `--reward-service ADDR`: one ScoreStep call per
step on a channel of its own (plaintext: a reward service sits next to the
env server, on loopback or inside the cluster).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
import weakref
from collections.abc import Sequence
from typing import Any

import grpc
from opentelemetry.trace import Span

from openenv_proto.v1 import rewards_pb2, rewards_pb2_grpc

from .. import tasks
from ..codec import encode_map, encode_value
from ..env import StepResult
from ..errors import EnvError, RewardError
from ..rewards import EXTERNAL, RewardEvent, RewardHook, Score, scored
from ..sessions import Session
from ..telemetry import Telemetry
from ..vector import AutoresetMode, BatchStep
from .tasks import task_message


class ServiceHook:
    """A RewardService at `address` as the reward hook."""

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        self.name = f"reward service {address}"
        self.timeout = timeout
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = rewards_pb2_grpc.RewardServiceStub(self._channel)

    async def score(self, event: RewardEvent) -> Score:
        try:
            request = _request(event)
        except Exception as exc:  # a value the contract cannot carry
            raise RewardError(
                self.name, "request", f"could not be sent the step: {str(exc)[:200]}"
            ) from exc
        try:
            reply: rewards_pb2.ScoreStepResponse = await self._stub.ScoreStep(
                request, timeout=self.timeout or None
            )
        except grpc.aio.AioRpcError as err:
            why = "timeout" if err.code() is grpc.StatusCode.DEADLINE_EXCEEDED else "failed"
            raise RewardError(
                self.name, why, f"answered {err.code().name}: {str(err.details())[:200]}"
            ) from None
        except Exception as exc:  # the channel itself failed
            raise RewardError(self.name, "failed", f"failed: {str(exc)[:200]}") from exc
        parts = dict(reply.components)
        if not math.isfinite(reply.reward) or not all(map(math.isfinite, parts.values())):
            raise RewardError(self.name, "malformed", "answered a reward that is not finite")
        return Score(reply.reward, parts or {EXTERNAL: reply.reward})

    async def close(self) -> None:
        await self._channel.close(grace=None)


def _request(event: RewardEvent) -> rewards_pb2.ScoreStepRequest:
    request = rewards_pb2.ScoreStepRequest(
        env_name=event.env_name,
        session_id=event.session_id,
        episode_id=event.episode_id,
        step_index=event.step_index,
        env_id=event.env_id,
        reward=float(event.reward),
        reward_components={k: float(v) for k, v in event.reward_components.items()},
        terminated=bool(event.terminated),
        truncated=bool(event.truncated),
    )
    if event.task is not None:
        task_message(event.task, out=request.task)
        encode_map(event.task.secret, out=request.hidden_fields)
    encode_value(event.action, out=request.action)
    encode_value(event.observation, out=request.observation)
    encode_map(dict(event.info), out=request.info)
    return request


# What a batched sub-env's step needs from before it ran: its action, the task of its
# episode, and whether that episode had ended (then the step is an autoreset, not scored).
_Before = tuple[Any, "tasks.Task | None", bool]


class Scorer:
    """Scores steps with the server's reward hook (see the module docstring)."""

    def __init__(self, hook: RewardHook | None, telemetry: Telemetry, env_name: str) -> None:
        self.hook = hook
        self.enabled = hook is not None
        self._telemetry = telemetry
        self._env_name = env_name
        # The last result scored per session (the env's result object, and what the
        # trainer got), to answer a repeated step; and what sent sub-env steps need.
        self._memo: weakref.WeakKeyDictionary[Session, tuple[object, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._sent: weakref.WeakKeyDictionary[Session, dict[int, _Before]] = (
            weakref.WeakKeyDictionary()
        )

    async def close(self) -> None:
        if self.hook is not None:
            await self.hook.close()

    async def step(
        self,
        session: Session,
        result: StepResult,
        action: Any,
        step_index: int,
        span: Span | None,
    ) -> StepResult:
        """A single-env step's result with the hook's reward (a single env's task changes
        only on reset, so the env's current task is the step's)."""
        assert self.hook is not None
        memo = self._memo.get(session)
        if memo is not None and memo[0] is result:
            answer: StepResult = memo[1]
            return answer
        event = self._event(session, 0, step_index, tasks.current(session.env), action, result)
        started = time.perf_counter()
        try:
            score = await self.hook.score(event)
        except RewardError:
            self._telemetry.reward_hook(span, time.perf_counter() - started, "error")
            raise
        self._telemetry.reward_hook(span, time.perf_counter() - started, "ok")
        answer = scored(result, score)
        self._memo[session] = (result, answer)
        return answer

    def before(self, session: Session, ids: Sequence[int], actions: Sequence[Any]) -> list[_Before]:
        """What each sub-env's step will need, taken before the step runs (a same-step
        autoreset changes the env's task during it)."""
        vector = session.vector
        envs = getattr(vector, "envs", None)
        ended = getattr(vector, "ended", None)
        disabled = getattr(vector, "mode", None) is AutoresetMode.DISABLED
        return [
            (
                action,
                tasks.current(envs[i]) if envs is not None else None,
                bool(ended[i]) and not disabled if ended is not None else False,
            )
            for i, action in zip(ids, actions, strict=True)
        ]

    def sent(self, session: Session, ids: Sequence[int], actions: Sequence[Any]) -> None:
        """Remember sent sub-env steps until they are received."""
        self._sent.setdefault(session, {}).update(
            zip(ids, self.before(session, ids, actions), strict=True)
        )

    def received(self, session: Session, ids: Sequence[int]) -> list[_Before]:
        """What received sub-env steps were sent with."""
        sent = self._sent.get(session, {})
        return [sent.pop(i, (None, None, False)) for i in ids]

    async def batch(
        self,
        session: Session,
        ids: Sequence[int],
        batch: BatchStep,
        before: Sequence[_Before],
        step_index: int,
        span: Span | None,
    ) -> BatchStep:
        """The batch with the hook's reward for each sub-env, scored in parallel: a copy
        (the env's batch stays as it was, for a repeat); a sub-env whose step failed, or
        that took an autoreset step, is left as it is; one whose score failed gets the
        REWARD_ERROR in its place."""
        assert self.hook is not None
        memo = self._memo.get(session)
        if memo is not None and memo[0] is batch:
            answer: BatchStep = memo[1]
            return answer
        jobs: dict[int, asyncio.Future[Score]] = {}
        started = time.perf_counter()
        for k, (i, (action, task, autoreset)) in enumerate(zip(ids, before, strict=True)):
            result = batch.result(k)
            if isinstance(result, StepResult) and not autoreset:
                event = self._event(session, i, step_index, task, action, result)
                jobs[k] = asyncio.ensure_future(self.hook.score(event))
        if not jobs:
            return batch
        await asyncio.wait(jobs.values())
        out = dataclasses.replace(batch, rewards=batch.rewards.copy(), errors=dict(batch.errors))
        parts = dict(batch.reward_components)
        failed = False
        for k, job in jobs.items():
            error = job.exception()
            if error is None:
                score = job.result()
                out.rewards[k] = score.reward
                parts[k] = {**parts.get(k, {}), **score.components}
            else:
                failed = True
                out.errors[k] = (
                    error
                    if isinstance(error, EnvError)
                    else RewardError(self.hook.name, "raised", f"failed: {str(error)[:200]}")
                )
                parts.pop(k, None)
        out.reward_components = sorted(parts.items(), key=lambda item: item[0])
        self._telemetry.reward_hook(
            span, time.perf_counter() - started, "error" if failed else "ok"
        )
        if not failed:  # a failed score is tried again on a repeat of the step
            self._memo[session] = (batch, out)
        return out

    def _event(
        self,
        session: Session,
        env_id: int,
        step_index: int,
        task: tasks.Task | None,
        action: Any,
        result: StepResult,
    ) -> RewardEvent:
        return RewardEvent(
            env_name=self._env_name,
            session_id=session.id,
            episode_id=session.episode_id,
            step_index=step_index,
            env_id=env_id,
            task=task,
            action=action,
            observation=result.observation,
            reward=float(result.reward),
            reward_components=dict(result.reward_components),
            terminated=bool(result.terminated),
            truncated=bool(result.truncated),
            info=result.info,
        )
