"""Watchers of a live session: its step summaries and frames, at each watcher's own pace.

A person watching a trainer's episode must never slow it. So a watcher never
asks the env for anything: the session's own calls tell the session's
`Watch` what happened, right after each reset or step, on the thread that
ran it and while the env is still the call's. Only when a watcher is due a
frame (its rate allows one and it has taken its last one) is the env
rendered there, once for every watcher due. A watcher holds at most one
frame not yet sent and MAX_EVENTS events in all: what a slow watcher cannot
take is dropped (the oldest first) and counted, never queued without bound,
and a watcher that stops reading costs the session no render at all.

Knows no transport: `server/frames.py` turns these events into messages.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .env import Environment

MAX_EVENTS = 256  # per watcher: beyond it the oldest events are dropped
MAX_WATCHERS = 8  # per session
MAX_FPS = 30.0  # the fastest frame rate a watcher is granted


@dataclass(frozen=True)
class EpisodeStarted:
    """A reset of the session completed."""

    episode_id: str


@dataclass(frozen=True)
class Stepped:
    """A step of the session was applied."""

    episode_id: str
    step_index: int
    action: Any
    reward: float
    terminated: bool
    truncated: bool
    reward_components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A frame of the session (or the error rendering it raised)."""

    render_mode: str
    episode_id: str
    step_index: int
    frame: Any = None
    error: Exception | None = None


@dataclass(frozen=True)
class Ended:
    """The session closed."""

    reason: str


Event = EpisodeStarted | Stepped | Rendered | Ended


class Watcher:
    """One watcher's mailbox: bounded, frames at its rate, told what it missed."""

    def __init__(self, max_fps: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_fps = min(max(max_fps, 0.0), MAX_FPS)
        self._period = 1.0 / self.max_fps if self.max_fps else 0.0
        self._clock = clock
        self._events: collections.deque[Event] = collections.deque()
        self._wake = asyncio.Event()
        self._next_frame = 0.0
        self.frame_waiting = False  # a frame is in the mailbox, not yet taken
        self.dropped = 0  # events dropped since the last one taken
        self.ended = False

    def wants_frame(self, now: float) -> bool:
        """Whether a frame made now would be this watcher's (read from env threads)."""
        return (
            bool(self._period)
            and not self.frame_waiting
            and not self.ended
            and (now >= self._next_frame)
        )

    def promise_frame(self, now: float) -> None:
        """A frame is being made for this watcher: it waits for it from now on (the frame
        reaches the mailbox later, on the loop), and the next is due a period later."""
        self.frame_waiting = True
        self._next_frame = now + self._period

    def put(self, event: Event) -> None:
        """Add an event (on the event loop); the oldest goes when the mailbox is full."""
        if self.ended:
            return
        if len(self._events) >= MAX_EVENTS:
            old = self._events.popleft()
            self.dropped += 1
            if isinstance(old, Rendered):
                self.frame_waiting = False
        self._events.append(event)
        self.ended = isinstance(event, Ended)
        self._wake.set()

    async def get(self) -> tuple[Event, int]:
        """The next event and how many were dropped just before it, waiting for one."""
        while not self._events:
            self._wake.clear()
            await self._wake.wait()
        event = self._events.popleft()
        if isinstance(event, Rendered):
            self.frame_waiting = False
        dropped, self.dropped = self.dropped, 0
        return event, dropped


class Watch:
    """A session's watchers, and what the session's env calls tell them.

    `called` runs on the thread of an env call (or on the loop, for an env
    called inline); everything else on the event loop.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        render_mode: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loop = loop
        self.render_mode = render_mode or ""
        self._clock = clock
        self.watchers: tuple[Watcher, ...] = ()  # replaced, never mutated: threads read it
        self.last_frame: Rendered | None = None

    def add(self, watcher: Watcher) -> None:
        self.watchers = (*self.watchers, watcher)

    def remove(self, watcher: Watcher) -> None:
        self.watchers = tuple(w for w in self.watchers if w is not watcher)

    def called(
        self, env: Environment, event: EpisodeStarted | Stepped, episode_id: str, step: int
    ) -> None:
        """Right after a reset or step, with the env still the call's: render when a
        watcher is due a frame, then hand the event (and frame) to the loop."""
        now = self._clock()
        due = [w for w in self.watchers if w.wants_frame(now)] if self.render_mode else []
        frame = None
        if due:
            for watcher in due:
                watcher.promise_frame(now)
            frame = render(env, self.render_mode, episode_id, step)
        self._loop.call_soon_threadsafe(self._publish, event, frame, due)

    def rendered(self, frame: Rendered) -> None:
        """A frame the owner asked for (Render): also the frame of every watcher due one."""
        now = self._clock()
        due = [w for w in self.watchers if w.wants_frame(now)]
        for watcher in due:
            watcher.promise_frame(now)
        self._publish(None, frame, due)

    def end(self, reason: str) -> None:
        for watcher in self.watchers:
            watcher.put(Ended(reason))
        self.watchers = ()

    def _publish(self, event: Event | None, frame: Rendered | None, due: list[Watcher]) -> None:
        if event is not None:
            for watcher in self.watchers:
                watcher.put(event)
        if frame is not None:
            if frame.error is None:
                self.last_frame = frame
            for watcher in due:
                watcher.put(frame)


def render(env: Environment, render_mode: str, episode_id: str, step: int) -> Rendered:
    """The env's frame now; its error, if it raised."""
    try:
        return Rendered(render_mode, episode_id, step, snapshot(env))
    except Exception as exc:  # env code: any failure is the env's, reported to watchers
        return Rendered(render_mode, episode_id, step, error=exc)


def snapshot(env: Environment) -> Any:
    """The env's render, an array copied: an env may draw the next frame into the same
    buffer while this one still waits to be encoded and sent."""
    frame = env.render()
    return frame.copy() if isinstance(frame, np.ndarray) else frame
