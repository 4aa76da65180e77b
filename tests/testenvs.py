"""Small environments whose behaviour the tests control and can predict."""

from __future__ import annotations

import os
import pathlib
import threading
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult
from openenv_grpc.errors import InvalidArgument


class CounterEnv(Environment):
    """Adds each action to a counter; terminates when the counter reaches `limit`.

    Its state is per instance, so sessions that share it would show it.
    Action 3 raises inside step (a bug in env code); the task "refuse"
    makes reset refuse with InvalidArgument (an env's own precise error);
    the reset option "leak" makes every step put an unencodable object in info.
    """

    name = "Counter"
    version = "1.2"
    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "author": "tests"}
    reward_range = (0.0, 3.0)
    observation_space = gs.Box(low=0, high=1_000_000, shape=(1,), dtype=np.int64)
    action_space = gs.Discrete(4)
    limit = 10

    def __init__(self) -> None:
        self.count = 0
        self.leak = False
        self.closed = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        if task_id == "refuse":
            raise InvalidArgument("task 'refuse' is refused on purpose")
        self.count = int((options or {}).get("start", 0))
        self.leak = bool((options or {}).get("leak", False))
        return ResetResult(
            observation=np.array([self.count], dtype=np.int64),
            info={"seed": seed, "task_id": task_id, "options": options or {}},
        )

    def step(self, action: Any) -> StepResult:
        if int(action) == 3:
            raise RuntimeError("action 3 breaks the counter")
        self.count += int(action)
        return StepResult(
            observation=np.array([self.count], dtype=np.int64),
            reward=float(action),
            terminated=self.count >= self.limit,
            info={"count": self.count, "nested": {"list": [1, "two", None], "flag": True}}
            | ({"leak": object()} if self.leak else {}),
            reward_components={"bonus": 0.5, "base": float(action)},
        )

    def state(self) -> Any:
        return {"count": self.count}

    def close(self) -> None:
        self.closed = True


class GatedEnv(CounterEnv):
    """A CounterEnv whose step blocks until the test opens the gate.

    `entered` is set when a step has started, so a test knows the env is
    busy without sleeping; `gate` lets it finish.
    """

    name = "Gated"
    entered = threading.Event()
    gate = threading.Event()

    def step(self, action: Any) -> StepResult:
        type(self).entered.set()
        if not type(self).gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        return super().step(action)


def _all_spaces() -> gs.Dict:
    return gs.Dict(
        [
            ("image", gs.Box(0, 255, shape=(4, 3, 2), dtype=np.uint8)),
            ("vector", gs.Box(-1.0, 1.0, shape=(3,), dtype=np.float64)),
            ("half", gs.Box(-2.0, 2.0, shape=(2,), dtype=np.float16)),
            ("discrete", gs.Discrete(5, start=-2)),
            ("multi_discrete", gs.MultiDiscrete([[2, 3], [4, 5]])),
            ("multi_binary", gs.MultiBinary(6)),
            ("text", gs.Text(max_length=12, min_length=1)),
            (
                "nested",
                gs.Tuple(
                    [
                        gs.Discrete(3),
                        gs.Dict([("z", gs.Box(-5, 5, shape=(), dtype=np.int32))]),
                    ]
                ),
            ),
        ]
    )


class AllSpacesEnv(Environment):
    """Observes and acts in a nested Dict of every space kind; echoes the action back."""

    name = "AllSpaces"
    observation_space = _all_spaces()
    action_space = _all_spaces()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        self.observation_space.seed(seed)
        return ResetResult(observation=self.observation_space.sample())

    def step(self, action: Any) -> StepResult:
        return StepResult(observation=action, reward=1.0, info={"echo": True})


class BytesEnv(Environment):
    """Observations of a size chosen per reset, to test large messages byte for byte."""

    name = "Bytes"
    observation_space = gs.Box(0, 255, shape=(16 * 2**20,), dtype=np.uint8)
    action_space = gs.Box(0, 255, shape=(16 * 2**20,), dtype=np.uint8)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        rng = np.random.default_rng(seed)
        return ResetResult(observation=rng.integers(0, 256, size=16 * 2**20, dtype=np.uint8))

    def step(self, action: Any) -> StepResult:
        return StepResult(observation=action)


class FifoGatedEnv(CounterEnv):
    """A CounterEnv for server subprocesses: step reports entry and waits, through FIFOs.

    The test makes two named pipes in $OPENENV_TEST_FIFOS: step writes a byte
    to `entered` (which blocks until the test reads it, so the test knows the
    step is running) and then reads a byte from `release` (which blocks
    until the test writes it). No clock is involved on either side.
    """

    name = "FifoGated"

    def step(self, action: Any) -> StepResult:
        fifos = pathlib.Path(os.environ["OPENENV_TEST_FIFOS"])
        with open(fifos / "entered", "wb") as entered:
            entered.write(b"x")
        with open(fifos / "release", "rb") as release:
            release.read(1)
        return super().step(action)


class LatchEnv(CounterEnv):
    """A CounterEnv whose step of action 2 waits for the test to open `latch`.

    Other actions step at once, so in one batch some sub-envs finish while
    another is still held: what EnvPool-style recv must tell apart.
    """

    name = "Latch"
    latch = threading.Event()

    def step(self, action: Any) -> StepResult:
        if int(action) == 2 and not type(self).latch.wait(timeout=60):
            raise TimeoutError("the test never opened the latch")
        return super().step(action)
