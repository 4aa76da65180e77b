"""The session table: one environment per session, limits, idle reaping, one call at a time.

Env code is untrusted: it may be slow, hang, raise or lie. Calls into it
run on daemon worker threads (`runner.EnvThreads`) and the event loop stays
free for other sessions. Every call has a timeout (step, reset, close);
past it the caller gets ENV_TIMEOUT, the session is closed and its env
abandoned, and the hung thread is written off so that capacity for others
never shrinks; with `max_abandoned` calls stuck, new sessions are refused
(CAPACITY_EXHAUSTED) until they return. Only an env that declares itself
`non_blocking` (or an operator's `--env-calls adaptive|inline`) may run on
the loop: under `adaptive` an env that has shown itself cheap (its last
INLINE_AFTER calls each under FAST_CALL) is called on the loop directly,
until one of its calls takes longer than SLOW_CALL: then it goes back to
the threads for good. Observations are checked against the observation
space before they leave (when the table is given one). A session
takes one call at a time: a second call while one runs fails at once with
SessionBusy (FAILED_PRECONDITION) instead of queueing behind it, so a
confused client learns of its bug instead of deadlocking. The session stays
busy until the env call has really returned, even when the caller gave up
(deadline, cancelled stream), so an env is never entered by two threads.

Retries are safe. A creation with a request id that is already known
returns the session it made (waiting for it if it is still being made); a
reset with the request id of the session's last reset, and a step with the
index of the last step applied, return the same result again (waiting for
it if it is still running), so a call retried after a deadline is never
applied twice. Any other step index is refused with STEP_OUT_OF_ORDER.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import functools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gymnasium import spaces as gs

from .env import EnvFactory, Environment, ResetResult, StepResult, make_env
from .errors import (
    CapacityExhausted,
    Draining,
    EnvCodeError,
    EnvError,
    EnvLimitReached,
    EnvTimeout,
    EpisodeEnded,
    InvalidRequest,
    SessionBusy,
    SessionExpired,
    SessionLimitReached,
    SessionNotFound,
    StepOutOfOrder,
    SubEnvsInFlight,
    WrongSessionKind,
)
from .membership import contains
from .runner import EnvThreads
from .vector import AutoresetMode, BatchStep, SubEnvs, SubEnvStart, outside
from .watch import EpisodeStarted, Rendered, Stepped, Watch, snapshot
from .workers import EnvSource, WorkerSubEnvs

log = logging.getLogger("openenv_grpc.sessions")
T = TypeVar("T")

ENV_CALL_POLICIES = ("adaptive", "thread", "inline")
INLINE_AFTER = 16  # calls in a row under FAST_CALL before an env runs on the event loop
# How long (by default: `env_call_wait`, `serve --env-call-wait`) the event loop waits for
# a single-env session's env call on a worker before it goes back to serving others (the
# call then completes through the loop): a call handed over in time saves the loop a
# wake-up and the worker a fight for the GIL, which with many sessions of a quick
# pure-Python env is most of a step's cost. A call that takes longer makes the session's
# next 1, 2, 4, ... HANDOFF_BACKOFF calls go through the loop without a wait; one handed
# over in time starts the count again. The loop is never held longer than this per call,
# and a slow env is waited for rarely. Calls of envs that release the GIL for less than
# this run one after the other instead of side by side: 0 turns the wait off for them.
HANDOFF_WAIT = 0.0005  # seconds
HANDOFF_BACKOFF = 1024  # calls
FAST_CALL = 0.0005  # seconds
SLOW_CALL = 0.005  # seconds: one call this slow sends the env back to the threads for good
EXPIRED_KEPT = 10_000  # ids of reaped sessions remembered, to answer SESSION_EXPIRED


class CloseReason(enum.Enum):
    """Why a session ended; the value is what the log line says."""

    CLIENT = "closed by the client"
    STREAM_ENDED = "its stream ended"
    RESET_FAILED = "its first reset failed"
    IDLE = "idle for longer than the session TTL"
    TIMEOUT = "an env call ran past its timeout"
    SHUTDOWN = "the server is shutting down"

    @property
    def label(self) -> str:
        """A short metric and log label: client, stream_ended, ..."""
        return self.name.lower()


class Sent:
    """A batched session's EnvPool-style sends: sub-envs stepping after a send, and finished
    ones (id, result or error) waiting for a recv, in finishing order. Made by the session's
    first send: most sessions never send, and an idle session should cost little."""

    __slots__ = ("changed", "in_flight", "ready")

    def __init__(self) -> None:
        self.in_flight: dict[int, asyncio.Future[Any]] = {}
        self.ready: collections.deque[tuple[int, StepResult | EnvError]] = collections.deque()
        self.changed = asyncio.Event()

    def __len__(self) -> int:
        """Sub-envs sent and not received (stepping, or finished and waiting for a recv)."""
        return len(self.in_flight) + len(self.ready)


# Slots: a session is kept per open session, idle ones included (1000s of them per server);
# weakref_slot: the servicer's halves keep per-session memory in WeakKeyDictionaries.
@dataclass(eq=False, slots=True, weakref_slot=True)
class Session:
    """One environment instance (or a batch of them) and where its episode stands."""

    id: str
    env: Environment | None
    last_used: float
    vector: SubEnvs | WorkerSubEnvs | None = None
    # Batched: whether infos are answered in Gymnasium's vector layout (asked for at creation).
    vector_infos: bool = False
    # Batched sessions' sends and their results (None until the first send).
    sent: Sent | None = field(default=None, repr=False)
    episode_id: str = ""
    step_count: int = 0
    # The request id that created the session ("" when none was given).
    request_id: str = ""
    # The principal that created it; only it may use the session.
    owner: str = ""
    # Retries: the last reset (its request id and its result, possibly still
    # running) and the last step (its index and result), answered again on a repeat.
    last_reset: tuple[str, asyncio.Future[Any]] | None = field(default=None, repr=False)
    last_step: tuple[int, asyncio.Future[Any]] | None = field(default=None, repr=False)
    episode_done: bool = True
    done_reason: str = "has not started"
    busy: bool = False
    closed: bool = False
    _env_closed: bool = field(default=False, repr=False)
    # Calls left before the loop waits HANDOFF_WAIT for this session's env call again, and
    # how many to skip after the next one that takes longer.
    handoff_skip: int = field(default=0, repr=False)
    handoff_backoff: int = field(default=1, repr=False)
    # The adaptive env-call policy: fast calls in a row, and whether the env was ever slow.
    fast_calls: int = field(default=0, repr=False)
    ever_slow: bool = field(default=False, repr=False)
    # The render mode its envs were made in, and its watchers (None while unwatched).
    render_mode: str | None = None
    watch: Watch | None = field(default=None, repr=False)

    @property
    def stepping(self) -> bool:
        """Whether sent sub-env steps are still running (closing and reaping wait for them)."""
        return self.sent is not None and bool(self.sent.in_flight)

    @property
    def unreceived(self) -> int:
        """Sub-envs sent and not received yet (0 for a session that never sent)."""
        return 0 if self.sent is None else len(self.sent)


class SessionListener(Protocol):
    """Told when sessions open and close (metrics, health); must not block or raise."""

    def session_opened(self, session: Session, open_sessions: int) -> None: ...

    def session_closed(self, session: Session, reason: CloseReason, open_sessions: int) -> None: ...

    def capacity_changed(self, stuck: int, at_capacity: bool) -> None: ...


class SessionManager:
    """Creates, finds, runs and closes sessions; knows nothing of the transport."""

    def __init__(
        self,
        factory: EnvFactory,
        *,
        max_sessions: int = 0,
        ttl_seconds: float = 0.0,
        executor: EnvThreads | None = None,
        clock: Callable[[], float] = time.monotonic,
        listeners: Sequence[SessionListener] = (),
        max_num_envs: int = 1024,
        vector_workers: int = 1,
        vector_processes: int = 0,
        worker_source: EnvSource | None = None,
        vector_space: gs.Space[Any] | None = None,
        env_calls: str = "thread",
        env_call_wait: float = HANDOFF_WAIT,
        step_timeout: float = 0.0,
        reset_timeout: float = 0.0,
        close_timeout: float = 0.0,
        max_abandoned: int = 32,
        max_envs: int = 0,
        observation_space: gs.Space[Any] | None = None,
        max_sessions_per_principal: int = 0,
        max_envs_per_principal: int = 0,
    ) -> None:
        if env_calls not in ENV_CALL_POLICIES:
            raise ValueError(f"env_calls must be one of {ENV_CALL_POLICIES}, not {env_calls!r}")
        self.env_calls = env_calls
        self.env_call_wait = env_call_wait
        self.max_num_envs = max_num_envs
        self.vector_workers = max(1, vector_workers)
        # Batched sessions' sub-envs in this many worker processes each (0: on threads),
        # made there from `worker_source`; batches are laid out in `vector_space`.
        self.vector_processes = vector_processes if worker_source is not None else 0
        self._worker_source = worker_source
        self._vector_space = vector_space if vector_space is not None else observation_space
        # Chunks of one batched step run here while the session's own job waits for
        # them; a pool of their own, so they can never wait behind that job.
        self._chunk_pool = (
            EnvThreads(self.vector_workers - 1, "openenv-chunk")
            if self.vector_workers > 1
            else None
        )
        # Timeouts in seconds per kind of call (0: none), and the other limits.
        self._timeouts = {
            "step": step_timeout,
            "state": step_timeout,
            "reset": reset_timeout,
            "tool": step_timeout,
            "render": step_timeout,
        }
        self.close_timeout = close_timeout
        self.max_abandoned = max_abandoned
        self.max_envs = max_envs
        self.max_sessions_per_principal = max_sessions_per_principal
        self.max_envs_per_principal = max_envs_per_principal
        self._sub_envs = 0  # sub-envs held by batched sessions
        self._observation_space = observation_space
        self._contains = contains(observation_space) if observation_space is not None else None
        self._factory = factory
        self._listeners = list(listeners)
        self.max_sessions = max_sessions
        self.ttl_seconds = ttl_seconds
        self._executor = executor or EnvThreads()
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        # Creations by request id: the session, or the future of one still being made.
        self._requests: dict[str, Session | asyncio.Future[Session]] = {}
        # Reaped ids and their owners, to answer SESSION_EXPIRED (to the owner only).
        self._expired: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._owned: collections.Counter[str] = collections.Counter()  # open sessions per owner
        self._owned_envs: collections.Counter[str] = collections.Counter()  # sub-envs per owner
        self._opening = 0
        self._busy = 0
        self._written_off: set[asyncio.Future[Any]] = set()
        # Env closes under way (and the tasks that will start one once a call returns):
        # a close started by a stream's end is known to no one else, so shutdown waits here.
        self._closing: set[asyncio.Future[Any]] = set()
        self.draining = False
        self._empty = asyncio.Event()
        self._empty.set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def at_limit(self) -> bool:
        """Whether a new session would be refused for the limit."""
        return bool(self.max_sessions) and len(self._sessions) + self._opening >= self.max_sessions

    @property
    def at_capacity(self) -> bool:
        """Whether so many env calls are stuck that new sessions are refused."""
        return bool(self.max_abandoned) and self._executor.written_off >= self.max_abandoned

    @property
    def held(self) -> int:
        """Sessions open or being opened: what `max_sessions` counts (Describe's load)."""
        return len(self._sessions) + self._opening

    @property
    def sub_envs(self) -> int:
        """Sub-envs of batched sessions, open or being opened: what `max_envs` counts."""
        return self._sub_envs

    def worker_pids(self) -> list[int]:
        """The worker processes of every open batched session (see `workers.py`)."""
        return [
            pid
            for session in self._sessions.values()
            if isinstance(session.vector, WorkerSubEnvs)
            for pid in session.vector.pids
        ]

    def start_draining(self) -> None:
        """Refuse new sessions from now on (UNAVAILABLE); existing ones go on."""
        self.draining = True

    async def wait_until_empty(self) -> None:
        """Until no session is open (nor being opened)."""
        await self._empty.wait()

    async def wait_until_idle(self) -> None:
        """Until no call into env code is running."""
        await self._idle.wait()

    def get(self, session_id: str, owner: str = "") -> Session:
        """The live session with this id owned by `owner`; SessionExpired if it was reaped,
        else SessionNotFound. Another principal's session is not found either: the server
        does not confirm that someone else's session exists."""
        session = self._sessions.get(session_id)
        if session is None or session.owner != owner:
            if session is None and self._expired.get(session_id, None) == owner:
                raise SessionExpired(session_id, self.ttl_seconds)
            raise SessionNotFound(session_id)
        return session

    def get_any(self, session_id: str) -> Session:
        """The live session with this id whoever owns it (an admin's watch); else
        SessionNotFound."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    async def open(
        self,
        num_envs: int = 0,
        autoreset: AutoresetMode = AutoresetMode.NEXT_STEP,
        request_id: str = "",
        owner: str = "",
        render_mode: str | None = None,
    ) -> tuple[Session, bool]:
        """A new session with fresh envs, and True; or, for a request id already used by an
        open session, that session and False (waiting while it is still being made).

        num_envs 0 makes a single-env session; N >= 1 a batched session of N sub-envs.
        """
        key = f"{owner}\0{request_id}"  # request ids are the principal's own
        known = self._requests.get(key) if request_id else None
        if isinstance(known, Session):
            return known, False
        if known is not None:
            return await asyncio.shield(known), False
        if num_envs < 0:
            raise InvalidRequest(f"num_envs {num_envs} is negative", field="num_envs")
        if num_envs > self.max_num_envs:
            raise EnvLimitReached(self.max_num_envs, num_envs)
        if self.draining:
            raise Draining()
        if self.at_capacity:
            raise CapacityExhausted(self._executor.written_off)
        if self.at_limit:
            raise SessionLimitReached(self.max_sessions)
        per_owner = self.max_sessions_per_principal
        if per_owner and self._owned[owner] >= per_owner:
            raise SessionLimitReached(per_owner, scope="principal")
        envs_per_owner, in_use = self.max_envs_per_principal, self._owned_envs[owner]
        if num_envs and envs_per_owner and in_use + num_envs > envs_per_owner:
            raise EnvLimitReached(envs_per_owner, num_envs, in_use=in_use, scope="principal")
        if num_envs and self.max_envs and self._sub_envs + num_envs > self.max_envs:
            raise EnvLimitReached(self.max_envs, num_envs, in_use=self._sub_envs)
        creating: asyncio.Future[Session] = asyncio.get_running_loop().create_future()
        if request_id:
            self._requests[key] = creating
        self._owned[owner] += 1
        self._owned_envs[owner] += num_envs
        try:
            session = await self._make(num_envs, autoreset, request_id, owner, render_mode)
        except BaseException as exc:
            self._requests.pop(key, None)
            self._owned[owner] -= 1
            self._owned_envs[owner] -= num_envs
            if isinstance(exc, Exception):
                creating.set_exception(exc)
                creating.exception()  # retrieved: only duplicates that wait on it re-raise it
            else:
                creating.cancel()
            raise
        creating.set_result(session)  # for duplicates already waiting on it
        if request_id:
            self._requests[key] = session  # from now on: the session, not a future holding it
        return session, True

    async def _make(
        self,
        num_envs: int,
        autoreset: AutoresetMode,
        request_id: str,
        owner: str,
        render_mode: str | None = None,
    ) -> Session:
        self._opening += 1
        self._sub_envs += num_envs
        self._empty.clear()
        vector: SubEnvs | WorkerSubEnvs | None = None
        try:
            if num_envs and self.vector_processes:
                env, vector = None, await self._make_workers(num_envs, autoreset)
            else:
                envs = await self._make_envs(max(num_envs, 1), render_mode)
                env = envs[0] if num_envs == 0 else None
                if num_envs:
                    space, check = self._vector_space, self._observation_space is not None
                    vector = SubEnvs(envs, autoreset, space, check)
        except BaseException:
            self._sub_envs -= num_envs
            raise
        finally:
            self._opening -= 1
            self._update_empty()
        session = Session(
            id=uuid.uuid4().hex,
            env=env,
            vector=vector,
            last_used=self._clock(),
            request_id=request_id,
            owner=owner,
            render_mode=render_mode,
        )
        self._sessions[session.id] = session
        self._empty.clear()
        open_sessions = len(self._sessions)
        log.info(
            "session %s… started (%d open)",
            session.id[:8],
            open_sessions,
            extra={"event": "session_start", "session_id": session.id[:8]},
        )
        for listener in self._listeners:
            listener.session_opened(session, open_sessions)
        return session

    async def reset(
        self,
        session: Session,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
        request_id: str = "",
    ) -> ResetResult:
        """Start a new episode in the session (a repeat of its last request id: that reset)."""
        replay = _replayed_reset(session, request_id)
        if replay is not None:
            result: ResetResult = await self._result(session, "reset", replay)
            return result
        env = _single(session)

        def run() -> ResetResult:
            session.episode_done, session.done_reason = True, "ended with an error in reset"
            result = env.reset(seed=seed, options=options, task_id=task_id)
            if not isinstance(result, ResetResult):
                raise TypeError(f"reset returned {type(result).__name__}, not ResetResult")
            problem = self._outside(result.observation)
            if problem:
                raise EnvCodeError("observation", f"reset {problem}")
            session.episode_id, session.step_count = uuid.uuid4().hex, 0
            session.episode_done, session.done_reason = False, ""
            if session.watch is not None:
                started = EpisodeStarted(session.episode_id)
                session.watch.called(env, started, session.episode_id, 0)
            return result

        future = self._start(session, run)
        session.last_reset, session.last_step = (request_id, future), None
        return await self._result(session, "reset", future)

    async def step(self, session: Session, action: Any, step_index: int = 0) -> StepResult:
        """Apply an action (already checked against the action space) as step `step_index`
        of the episode (0: the next one, unchecked)."""
        repeat = _repeated_step(session, step_index)
        if repeat is not None:
            result: StepResult = await self._result(session, "step", repeat)
            return result
        env = _single(session)
        if session.episode_done:
            raise EpisodeEnded(session.id, session.done_reason)
        _check_order(session, step_index)

        def run() -> StepResult:
            try:
                result = env.step(action)
                if not isinstance(result, StepResult):
                    raise TypeError(f"step returned {type(result).__name__}, not StepResult")
            except EnvError:
                raise  # the env refused the action on purpose; the episode goes on
            except Exception:
                session.episode_done, session.done_reason = True, "ended with an error in step"
                raise
            session.step_count += 1
            if result.terminated or result.truncated:
                session.episode_done = True
                session.done_reason = "terminated" if result.terminated else "was truncated"
            problem = self._outside(result.observation)
            if problem:
                session.episode_done = True
                session.done_reason = "ended: the env returned an observation outside its space"
                raise EnvCodeError("observation", f"step {problem}")
            if session.watch is not None:
                session.watch.called(env, _stepped(session, action, result), *_at(session))
            return result

        return await self._remember_step(session, "step", run)

    async def vector_reset(
        self,
        session: Session,
        env_ids: Sequence[int],
        starts: Sequence[SubEnvStart] | None = None,
        request_id: str = "",
    ) -> tuple[list[int], list[ResetResult]]:
        """Reset sub-envs of a batched session (all when env_ids is empty), each with its
        start (default: none), or repeat the reset of the same request id."""
        replay = _replayed_reset(session, request_id)
        if replay is not None:
            done: tuple[list[int], list[ResetResult]] = await self._result(session, "reset", replay)
            return done
        vector = batched(session)
        ids = vector.check_ids(env_ids)
        if starts is None:
            starts = [SubEnvStart()] * len(ids)
        elif len(starts) != len(ids):
            raise InvalidRequest(
                f"{len(starts)} sub-env starts for {len(ids)} sub-envs reset; give one per "
                "entry of env_ids (per sub-env when env_ids is empty)",
                field="sub_envs",
            )
        _check_nothing_in_flight(session)

        def run() -> tuple[list[int], list[ResetResult]]:
            results = vector.reset(ids, starts)  # observations checked there
            if len(ids) == vector.num_envs:
                session.episode_id, session.step_count = uuid.uuid4().hex, 0
            session.episode_done = False
            return ids, results

        future = self._start(session, run)
        session.last_reset, session.last_step = (request_id, future), None
        return await self._result(session, "reset", future)

    async def vector_step(
        self,
        session: Session,
        env_ids: Sequence[int],
        actions: Sequence[Any],
        step_index: int = 0,
    ) -> BatchStep:
        """Step sub-envs of a batched session together as batched step `step_index` (0:
        unchecked); with vector_workers > 1, in chunks on that many threads at once (for
        envs that release the GIL), with vector_processes, in the session's worker
        processes. A sub-env that fails gets its error (an EnvError) in `errors`."""
        repeat = _repeated_step(session, step_index)
        if repeat is not None:
            result: BatchStep = await self._result(session, "step", repeat)
            return result
        vector = batched(session)
        _check_order(session, step_index)
        _check_nothing_in_flight(session)
        chunks = max(1, min(self.vector_workers, len(env_ids)))
        pool = self._chunk_pool

        def run() -> BatchStep:
            if isinstance(vector, SubEnvs):
                batch = vector.step_batch(env_ids, actions, pool=pool, chunks=chunks)
            else:
                batch = vector.step_batch(env_ids, actions)
            session.step_count += 1
            for k, error in batch.errors.items():
                batch.errors[k] = _env_error(error)
            return batch

        return await self._remember_step(session, "step", run)

    async def _remember_step(self, session: Session, where: str, fn: Callable[[], T]) -> T:
        """Run a step and keep its result for a repeat of its index."""
        index = session.step_count + 1  # before the call: an inline call counts at once
        future = self._start(session, fn)
        session.last_step = (index, future)
        return await self._result(session, where, future)

    def send(self, session: Session, env_ids: Sequence[int], actions: Sequence[Any]) -> None:
        """Start stepping sub-envs (one thread job each); results wait for `recv`.

        A sent sub-env is in flight until received: sending it again before, or any
        call that enters the session's envs (state, a batched step or reset), is refused,
        and closing, reaping and the drain wait for it.
        """
        vector = batched(session)
        self._check_free(session)
        if session.sent is None:
            session.sent = Sent()
        sent = session.sent
        pending = set(sent.in_flight) | {i for i, _ in sent.ready}
        busy = sorted(pending.intersection(env_ids))
        if busy:
            raise SubEnvsInFlight(
                f"sub-envs {busy[:16]} are still stepping or their results wait for recv; "
                "recv them first",
                len(pending),
            )
        loop = asyncio.get_running_loop()
        session.last_used = self._clock()

        def finished(i: int, done: asyncio.Future[StepResult | EnvError]) -> None:
            sent.in_flight.pop(i, None)
            self._leave()
            outcome: StepResult | EnvError
            if done.cancelled():
                outcome = EnvCodeError("step", "it was cancelled")
            else:
                error = done.exception()
                outcome = done.result() if error is None else EnvCodeError("step", error)
            sent.ready.append((i, outcome))
            sent.changed.set()
            if session.closed and not sent.in_flight and not session.busy:
                self._close_later(session)

        for i, action in zip(env_ids, actions, strict=True):
            self._enter()
            future = loop.run_in_executor(self._executor, self._sent_step, vector, i, action)
            sent.in_flight[i] = future
            future.add_done_callback(functools.partial(finished, i))

    @staticmethod
    def _sent_step(vector: SubEnvs | WorkerSubEnvs, i: int, action: Any) -> StepResult | EnvError:
        outcome = vector.outcome(i, action)
        return outcome if isinstance(outcome, StepResult) else _env_error(outcome)

    async def recv(
        self, session: Session, num_envs: int
    ) -> list[tuple[int, StepResult | EnvError]]:
        """The first `num_envs` sub-envs to finish their sent steps (0: all in flight), each
        with its result or its own error."""
        batched(session)
        self._check_free(session)
        sent = session.sent
        waiting = session.unreceived
        wanted = num_envs or waiting
        if sent is None or not 0 < wanted <= waiting:
            raise SubEnvsInFlight(
                f"recv of {wanted} results, but {waiting} sub-envs have been sent and not "
                "received; send actions first",
                waiting,
            )
        session.busy = True
        timeout = self._timeouts["step"]
        try:
            await asyncio.wait_for(_ready(sent, wanted), timeout or None)
        except TimeoutError:
            for future in sent.in_flight.values():
                self._write_off(future)
            session.busy = False
            await self.close(session.id, CloseReason.TIMEOUT)
            raise EnvTimeout("step", timeout) from None
        finally:
            session.busy = False
            session.last_used = self._clock()
        done = [sent.ready.popleft() for _ in range(wanted)]
        session.step_count += 1
        return done

    def start_tool(self, session: Session, fn: Callable[[Environment], T]) -> asyncio.Future[T]:
        """Start a call into a single-env session's env for its tools (list or call): one
        call at a time with its steps, as any env call; the episode is not touched. Its
        outcome comes from `tool_result` (a future, so a retried call can wait for it)."""
        env = _single(session)
        return self._start(session, lambda: fn(env))

    async def tool_result(self, session: Session, future: asyncio.Future[T]) -> T:
        """A tool call's outcome within the step timeout (past it: ENV_TIMEOUT, the session
        closed and its env abandoned, as for a step)."""
        return await self._result(session, "tool", future)

    async def render(self, session: Session) -> Rendered:
        """The current frame of a single-env session (its env's render), one call at a time
        with its steps, within the step timeout; watchers due a frame get it too."""
        env = _single(session)
        mode, (episode, step) = session.render_mode or "", _at(session)
        future = self._start(session, lambda: snapshot(env))
        frame = Rendered(mode, episode, step, await self._result(session, "render", future))
        if session.watch is not None:
            session.watch.rendered(frame)
        return frame

    async def state(self, session: Session) -> Any:
        """The env's own state() value (a list of them for a batched session)."""
        if session.unreceived:
            _check_nothing_in_flight(session)
        if session.vector is not None:
            vector = session.vector
            states = self._start(session, vector.states)
        else:
            states = self._start(session, _single(session).state)
        return await self._result(session, "state", states)

    def _outside(self, observation: Any) -> str:
        """Why an observation is not in the observation space ("" when it is, or unchecked)."""
        space, check = self._observation_space, self._contains
        if space is None or check is None or check(observation):
            return ""
        return outside(space, observation)

    def end_episode(self, session: Session, why: str) -> None:
        """Mark the current episode over (Step then needs a Reset), e.g. after a lost result
        (which a repeat of the step could not send either)."""
        session.episode_done, session.done_reason = True, why
        session.last_step = None

    async def close(self, session_id: str, reason: CloseReason) -> None:
        """Remove the session and close its env (after a running call returns)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionNotFound(session_id)
        session.closed = True
        if session.vector is not None:
            self._sub_envs -= session.vector.num_envs
        if session.request_id:
            self._requests.pop(f"{session.owner}\0{session.request_id}", None)
        self._owned[session.owner] -= 1
        if not self._owned[session.owner]:
            del self._owned[session.owner]
        if session.vector is not None:
            self._owned_envs[session.owner] -= session.vector.num_envs
            if not self._owned_envs[session.owner]:
                del self._owned_envs[session.owner]
        if reason is CloseReason.IDLE:
            self._expired[session_id] = session.owner
            while len(self._expired) > EXPIRED_KEPT:
                self._expired.popitem(last=False)
        open_sessions = len(self._sessions)
        log.info(
            "session %s… ended: %s (%d open)",
            session_id[:8],
            reason.value,
            open_sessions,
            extra={"event": "session_end", "session_id": session_id[:8], "reason": reason.label},
        )
        for listener in self._listeners:
            listener.session_closed(session, reason, open_sessions)
        if session.watch is not None:
            session.watch.end(reason.value)
        self._update_empty()
        if not session.busy and not session.stepping:
            await self._close_env(session)

    async def reap_expired(self) -> list[str]:
        """Close every session idle for longer than the TTL; returns their ids."""
        if not self.ttl_seconds:
            return []
        deadline = self._clock() - self.ttl_seconds
        expired = [
            s.id
            for s in self._sessions.values()
            if not s.busy and not s.stepping and s.last_used < deadline
        ]
        for session_id in expired:
            if session_id in self._sessions:
                await self.close(session_id, CloseReason.IDLE)
        return expired

    async def run_reaper(self) -> None:
        """Reap idle sessions forever, checking a few times per TTL."""
        if not self.ttl_seconds:
            return
        interval = min(max(self.ttl_seconds / 4, 0.01), 5.0)
        while True:
            await asyncio.sleep(interval)
            await self.reap_expired()

    async def close_all(self, reason: CloseReason) -> None:
        """Close every session at once (server shutdown): each env close is bounded by the
        close timeout, and none waits behind another."""
        # Closes already under way (a stream that ended just before) are waited for beside
        # them, within the same close timeout: the pool's shutdown would drop one still
        # waiting for a thread.
        under_way = list(self._closing)
        await asyncio.gather(
            *(self._close_if_open(session_id, reason) for session_id in list(self._sessions)),
            *([asyncio.wait(under_way, timeout=self.close_timeout or None)] if under_way else []),
        )

    async def _close_if_open(self, session_id: str, reason: CloseReason) -> None:
        """Close a session unless something else (its stream ending) closed it meanwhile."""
        if session_id in self._sessions:
            await self.close(session_id, reason)

    def shutdown(self) -> None:
        """Stop the thread pool without waiting for env calls still running."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._chunk_pool is not None:
            self._chunk_pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _check_free(session: Session) -> None:
        if session.closed:
            raise SessionNotFound(session.id)
        if session.busy:
            raise SessionBusy(session.id)

    def _start(self, session: Session, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Start an env call on a free session and mark it busy until the call returns.

        The future is the call's outcome, kept for retries; it runs on the thread
        pool, or (adaptive policy, cheap env) has already run on the event loop.
        """
        self._check_free(session)
        session.busy = True
        session.last_used = self._clock()
        self._enter()
        loop = asyncio.get_running_loop()
        if self._inline(session):
            future: asyncio.Future[T] = loop.create_future()
            start = time.perf_counter()
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)
            finally:
                self._observe(session, time.perf_counter() - start, inline=True)
                self._release(session, None)
            return future

        def timed() -> T:
            start = time.perf_counter()
            try:
                return fn()
            finally:
                self._observe(session, time.perf_counter() - start, inline=False)

        # Only the adaptive policy learns from durations; the others skip the timing.
        wait = self.env_call_wait
        waits = wait > 0 and not session.handoff_skip
        future = self._executor.call(
            loop, timed if self.env_calls == "adaptive" else fn, wait if waits else 0.0
        )
        if future.done():  # handed over within the wait
            session.handoff_backoff = 1
            self._release(session, future)
            return future
        if waits:  # too slow to wait for: not again for the next calls, twice as many each time
            session.handoff_skip = session.handoff_backoff
            session.handoff_backoff = min(2 * session.handoff_backoff, HANDOFF_BACKOFF)
        elif session.handoff_skip:
            session.handoff_skip -= 1
        future.add_done_callback(lambda done: self._release(session, done))
        return future

    async def _result(self, session: Session, where: str, future: asyncio.Future[T]) -> T:
        """The outcome of an env call on a session, within the call's timeout.

        A caller that goes away (deadline, cancel) leaves the call running, and
        the session busy, until the env has returned (`_within`). Past the timeout the
        session is closed (its env abandoned, never entered again) and ENV_TIMEOUT
        raised.
        """
        seconds = self._timeouts[where]
        if where == "step" and isinstance(session.vector, WorkerSubEnvs):
            seconds = 0.0  # its workers keep the step timeout: a hung one is replaced
        try:
            return await self._wait(where, future, seconds)
        except EnvTimeout:
            if not session.closed:
                await self.close(session.id, CloseReason.TIMEOUT)
            raise

    async def _wait(self, where: str, future: asyncio.Future[T], seconds: float) -> T:
        """A call's outcome within `seconds` (0: no limit); an exception of env code as
        EnvCodeError; past the limit the call is written off and EnvTimeout raised."""
        if not future.done() and not await _within(future, seconds):
            self._write_off(future)
            raise EnvTimeout(where, seconds)
        if future.cancelled():
            raise asyncio.CancelledError()
        error = future.exception()
        if error is None:
            return future.result()
        if isinstance(error, EnvError):
            raise error
        if isinstance(error, Exception):
            raise EnvCodeError(where, error) from error
        raise error

    def _write_off(self, future: asyncio.Future[Any]) -> None:
        """Stop counting a hung call's thread towards capacity, until it returns."""
        if future in self._written_off or future.done():
            return
        self._written_off.add(future)
        self._executor.write_off()
        self._capacity_changed()

        def returned(done: asyncio.Future[Any]) -> None:
            self._written_off.discard(done)
            self._executor.restore()
            self._capacity_changed()

        future.add_done_callback(returned)

    def _capacity_changed(self) -> None:
        stuck = self._executor.written_off
        for listener in self._listeners:
            listener.capacity_changed(stuck, self.at_capacity)

    def _enter(self) -> None:
        self._busy += 1
        self._idle.clear()

    def _leave(self) -> None:
        self._busy -= 1
        if not self._busy:
            self._idle.set()

    def _inline(self, session: Session) -> bool:
        if self.env_calls == "adaptive":
            return session.fast_calls >= INLINE_AFTER and not session.ever_slow
        return self.env_calls == "inline"

    @staticmethod
    def _observe(session: Session, seconds: float, inline: bool) -> None:
        """Feed the adaptive policy one call's duration (from whichever thread ran it).

        Slow calls on a thread only restart the count (first calls warm caches
        up); a slow call on the event loop ends inlining for good.
        """
        if inline and seconds > SLOW_CALL:
            session.ever_slow = True
            log.info(
                "session %s…: an env call took %.1f ms; env calls go to threads",
                session.id[:8],
                seconds * 1e3,
            )
        session.fast_calls = session.fast_calls + 1 if seconds < FAST_CALL else 0

    def _release(self, session: Session, done: asyncio.Future[Any] | None) -> None:
        if done is not None and not done.cancelled():
            done.exception()  # retrieved here so an abandoned call never logs it as unhandled
        session.busy = False
        session.last_used = self._clock()
        self._leave()
        if session.closed and not session._env_closed and not session.stepping:
            self._close_later(session)

    def _close_later(self, session: Session) -> None:
        """Close a closed session's env once its last call has returned (a task, kept)."""
        task = asyncio.get_running_loop().create_task(self._close_env(session))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _update_empty(self) -> None:
        if not self._sessions and not self._opening:
            self._empty.set()

    async def _close_env(self, session: Session) -> None:
        if session._env_closed:
            return
        session._env_closed = True
        target = session.vector if session.vector is not None else session.env
        if target is None:
            return
        future = asyncio.wrap_future(self._executor.submit(target.close))
        self._closing.add(future)
        future.add_done_callback(self._closing.discard)
        try:
            await self._wait("close", future, self.close_timeout)
        except EnvError as exc:
            log.warning("session %s…: %s", session.id[:8], exc.message)

    async def _make_envs(self, count: int, render_mode: str | None = None) -> list[Environment]:
        """`count` new envs from the factory, within the reset timeout. Envs that arrive
        after their caller went away (its deadline, a timeout) are closed, not leaked."""
        factory = self._factory

        def make() -> list[Environment]:
            made: list[Environment] = []
            try:
                for _ in range(count):
                    made.append(make_env(factory, render_mode))
            except BaseException:
                _close_quietly(made)
                raise
            return made

        future = asyncio.wrap_future(self._executor.submit(make))
        try:
            return await self._wait("factory", future, self._timeouts["reset"])
        except BaseException:
            future.add_done_callback(self._close_unwanted)
            raise

    async def _make_workers(self, num_envs: int, autoreset: AutoresetMode) -> WorkerSubEnvs:
        """A batch of num_envs sub-envs in worker processes, each making its slice of envs
        within the reset timeout; workers that arrive after their caller went away are ended."""
        source, space = self._worker_source, self._vector_space
        assert source is not None
        assert space is not None

        def make() -> WorkerSubEnvs:
            return WorkerSubEnvs(
                source,
                num_envs,
                autoreset,
                self.vector_processes,
                space,
                self._observation_space is not None,
                step_timeout=self._timeouts["step"],
                reset_timeout=self._timeouts["reset"],
                close_timeout=self.close_timeout,
            )

        future = asyncio.wrap_future(self._executor.submit(make))
        try:
            return await self._wait("factory", future, 0.0)  # bounded inside, and cleaned up
        except BaseException:
            future.add_done_callback(self._close_unwanted_workers)
            raise

    def _close_unwanted_workers(self, done: asyncio.Future[WorkerSubEnvs]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._executor.submit(done.result().close)

    def _close_unwanted(self, done: asyncio.Future[list[Environment]]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._executor.submit(_close_quietly, done.result())


async def _within(future: asyncio.Future[Any], seconds: float) -> bool:
    """Wait until `future` is done or `seconds` (0: no limit) have passed; whether it is done.

    The future is never cancelled from here: a waiter that goes away (its caller's
    deadline, a cancelled stream) leaves the env call running and its session busy.
    One waiter future and one timer, where wait_for(shield()) makes several of each.
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    future.add_done_callback(wake)
    timer = loop.call_later(seconds, wake) if seconds else None
    try:
        await waiter
    finally:
        future.remove_done_callback(wake)
        if timer is not None:
            timer.cancel()
    return future.done()


async def _ready(sent: Sent, wanted: int) -> None:
    while len(sent.ready) < wanted:
        sent.changed.clear()
        await sent.changed.wait()


def _close_quietly(envs: Sequence[Environment]) -> None:
    for env in envs:
        try:
            env.close()
        except Exception as exc:
            log.warning("an env made for a request that went away failed to close: %r", exc)


def _replayed_reset(session: Session, request_id: str) -> asyncio.Future[Any] | None:
    """The last reset's outcome when this reset repeats its request id, else None."""
    if session.closed:
        raise SessionNotFound(session.id)
    last = session.last_reset
    if request_id and last is not None and last[0] == request_id:
        return last[1]
    return None


def _repeated_step(session: Session, step_index: int) -> asyncio.Future[Any] | None:
    """The outcome to answer again when a step repeats the index of the last one applied
    (still running, or done); None otherwise. A step that failed is not answered again:
    its repeat is judged afresh (the episode has ended, most often)."""
    if session.closed:
        raise SessionNotFound(session.id)
    last = session.last_step
    if not step_index or last is None or last[0] != step_index:
        return None
    outcome = last[1]
    if outcome.done() and (outcome.cancelled() or outcome.exception() is not None):
        return None
    return outcome


def _check_order(session: Session, step_index: int) -> None:
    """StepOutOfOrder unless the index is 0 (unchecked) or the next step's."""
    if step_index and step_index != session.step_count + 1:
        raise StepOutOfOrder(step_index, session.step_count)


def _at(session: Session) -> tuple[str, int]:
    """Where the session's episode stands: its id and its steps so far."""
    return session.episode_id, session.step_count


def _stepped(session: Session, action: Any, result: StepResult) -> Stepped:
    return Stepped(
        session.episode_id,
        session.step_count,
        action,
        float(result.reward),
        bool(result.terminated),
        bool(result.truncated),
        dict(result.reward_components),
    )


def _single(session: Session) -> Environment:
    if session.env is None:
        assert session.vector is not None
        raise WrongSessionKind(
            session.id, session.vector.num_envs, "send batched requests (ResetBatch, StepBatch)"
        )
    return session.env


def _env_error(error: BaseException) -> EnvError:
    """A sub-env's failure as the client gets it: its own EnvError, or the EnvCodeError of
    an exception its env code raised."""
    if isinstance(error, EnvError):
        return error
    wrapped = EnvCodeError("step", error)
    wrapped.__cause__ = error
    return wrapped


def batched(session: Session) -> SubEnvs | WorkerSubEnvs:
    """The sub-envs of a batched session; WRONG_SESSION_KIND for a single-env one."""
    if session.vector is None:
        raise WrongSessionKind(
            session.id,
            0,
            "send single-env requests (Reset, Step); batched requests, send and "
            "recv need a session made by ResetBatch",
        )
    return session.vector


def _check_nothing_in_flight(session: Session) -> None:
    waiting = session.unreceived
    if waiting:
        raise SubEnvsInFlight(
            f"session {session.id!r} has {waiting} sub-env steps sent and not received; "
            "recv them first",
            waiting,
        )
