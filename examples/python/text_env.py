"""Guess the number: a text-in, text-out environment, shaped like an LLM-agent task.

The agent reads a prompt and answers with free text; the env parses the first
integer out of it, says "too low" / "too high", and pays 1.0 for the right
number. Free text (not a Discrete action) is the point: the model may answer
"I think 42" or ramble, so the env grades the format as well as the answer,
and `reward_components` tells a trainer which part of the reward came from
where. Serve it with

    openenv-grpc serve examples/python/text_env.py:make_env --port 50052
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gymnasium import spaces

from openenv_grpc import Environment, ResetResult, StepResult
from openenv_grpc.errors import InvalidArgument

# Letters, digits, punctuation and a plain space: what a model writes on one
# line. Gymnasium's default Text charset is alphanumeric only, which would
# reject every prompt we send and every sentence a model answers with.
CHARSET = string.ascii_letters + string.digits + string.punctuation + " "
FORMAT_PENALTY = -0.1  # an answer with no in-range number wastes an attempt and costs this


@dataclass(frozen=True)
class Task:
    """One difficulty: the secret is drawn from [low, high]; `attempts` guesses allowed."""

    low: int
    high: int
    attempts: int


TASKS = {"easy": Task(1, 100, 8), "hard": Task(1, 1000, 10)}
DEFAULT_TASK = "easy"


class GuessTheNumber(Environment):
    """Find a secret integer from higher/lower feedback within a few attempts."""

    name = "guess-the-number"
    version = "1.0"
    metadata: Mapping[str, Any] = {"tasks": sorted(TASKS), "default_task": DEFAULT_TASK}
    reward_range = (FORMAT_PENALTY, 1.0)
    observation_space = spaces.Text(max_length=200, min_length=1, charset=CHARSET)
    action_space = spaces.Text(max_length=64, min_length=1, charset=CHARSET)

    def __init__(self) -> None:
        self._rng = random.Random()
        self._task_id = DEFAULT_TASK
        self._task = TASKS[DEFAULT_TASK]
        self._secret = 0
        self._guesses: list[int | None] = []
        self._solved = False

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetResult:
        """Pick the task's range and draw a secret, from `seed` when given (reproducible evals)."""
        task_id = task_id or DEFAULT_TASK
        if task_id not in TASKS:
            raise InvalidArgument(
                f"unknown task_id {task_id!r}; this env has {', '.join(sorted(TASKS))} "
                f"(empty means {DEFAULT_TASK!r})"
            )
        if seed is not None:  # Gymnasium's rule: reseed only when asked, else keep drawing
            self._rng = random.Random(seed)
        self._task_id, self._task = task_id, TASKS[task_id]
        self._secret = self._rng.randint(self._task.low, self._task.high)
        self._guesses, self._solved = [], False
        prompt = (
            f"I picked a whole number from {self._task.low} to {self._task.high}. "
            f"Guess it; you have {self._task.attempts} attempts."
        )
        return ResetResult(self._checked(prompt), self._info(hint="start"))

    def step(self, action: str) -> StepResult:
        """Grade one free-text answer: every answer costs an attempt, even an unreadable one."""
        match = re.search(r"-?\d+", action)
        number = int(match.group()) if match else None
        # Only in-range numbers count as guesses (and go into info/state, which
        # must stay encodable: the protocol carries 64-bit ints, a model may not).
        valid = number is not None and self._task.low <= number <= self._task.high
        guess = number if valid else None
        self._guesses.append(guess)
        left = self._attempts_left
        if guess is None:
            said = "No number" if number is None else "No number in range"
            hint = "invalid"
            text = f"{said} in {action[:40]!r}; answer {self._task.low} to {self._task.high}."
        elif guess == self._secret:
            self._solved = True
            hint, text = "correct", f"Correct! It was {guess}."
        else:
            hint = "higher" if guess < self._secret else "lower"
            text = f"{guess} is too {'low' if hint == 'higher' else 'high'}."
        truncated = not self._solved and left == 0
        if truncated:
            text += f" Out of attempts; it was {self._secret}."
        elif not self._solved:
            text += f" {left} attempt{'s' if left > 1 else ''} left."
        components = {
            "correct": 1.0 if self._solved else 0.0,
            "format": FORMAT_PENALTY if guess is None else 0.0,
        }
        return StepResult(
            observation=self._checked(text),
            reward=sum(components.values()),
            terminated=self._solved,
            truncated=truncated,
            info=self._info(hint=hint, guess=guess),
            reward_components=components,
        )

    def state(self) -> dict[str, Any]:
        """Progress for State calls; the secret stays hidden until the episode is over."""
        over = self._solved or self._attempts_left == 0
        return {
            "task_id": self._task_id,
            "guesses": list(self._guesses),
            "attempts_left": self._attempts_left,
            "solved": self._solved,
            "secret": self._secret if over else None,
        }

    @property
    def _attempts_left(self) -> int:
        return self._task.attempts - len(self._guesses)

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {
            "task_id": self._task_id,
            "low": self._task.low,
            "high": self._task.high,
            "attempts_left": self._attempts_left,
            **extra,
        }

    def _checked(self, text: str) -> str:
        # The server does not check observations against the space, but clients
        # trust it (an LLM tokenizer, a replay buffer), so catch a stray character here.
        if not self.observation_space.contains(text):
            raise ValueError(f"observation outside {self.observation_space}: {text!r}")
        return text


def make_env() -> GuessTheNumber:
    """The factory `openenv-grpc serve examples/python/text_env.py:make_env` calls per session."""
    return GuessTheNumber()
