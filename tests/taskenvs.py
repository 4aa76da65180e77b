"""Envs with tasksets, and reward hooks, for the tasks and rewards tests.

`QuizEnv`'s answers are long distinctive strings, so a test can look for them
in every byte a client receives. The hooks below are named by `--reward`
(`taskenvs:NAME`) in the servers the tests start in-process.
"""

from __future__ import annotations

import string
import threading
from collections.abc import Mapping
from typing import Any

import grpc
from gymnasium import spaces

from openenv_grpc import errors, status
from openenv_grpc.env import Environment, ResetResult, StepResult
from openenv_grpc.rewards import RewardEvent
from openenv_grpc.tasks import TaskSet, pick

SECRET = "SECRET-ANSWER"
CHARSET = string.ascii_letters + string.digits + " -"


def quiz_rows(split: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{split}-{i}",
            "prompt": f"question {i} of {split}",
            "level": i % 3,
            "answer": f"{SECRET}-{split}-{i}",
        }
        for i in range(count)
    ]


QUIZ = TaskSet(
    "quiz",
    {"train": quiz_rows("train", 7), "test": quiz_rows("test", 3)},
    description="Questions whose answers are secrets.",
)
EXTRA = TaskSet("extra", {"eval": quiz_rows("eval", 2)}, default_split="eval")


class QuizEnv(Environment):
    """One question per episode: the observation is its prompt, the right answer scores 1."""

    name = "Quiz"
    observation_space = spaces.Text(200, min_length=0, charset=CHARSET)
    action_space = spaces.Text(200, min_length=0, charset=CHARSET)
    reward_range = (0.0, 1.0)
    tasksets = (QUIZ, EXTRA)
    steps = 0  # env steps taken in this process (class-wide), to see a step is not repeated
    lock = threading.Lock()

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetResult:
        self.task = pick(self, task_id)
        return ResetResult(self.task.prompt, {"task_id": self.task.id})

    def step(self, action: Any) -> StepResult:
        with QuizEnv.lock:
            QuizEnv.steps += 1
        right = action == self.task.get("answer")
        return StepResult(
            observation="right" if right else "wrong",
            reward=float(right),
            terminated=right,
            info={"task_id": self.task.id},
            reward_components={"correct": float(right)},
        )


def call_error(exc: Any) -> errors.EnvError:
    """The EnvError of a failed unary call (a grpc.RpcError), from its details trailer."""
    code = exc.code()
    assert code != grpc.StatusCode.UNKNOWN, exc
    trailers = dict(exc.trailing_metadata() or ())
    return status.from_details(code.value[0], exc.details() or "", trailers.get(status.DETAILS_KEY))


# --- reward hooks (`--reward taskenvs:NAME`) ---------------------------------

SEEN: list[RewardEvent] = []
FAIL = threading.Event()  # set: `flaky` raises
RELEASE = threading.Event()  # set: `hangs` returns


def length(event: RewardEvent) -> float:
    """A float: the action's length (a plain float becomes the "external" component)."""
    SEEN.append(event)
    return float(len(str(event.action)))


def graded(event: RewardEvent) -> Mapping[str, float]:
    """Components (the reward is their sum): the answer checked against the hidden field."""
    SEEN.append(event)
    task = event.task
    right = task is not None and event.action == task.get("answer")
    return {"correct": 2.0 * right, "format": 0.5}


async def graded_async(event: RewardEvent) -> Mapping[str, float]:
    return graded(event)


def flaky(event: RewardEvent) -> float:
    if FAIL.is_set():
        raise RuntimeError("the grader is down")
    SEEN.append(event)
    return 0.25


def hangs(event: RewardEvent) -> float:
    RELEASE.wait(60)
    return 1.0


def malformed(event: RewardEvent) -> Any:
    return "very good"


def fails_for_sub_env_1(event: RewardEvent) -> float:
    if event.env_id == 1:
        raise ValueError("no grade for sub-env 1")
    return 10.0 + event.env_id
