"""Sub-env worker processes: a batched session's sub-envs stepped in N child processes.

With `serve --vector-processes N` the sub-envs of each batched session are
split into N contiguous slices, each held by a worker process that makes
its own envs (from the ENV spec, or from the factory when it pickles) and
runs a `vector.SubEnvs` of its slice, as Gymnasium's `AsyncVectorEnv` and
EnvPool do: pure-Python envs then use every core. A batched step sends
every worker its actions before it waits for any. Observations (of spaces
whose batch is one array), rewards, terminations and truncations come back
through shared memory (`_Bus`, one per worker, written in place by the
worker's `SubEnvs`); only infos and errors, small and most often empty, are
pickled through the worker's pipe.

Processes start from a forkserver with this module preloaded: never a fork
of the gRPC process, whose threads a fork would break. A worker that dies
is reported as an env error (ENV_ERROR) of each of its sub-envs; one that
does not answer within the step timeout is killed and its sub-envs get
ENV_TIMEOUT. Either way a new worker takes the slice (its sub-envs start
new episodes), the other workers' results are kept, and the session goes
on. A worker dies with its server: it asks the kernel for SIGKILL when its
parent (the forkserver, which exits with the server) dies, and it exits
when its pipe closes.

No grpc here (nor in the workers): only env code and numpy.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import numpy.typing as npt
from google.rpc import status_pb2
from gymnasium import spaces as gs

from .env import EnvFactory, Environment, ResetResult
from .errors import DeadlineExceeded, EnvCodeError, EnvError, EnvTimeout, Reason
from .loader import load_env_factory
from .status import from_proto, to_proto
from .vector import FLAT_SPACES, AutoresetMode, Batch, BatchStep, SubEnvs, SubEnvStart

__all__ = ["EnvSource", "WorkerSubEnvs", "check_source"]

log = logging.getLogger("openenv_grpc.workers")

EnvSource = str | EnvFactory
"""Where a worker gets its envs: an ENV spec (loaded in the worker) or a factory that pickles."""

_PR_SET_PDEATHSIG = 1  # prctl(2)
_context: ForkServerContext | None = None
_context_lock = threading.Lock()
_main_lock = threading.Lock()


def check_source(source: EnvSource) -> None:
    """ValueError unless worker processes can get envs from `source`."""
    if isinstance(source, str):
        return
    try:
        pickle.dumps(source)
    except Exception as exc:
        raise ValueError(
            f"worker processes need the env as an ENV spec (gymnasium:ID, module:factory, "
            f"file.py:factory) or a factory that pickles; this one does not ({exc})"
        ) from None


def forkserver() -> ForkServerContext:
    """The multiprocessing context of all workers: a forkserver that preloads this module."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _context = context
        return _context


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process, as text: exceptions and
    tracebacks do not cross processes, and the server's log wants it."""


@dataclass
class _Died:
    how: str


@dataclass
class _TimedOut:
    seconds: float


_Outcome = tuple[str, Any] | _Died | _TimedOut


