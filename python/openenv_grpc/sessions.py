"""The session table: one environment per session, limits, idle reaping, one call at a time.

Env code is synchronous and may be slow, so every call into it runs on a
thread pool and the event loop stays free for other sessions. A session
takes one call at a time: a second call while one runs fails at once with
SessionBusy (FAILED_PRECONDITION) instead of queueing behind it, so a
confused client learns of its bug instead of deadlocking. The session stays
busy until the env call has really returned, even when the caller gave up
(deadline, cancelled stream), so an env is never entered by two threads.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .env import EnvFactory, Environment, ResetResult, StepResult
from .errors import (
    EnvCodeError,
    EnvError,
    EpisodeEnded,
    SessionBusy,
    SessionLimitReached,
    SessionNotFound,
    Unavailable,
)

log = logging.getLogger("openenv_grpc.sessions")
T = TypeVar("T")


class CloseReason(enum.Enum):
    """Why a session ended; the value is what the log line says."""

    CLIENT = "closed by the client"
    STREAM_ENDED = "its stream ended"
    RESET_FAILED = "its first reset failed"
    IDLE = "idle for longer than the session TTL"
    SHUTDOWN = "the server is shutting down"

    @property
    def label(self) -> str:
        """A short metric and log label: client, stream_ended, ..."""
        return self.name.lower()


@dataclass(eq=False)
class Session:
    """One environment instance and where its episode stands."""

    id: str
    env: Environment
    last_used: float
    episode_id: str = ""
    step_count: int = 0
    episode_done: bool = True
    done_reason: str = "has not started"
    busy: bool = False
    closed: bool = False
    _env_closed: bool = field(default=False, repr=False)


class SessionListener(Protocol):
    """Told when sessions open and close (metrics, health); must not block or raise."""

    def session_opened(self, session: Session, open_sessions: int) -> None: ...

    def session_closed(self, session: Session, reason: CloseReason, open_sessions: int) -> None: ...


class SessionManager:
    """Creates, finds, runs and closes sessions; knows nothing of the transport."""

    def __init__(
        self,
        factory: EnvFactory,
        *,
        max_sessions: int = 0,
        ttl_seconds: float = 0.0,
        executor: Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        listeners: Sequence[SessionListener] = (),
    ) -> None:
        self._factory = factory
        self._listeners = list(listeners)
        self.max_sessions = max_sessions
        self.ttl_seconds = ttl_seconds
        self._executor = executor or ThreadPoolExecutor(thread_name_prefix="openenv-env")
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._opening = 0
        self._busy = 0
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

    def start_draining(self) -> None:
        """Refuse new sessions from now on (UNAVAILABLE); existing ones go on."""
        self.draining = True

    async def wait_until_empty(self) -> None:
        """Until no session is open (nor being opened)."""
        await self._empty.wait()

    async def wait_until_idle(self) -> None:
        """Until no call into env code is running."""
        await self._idle.wait()

    def get(self, session_id: str) -> Session:
        """The live session with this id, or SessionNotFound."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    async def open(self) -> Session:
        """Make a new session with a fresh env (SessionLimitReached at the limit)."""
        if self.draining:
            raise Unavailable(
                "the server is draining before it shuts down and takes no new sessions; "
                "connect to another server"
            )
        if self.at_limit:
            raise SessionLimitReached(self.max_sessions)
        self._opening += 1
        self._empty.clear()
        try:
            env = await self._in_thread("the env factory", self._factory)
        finally:
            self._opening -= 1
            self._update_empty()
        session = Session(id=uuid.uuid4().hex, env=env, last_used=self._clock())
        self._sessions[session.id] = session
        self._empty.clear()
        open_sessions = len(self._sessions)
        log.info(
            "session %s started (%d open)",
            session.id,
            open_sessions,
            extra={"event": "session_start", "session_id": session.id},
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
    ) -> ResetResult:
        """Start a new episode in the session."""

        def run() -> ResetResult:
            session.episode_done, session.done_reason = True, "ended with an error in reset"
            result = session.env.reset(seed=seed, options=options, task_id=task_id)
            if not isinstance(result, ResetResult):
                raise TypeError(f"reset returned {type(result).__name__}, not ResetResult")
            session.episode_id, session.step_count = uuid.uuid4().hex, 0
            session.episode_done, session.done_reason = False, ""
            return result

        return await self._call(session, "reset", run)

    async def step(self, session: Session, action: Any) -> StepResult:
        """Apply an action (already checked against the action space)."""
        self._check_free(session)
        if session.episode_done:
            raise EpisodeEnded(session.id, session.done_reason)

        def run() -> StepResult:
            try:
                result = session.env.step(action)
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
            return result

        return await self._call(session, "step", run)

    async def state(self, session: Session) -> Any:
        """The env's own state() value."""
        return await self._call(session, "state", session.env.state)

    def end_episode(self, session: Session, why: str) -> None:
        """Mark the current episode over (Step then needs a Reset), e.g. after a lost result."""
        session.episode_done, session.done_reason = True, why

    async def close(self, session_id: str, reason: CloseReason) -> None:
        """Remove the session and close its env (after a running call returns)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionNotFound(session_id)
        session.closed = True
        open_sessions = len(self._sessions)
        log.info(
            "session %s ended: %s (%d open)",
            session_id,
            reason.value,
            open_sessions,
            extra={"event": "session_end", "session_id": session_id, "reason": reason.label},
        )
        for listener in self._listeners:
            listener.session_closed(session, reason, open_sessions)
        self._update_empty()
        if not session.busy:
            await self._close_env(session)

    async def reap_expired(self) -> list[str]:
        """Close every session idle for longer than the TTL; returns their ids."""
        if not self.ttl_seconds:
            return []
        deadline = self._clock() - self.ttl_seconds
        expired = [s.id for s in self._sessions.values() if not s.busy and s.last_used < deadline]
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
        """Close every session (server shutdown)."""
        for session_id in list(self._sessions):
            await self.close(session_id, reason)

    def shutdown(self) -> None:
        """Stop the thread pool without waiting for env calls still running."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _check_free(session: Session) -> None:
        if session.closed:
            raise SessionNotFound(session.id)
        if session.busy:
            raise SessionBusy(session.id)

    async def _call(self, session: Session, where: str, fn: Callable[[], T]) -> T:
        self._check_free(session)
        session.busy = True
        session.last_used = self._clock()
        self._busy += 1
        self._idle.clear()
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        future.add_done_callback(lambda done: self._release(session, done))
        try:
            # shield: a caller that goes away (deadline, cancel) leaves the call
            # running, and the session busy, until the env has returned.
            return await asyncio.shield(future)
        except EnvError:
            raise
        except Exception as exc:
            raise EnvCodeError(where, exc) from exc

    def _release(self, session: Session, done: asyncio.Future[Any]) -> None:
        if not done.cancelled():
            done.exception()  # retrieved here so an abandoned call never logs it as unhandled
        session.busy = False
        session.last_used = self._clock()
        self._busy -= 1
        if not self._busy:
            self._idle.set()
        if session.closed and not session._env_closed:
            asyncio.get_running_loop().create_task(self._close_env(session))

    def _update_empty(self) -> None:
        if not self._sessions and not self._opening:
            self._empty.set()

    async def _close_env(self, session: Session) -> None:
        if session._env_closed:
            return
        session._env_closed = True
        try:
            await self._in_thread("close", session.env.close)
        except EnvError as exc:
            log.warning("session %s: %s", session.id, exc)

    async def _in_thread(self, where: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except Exception as exc:
            raise EnvCodeError(where, exc) from exc
