"""Environments that misbehave on purpose, for the fault tests and the soak.

They are served by a real `openenv-grpc serve` subprocess
(`tests/faultenvs.py:FaultEnv`), because a hung call must really hang: it
blocks on an Event that nobody sets, so its thread never returns, and only
a server process that can write such threads off can still exit. (Served
in the test process, a hung env would hold pytest at exit.)

`FaultEnv` behaves well unless asked: a fault is triggered by one action
or one reset option, so a well-behaved session on the same server shows
that the fault stayed in its own session.

- actions 0 and 1 add to a counter that is the observation; `RAISE`
  raises, `HANG` never returns, `SLOW` sleeps past a step timeout and then
  returns normally, `BAD_SHAPE`, `BAD_DTYPE` and `OUT_OF_BOUNDS` return an
  observation outside the observation space;
- reset options: `hang` (never return), `slow` (seconds to sleep first),
  `slow_step` (seconds the `SLOW` action sleeps), `observation`
  ("out_of_bounds": reset observes outside the space), `close` ("raise"
  or "hang": what this instance's close() does).

The constructor faults are classes of their own (a factory takes no
arguments): `UnmakeableEnv` never constructs, `MadeNTimesEnv` constructs
$OPENENV_FAULT_INSTANCES times (the server's own probe instance included)
and then raises, `SlowMakeEnv` and `HungMakeEnv` take long or forever for
every instance after the probe.

With $OPENENV_FAULT_LEDGER set to a file path, every instance appends
"made <id>" when constructed, "close <id>" when its close() starts and
"hang <id>" when it starts to hang, so a test can tell that no env was
left unclosed, or that a call is stuck inside the env, without a clock.
"""

from __future__ import annotations

import enum
import itertools
import os
import threading
import time
from typing import Any

import numpy as np
from gymnasium import spaces as gs

from openenv_grpc import Environment, ResetResult, StepResult

SECRET = "the-env-secret-42"  # in every exception message: shown, or hidden by --hide-env-errors
LEDGER = "OPENENV_FAULT_LEDGER"
INSTANCES = "OPENENV_FAULT_INSTANCES"
MAKE_SECONDS = "OPENENV_FAULT_MAKE_SECONDS"
SLOW_STEP_SECONDS = 2.0  # what SLOW sleeps unless the reset option `slow_step` says otherwise
LIMIT = 1_000_000


class Action(enum.IntEnum):
    """FaultEnv's actions: 0 and 1 step normally, every other one is a fault."""

    ZERO = 0
    ONE = 1
    RAISE = 2
    HANG = 3
    SLOW = 4
    BAD_SHAPE = 5
    BAD_DTYPE = 6
    OUT_OF_BOUNDS = 7


_NEVER = threading.Event()  # nobody ever sets it: a wait on it is a hang
_numbers = itertools.count(1)
_lock = threading.Lock()


def hang(number: int = 0) -> None:
    """Block this thread for good, as a deadlocked or stuck env would (and say so in the
    ledger first, so a test knows without a clock that the call is inside the env)."""
    _record("hang", number)
    _NEVER.wait()
    raise AssertionError("unreachable: nobody sets _NEVER")


def _record(event: str, number: int) -> None:
    path = os.environ.get(LEDGER)
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{event} {os.getpid()}-{number}\n".encode())
        finally:
            os.close(fd)


def ledger(path: os.PathLike[str] | str) -> dict[str, set[str]]:
    """What a ledger file says: the instances "made", those whose "close" started, and
    those that entered a "hang"."""
    events: dict[str, set[str]] = {"made": set(), "close": set(), "hang": set()}
    if os.path.exists(path):
        with open(path) as lines:
            for line in lines:
                event, _, name = line.strip().partition(" ")
                events.setdefault(event, set()).add(name)
    return events


class FaultEnv(Environment):
    """A counter env whose faults are triggered by an action or a reset option."""

    name = "Fault"
    version = "1"
    reward_range = (0.0, 1.0)
    observation_space = gs.Box(low=0, high=LIMIT, shape=(1,), dtype=np.int64)
    action_space = gs.Discrete(len(Action))

    def __init__(self) -> None:
        with _lock:
            self.number = next(_numbers)
        self.count = 0
        self.slow_step = SLOW_STEP_SECONDS
        self.close_fault = ""
        _record("made", self.number)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        options = options or {}
        self.close_fault = str(options.get("close", ""))
        self.slow_step = float(options.get("slow_step", SLOW_STEP_SECONDS))
        if options.get("hang"):
            hang(self.number)
        if options.get("slow"):
            time.sleep(float(options["slow"]))
        self.count = 0
        if options.get("observation") == "out_of_bounds":
            return ResetResult(observation=np.array([-1], dtype=np.int64))
        return ResetResult(observation=self._observe(), info={"instance": self.number})

    def step(self, action: Any) -> StepResult:
        fault = Action(int(action))
        if fault is Action.RAISE:
            raise RuntimeError(f"action RAISE breaks the env ({SECRET})")
        if fault is Action.HANG:
            hang(self.number)
        if fault is Action.SLOW:
            time.sleep(self.slow_step)
        self.count += int(fault is Action.ONE)
        observation: Any = self._observe()
        if fault is Action.BAD_SHAPE:
            observation = np.array([self.count, 0, 0], dtype=np.int64)
        elif fault is Action.BAD_DTYPE:
            observation = np.array([self.count], dtype=np.float32)
        elif fault is Action.OUT_OF_BOUNDS:
            observation = np.array([-1], dtype=np.int64)
        return StepResult(
            observation=observation,
            reward=float(fault is Action.ONE),
            truncated=self.count >= LIMIT,
        )

    def state(self) -> Any:
        return {"count": self.count, "instance": self.number}

    def close(self) -> None:
        _record("close", self.number)
        if self.close_fault == "raise":
            raise RuntimeError(f"close fails on purpose ({SECRET})")
        if self.close_fault == "hang":
            hang(self.number)

    def _observe(self) -> Any:
        return np.array([self.count], dtype=np.int64)


class UnmakeableEnv(FaultEnv):
    """Its constructor always raises: not even the server's probe instance is made."""

    name = "Unmakeable"

    def __init__(self) -> None:
        raise RuntimeError(f"this env cannot be made ({SECRET})")


class MadeNTimesEnv(FaultEnv):
    """Constructs $OPENENV_FAULT_INSTANCES times (default 2: the probe and one session),
    then every construction raises."""

    name = "MadeNTimes"
    made = 0

    def __init__(self) -> None:
        with _lock:
            type(self).made += 1
            nth = type(self).made
        if nth > int(os.environ.get(INSTANCES, "2")):
            raise RuntimeError(f"instance {nth} cannot be made ({SECRET})")
        super().__init__()


class SlowMakeEnv(FaultEnv):
    """Every instance after the server's probe takes $OPENENV_FAULT_MAKE_SECONDS to make."""

    name = "SlowMake"
    made = 0

    def __init__(self) -> None:
        with _lock:
            type(self).made += 1
            nth = type(self).made
        if nth > 1:
            time.sleep(float(os.environ.get(MAKE_SECONDS, "1")))
        super().__init__()


class HungMakeEnv(FaultEnv):
    """Every instance after the server's probe hangs in its constructor."""

    name = "HungMake"
    made = 0

    def __init__(self) -> None:
        with _lock:
            type(self).made += 1
            nth = type(self).made
        if nth > 1:
            hang()
        super().__init__()