class _Bus:
    """A worker's shared memory: a step's observations (for spaces whose batch is one
    array), rewards, terminations and truncations, and the slice's ended flags. The
    worker writes them before it answers; the server reads them once it has the answer,
    so only infos and errors (small, mostly empty) are pickled through the pipe. Made in
    the server; the worker gets the same memory when it starts."""

    def __init__(self, space: gs.Space[Any], n: int, memory: Any = None) -> None:
        flat = isinstance(space, FLAT_SPACES)
        dtype = space.dtype if flat and space.dtype is not None else np.dtype(np.uint8)
        sections = [
            ("observations", dtype, (n, *(space.shape or ())) if flat else (0,)),
            ("rewards", np.dtype(np.float64), (n,)),
            ("terminations", np.dtype(np.bool_), (n,)),
            ("truncations", np.dtype(np.bool_), (n,)),
            ("ended", np.dtype(np.bool_), (n,)),
        ]
        offsets, size = [], 0
        for _, kind, shape in sections:
            offsets.append(size)
            size += -(-int(np.prod(shape, dtype=np.int64)) * kind.itemsize // 8) * 8
        self.memory = memory if memory is not None else forkserver().RawArray("B", max(size, 8))
        views = [
            np.frombuffer(self.memory, kind, int(np.prod(shape, dtype=np.int64)), at).reshape(shape)
            for (_, kind, shape), at in zip(sections, offsets, strict=True)
        ]
        self.observations, self.rewards, self.terminations, self.truncations, self.ended = views
        self.flat = flat


class _Worker:
    """One worker process, the slice [start, stop) of sub-envs it holds, its pipe and its
    shared observation buffer. One request at a time (`lock`)."""

    def __init__(
        self,
        source: EnvSource,
        start: int,
        stop: int,
        mode: AutoresetMode,
        space: gs.Space[Any],
        check: bool,
    ) -> None:
        self.source, self.start, self.stop = source, start, stop
        self.mode, self.space, self.check = mode, space, check
        self.lock = threading.Lock()
        self.bus = _Bus(space, stop - start)
        self.process: BaseProcess | None = None
        self.conn: multiprocessing.connection.Connection | None = None
        self.starting = False  # its "ready" is still to be read
        self.poller: select.poll | None = None

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def label(self) -> str:
        last = self.stop - 1
        return f"sub-env {self.start}" if last == self.start else f"sub-envs {self.start}-{last}"

    def launch(self) -> None:
        """Start a new process for the slice (its envs are made there; `ready` tells)."""
        context = forkserver()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_main,
            args=(
                theirs,
                self.source,
                self.size,
                self.mode,
                self.space,
                self.check,
                self.bus.memory,
            ),
            name=f"openenv-subenvs-{self.start}-{self.stop - 1}",
            daemon=True,
        )
        with _without_main() if isinstance(self.source, str) else contextlib.nullcontext():
            process.start()
        theirs.close()
        self.process, self.conn, self.starting, self.poller = process, ours, True, None

    def send(self, command: str, args: Any) -> bool:
        """Send a request; False when the process is gone."""
        assert self.conn is not None
        try:
            self.conn.send((command, args))
        except (OSError, EOFError):
            return False
        return True

    def started(self, deadline: float | None) -> _Outcome | None:
        """None once it has made its envs (it says `ready`), else what happened instead."""
        if self.starting:
            ready = self._read(deadline)
            if not isinstance(ready, tuple) or ready[0] != "ready":
                return ready
            self.starting = False
        return None

    def receive(self, deadline: float | None) -> _Outcome:
        """Its answer to the last request (after its `ready`, when it is new)."""
        return self.started(deadline) or self._read(deadline)

    def _read(self, deadline: float | None) -> _Outcome:
        assert self.conn is not None
        assert self.process is not None
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        if self.poller is None:  # made once: a step waits on it, not on a new selector
            self.poller = select.poll()
            self.poller.register(self.conn.fileno(), select.POLLIN)
            self.poller.register(self.process.sentinel, select.POLLIN)
        ready = {fd for fd, _ in self.poller.poll(None if timeout is None else timeout * 1e3)}
        if self.conn.fileno() in ready:  # an answer, or the end of the pipe of a dead worker
            try:
                message: tuple[str, Any] = self.conn.recv()
            except (OSError, EOFError):
                return _Died(self._death())
            return message
        if ready:
            return _Died(self._death())
        return _TimedOut(timeout or 0.0)

    def _death(self) -> str:
        assert self.process is not None
        self.process.join(5)
        code = self.process.exitcode
        if code is None:
            return "its pipe broke"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def kill(self) -> None:
        """End the process at once (it may be hung in env code) and reap it."""
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)
            self.process.close()
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn, self.poller = None, None, None


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a process without the server's `__main__`.

    multiprocessing re-runs the parent's main module in every new process
    (as `__mp_main__`) so that what was pickled from it can be found there.
    A worker that makes its envs from an ENV spec needs nothing from it, and
    for `openenv-grpc serve` it is the CLI, whose imports (grpc, the server,
    the client) cost a second or more per worker and a worker's memory. So
    while the process starts, `__main__` is a blank module; it is put back at
    once, and one start at a time.
    """
    with _main_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class WorkerSubEnvs(Batch):
    """The sub-envs of one batched session, in worker processes: `SubEnvs`'s face (reset,
    step_batch, outcome, states, close), each call sent to the workers holding its sub-envs.

    Made (and closed) on a thread: it starts the processes and waits until every worker
    has made its envs, within the reset timeout.
    """

    def __init__(
        self,
        source: EnvSource,
        num_envs: int,
        mode: AutoresetMode,
        processes: int,
        space: gs.Space[Any],
        check: bool = False,
        *,
        step_timeout: float = 0.0,
        reset_timeout: float = 0.0,
        close_timeout: float = 10.0,
    ) -> None:
        super().__init__(num_envs, mode)
        self.space, self.check = space, check
        self.step_timeout, self.reset_timeout = step_timeout, reset_timeout
        self.close_timeout = close_timeout
        count = max(1, min(processes, num_envs))
        bounds = [num_envs * w // count for w in range(count + 1)]
        self.workers = [
            _Worker(source, bounds[w], bounds[w + 1], mode, space, check) for w in range(count)
        ]
        self._starts = np.array(bounds[1:-1], dtype=np.int64)
        self._all = np.arange(num_envs, dtype=np.int64)
        try:
            for worker in self.workers:
                worker.launch()
            deadline = self._deadline(reset_timeout)
            for worker in self.workers:
                failed = worker.started(deadline)
                if failed is not None:
                    raise self._failure(worker, failed, "factory", reset_timeout, False)
        except BaseException:
            self._kill_all()
            raise

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and operators)."""
        return [w.process.pid for w in self.workers if w.process is not None and w.process.pid]

    def reset(self, env_ids: Sequence[int], starts: Sequence[SubEnvStart]) -> list[ResetResult]:
        """Reset the given sub-envs in their workers; the first failure is raised (after
        every worker has answered), as SubEnvs.reset would raise it."""
        results: list[ResetResult] = self._gather(env_ids, "reset", list(starts))
        return results

    def step_batch(
        self, env_ids: Sequence[int], actions: Any, out: npt.NDArray[Any] | None = None
    ) -> BatchStep:
        """Step the given sub-envs in their workers, all workers at once; a worker's sub-envs
        get their errors in place (it died, hung, or could not send its answer)."""
        self.refuse_ended(env_ids)
        batch = BatchStep.empty(self.space, len(env_ids), out)

        def done(worker: _Worker, positions: Any, outcome: _Outcome) -> None:
            if not (isinstance(outcome, tuple) and outcome[0] == "ok"):
                error = self._failure(worker, outcome, "step", self.step_timeout)
                for p in positions:
                    batch.errors[int(p)] = error
                return
            infos, components, errors, items = outcome[1]
            bus, m = worker.bus, len(positions)
            batch.rewards[positions] = bus.rewards[:m]
            batch.terminations[positions] = bus.terminations[:m]
            batch.truncations[positions] = bus.truncations[:m]
            if batch.rows.flat:
                batch.rows.array[positions] = bus.observations[:m]
            else:
                for p, item in zip(positions, items, strict=True):
                    batch.rows.items[p] = item
            batch.infos += [(int(positions[k]), info) for k, info in infos]
            batch.reward_components += [(int(positions[k]), c) for k, c in components]
            for k, record in errors.items():
                batch.errors[int(positions[k])] = _error(record)

        self._exchange(env_ids, "step", actions, self.step_timeout, done)
        batch.in_order()
        return batch

    def outcome(self, i: int, action: Any) -> Any:
        """One sub-env's step (EnvPool's send); its error in place of a result."""
        try:
            return self.step_batch([i], [action]).result(0)
        except EnvError as exc:
            return exc

    def states(self) -> list[Any]:
        """Each sub-env's own state(), from its worker."""
        return self._gather(range(self.num_envs), "state", None)

    def _gather(self, env_ids: Sequence[int], command: str, args: Any) -> list[Any]:
        """Each sub-env's answer to a request that fails as a whole (reset, state), in the
        order of env_ids; the first failure is raised once every worker has answered."""
        timeout = self.reset_timeout if command == "reset" else self.step_timeout
        answers: list[Any] = [None] * len(env_ids)
        failures: list[EnvError] = []

        def done(worker: _Worker, positions: Any, outcome: _Outcome) -> None:
            if isinstance(outcome, tuple) and outcome[0] == "ok":
                for p, answer in zip(positions, outcome[1], strict=True):
                    answers[p] = answer
            else:
                failures.append(self._failure(worker, outcome, command, timeout))

        self._exchange(env_ids, command, args, timeout, done)
        if failures:
            raise failures[0]
        return answers

    def close(self) -> None:
        """Close every worker's envs (within the close timeout), then end the processes."""
        deadline = self._deadline(self.close_timeout)
        failures: list[EnvError] = []
        try:
            for worker in self.workers:
                with worker.lock:
                    if worker.conn is not None and not worker.send("close", None):
                        worker.kill()
            for worker in self.workers:
                with worker.lock:
                    if worker.conn is None:
                        continue
                    outcome = worker.receive(deadline)
                    if not (isinstance(outcome, tuple) and outcome[0] == "ok"):
                        failures.append(
                            self._failure(worker, outcome, "close", self.close_timeout, False)
                        )
        finally:
            self._kill_all()
        if failures:
            raise failures[0]

    def _exchange(
        self,
        env_ids: Sequence[int],
        command: str,
        args: Any,
        timeout: float,
        done: Callable[[_Worker, npt.NDArray[np.int64], _Outcome], None],
    ) -> None:
        """Send each worker holding some of env_ids its part of the request, then hand each
        answer (or its death, or its silence past the timeout) to `done`, in worker order."""
        ids = np.asarray(env_ids, dtype=np.int64)
        # (worker, positions in env_ids, its local ids, where its part of `args` is)
        parts: list[tuple[_Worker, npt.NDArray[np.int64], Sequence[int], Any]] = []
        if np.array_equal(ids, self._all):  # the whole batch in order: each its slice
            for worker in self.workers:
                where = slice(worker.start, worker.stop)
                parts.append((worker, self._all[where], range(worker.size), where))
        else:
            owners = np.searchsorted(self._starts, ids, side="right")
            for w in np.unique(owners).tolist():
                worker, positions = self.workers[w], np.flatnonzero(owners == w)
                parts.append(
                    (worker, positions, (ids[positions] - worker.start).tolist(), positions)
                )
        for worker, *_ in parts:
            worker.lock.acquire()
        try:
            sent = []
            for worker, _, local, where in parts:
                if worker.conn is None:
                    worker.launch()
                sent.append(worker.send(command, (local, _part(args, where))))
            deadline = self._deadline(timeout)
            # A new worker may first make its envs (within the reset timeout).
            starting = self._deadline(self.reset_timeout + timeout if timeout else 0.0)
            for (worker, positions, _, _), ok in zip(parts, sent, strict=True):
                if not ok:
                    outcome: _Outcome = _Died(worker._death())
                else:
                    outcome = worker.receive(starting if worker.starting else deadline)
                if isinstance(outcome, tuple) and outcome[0] in ("ok", "error"):
                    self.ended[worker.start : worker.stop] = worker.bus.ended
                done(worker, positions, outcome)
        finally:
            for worker, *_ in parts:
                worker.lock.release()

    def _failure(
        self,
        worker: _Worker,
        outcome: _Outcome,
        where: str,
        timeout: float,
        replace: bool = True,
    ) -> EnvError:
        """The error of a worker's failed request; a dead or hung worker is replaced."""
        if isinstance(outcome, tuple):
            if outcome[0] == "failed":  # a new worker could not make its envs
                worker.kill()
                self.ended[worker.start : worker.stop] = True
            return _error(outcome[1])
        worker.kill()
        self.ended[worker.start : worker.stop] = True
        if replace:
            log.warning(
                "the worker process of %s %s; a new one replaces it",
                worker.label,
                "hung" if isinstance(outcome, _TimedOut) else f"died ({outcome.how})",
            )
            worker.launch()
        if where in ("factory", "reset") and isinstance(outcome, _TimedOut):
            return EnvTimeout(where, timeout)
        if isinstance(outcome, _TimedOut):
            return DeadlineExceeded(
                f"the environment's {where} did not return within the server's {timeout:g}s "
                f"timeout; the worker process of {worker.label} was killed and replaced, and "
                "its sub-envs start new episodes at their next step",
                reason=Reason.ENV_TIMEOUT,
                metadata={"where": where, "timeout_seconds": f"{timeout:g}"},
            )
        died = f"the worker process of {worker.label} died ({outcome.how})"
        if replace:
            died += "; a new one replaces it and its sub-envs start new episodes at their next step"
        return EnvCodeError(where, died)

    def _kill_all(self) -> None:
        for worker in self.workers:
            worker.kill()

    @staticmethod
    def _deadline(seconds: float) -> float | None:
        return time.monotonic() + seconds if seconds else None


def _part(args: Any, where: npt.NDArray[np.int64] | slice) -> Any:
    """The entries of a per-sub-env argument (array, list, or None) at these positions."""
    if args is None:
        return None
    if isinstance(args, np.ndarray) or isinstance(where, slice):
        return args[where]
    return [args[p] for p in where.tolist()]


# --- in the worker process -----------------------------------------------------------


def _main(
    conn: multiprocessing.connection.Connection,
    source: EnvSource,
    count: int,
    mode: AutoresetMode,
    space: gs.Space[Any],
    check: bool,
    memory: Any,
) -> None:
    """A worker's life: make its envs, then answer requests until `close` or its pipe ends."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C is the server's to handle
    envs: list[Environment] = []
    try:
        factory = load_env_factory(source) if isinstance(source, str) else source
        for _ in range(count):
            envs.append(factory())
    except BaseException as exc:
        for env in envs:
            with contextlib.suppress(Exception):
                env.close()
        conn.send(("failed", _record("factory", exc)))
        return
    vector = SubEnvs(envs, mode, space, check)
    bus = _Bus(space, count, memory)
    conn.send(("ready", None))
    while True:
        try:
            command, payload = conn.recv()
        except EOFError:
            break
        local, args = payload if payload is not None else (None, None)
        try:
            message: tuple[str, Any] = ("ok", _serve(vector, command, local, args, bus))
        except BaseException as exc:
            message = ("error", _record(command, exc))
        bus.ended[:] = vector.ended
        try:
            conn.send(message)
        except Exception as exc:  # something in the answer does not pickle
            conn.send(("error", _record(command, exc)))
        if command == "close":
            break


def _serve(vector: SubEnvs, command: str, local: Any, args: Any, bus: _Bus) -> Any:
    if command == "step":
        m = len(local)
        batch = vector.step_batch(local, args, bus.observations[:m] if bus.flat else None)
        bus.rewards[:m] = batch.rewards
        bus.terminations[:m] = batch.terminations
        bus.truncations[:m] = batch.truncations
        errors = {k: _record("step", exc) for k, exc in batch.errors.items()}
        items = None if bus.flat else batch.rows.items
        return batch.infos, batch.reward_components, errors, items
    if command == "reset":
        return vector.reset(local, args)
    if command == "state":
        return [vector.envs[i].state() for i in local]
    if command == "close":
        vector.close()
        return None
    raise ValueError(f"unknown worker request {command!r}")


def _record(where: str, exc: BaseException) -> tuple[Any, ...]:
    """An exception as data that crosses processes: an env's own EnvError as its Status,
    anything else as the EnvCodeError it stands for, with the traceback as text."""
    text = "".join(traceback.format_exception(exc))
    if isinstance(exc, EnvError) and not isinstance(exc, EnvCodeError):
        return ("status", to_proto(exc).SerializeToString(), text)
    error = exc if isinstance(exc, EnvCodeError) else EnvCodeError(where, exc)
    return ("env_code", error.message, dict(error.metadata), text)


def _error(record: tuple[Any, ...]) -> EnvError:
    """The EnvError a worker's record stands for (in the server)."""
    error: EnvError
    if record[0] == "status":
        error = from_proto(status_pb2.Status.FromString(record[1]))
    else:
        error = EnvCodeError(str(record[2].get("where", "step")), "")
        error.args = (record[1],)
        error.metadata = dict(record[2])
    error.__cause__ = WorkerTraceback(record[-1].rstrip())
    return error


def _die_with_parent() -> None:
    """Ask Linux for SIGKILL when the parent (the forkserver) dies; it dies with the
    server, so a worker hung in env code never outlives it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request: go now
        os._exit(1)
