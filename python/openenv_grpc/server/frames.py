"""Render and WatchSession: a session's frames and a live view of it (see frames.proto).

Rendering is env code: `SessionManager.render` runs it off the loop, one call
at a time with the session's steps, within the step timeout. Encoding a frame
as PNG or JPEG is ours but costs milliseconds, so it runs on a thread too,
never on the event loop. A watch reads a `watch.Watcher` mailbox, which the
session's own calls fill (see `watch.py`): the watcher never enters the env
itself, so it can neither slow nor block the trainer that drives it.

Who may watch: the session's owner, or an admin principal (`admin` in the
tokens file, see `auth.py`). Rendering stays the owner's: it takes the
session's turn, and another caller's render could make the owner's next step
fail with SESSION_BUSY.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import numpy as np

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import frames_pb2

from .. import images
from ..codec import UnencodableValue, decode_map, encode_value
from ..errors import (
    EnvCodeError,
    EnvError,
    InvalidRequest,
    Reason,
    ResourceExhausted,
    WrongSessionKind,
    echo,
)
from ..sessions import Session, SessionManager
from ..status import to_proto
from ..tensors import encode_tensor
from ..watch import MAX_WATCHERS, EpisodeStarted, Event, Rendered, Stepped, Watch, Watcher
from .exposure import EnvErrors

SERVER_ONLY_MODES = ("human",)  # modes that would open a window on the server


def server_render_modes(description: pb.DescribeResponse) -> list[str]:
    """The render modes a session may ask for: the env's, less those that need a screen."""
    modes = decode_map(description.metadata).get("render_modes") or []
    return [str(m) for m in modes if m not in SERVER_ONLY_MODES]


def default_render_mode_problem(mode: str, description: pb.DescribeResponse) -> str:
    """Why a server's default render mode (`--render-mode`) cannot be ("" when it can)."""
    modes = server_render_modes(description)
    if not mode or mode in modes:
        return ""
    return (
        f"--render-mode {mode!r} is not one this env renders on a server; it renders: "
        f"{', '.join(modes) or 'nothing'}"
    )


class Frames:
    """The frames half of the servicer: render mode checks, Render, WatchSession."""

    def __init__(
        self,
        sessions: SessionManager,
        description: pb.DescribeResponse,
        env_errors: EnvErrors,
        default_render_mode: str = "",
    ) -> None:
        self._sessions = sessions
        self.render_modes = server_render_modes(description)
        self._env_errors = env_errors
        self.default_render_mode = default_render_mode

    def render_mode(self, requested: str, field: str = "new_session.render_mode") -> str | None:
        """The render mode a new session's env is made in: the one asked for (checked
        against the env's), else the server's default; None for none."""
        mode = requested or self.default_render_mode
        if mode and mode not in self.render_modes:
            offer = ", ".join(self.render_modes) or "none"
            raise InvalidRequest(
                f"render mode {echo(mode)!r} is not one this env renders here; ask for one of: "
                f"{offer} (Describe's metadata lists them; 'human' would open a window on the "
                "server)",
                field=field,
            )
        return mode or None

    async def render(
        self, session: Session, request: frames_pb2.RenderRequest, out: frames_pb2.RenderResponse
    ) -> None:
        """The session's current frame, encoded as the request asks."""
        if session.vector is not None:
            raise _batched_session(session)
        quality = _quality(request.jpeg_quality)
        if not session.render_mode:  # Gymnasium's render() without a mode: None, unasked
            out.frame.episode_id, out.frame.step_index = session.episode_id, session.step_count
            return
        rendered = await self._sessions.render(session)
        await encode_frame(rendered, request.encoding, quality, out.frame)

    async def watch(
        self, session: Session, request: frames_pb2.WatchSessionRequest
    ) -> AsyncIterator[frames_pb2.WatchSessionResponse]:
        """The events of a live session until it closes (or the watcher leaves)."""
        if session.vector is not None:
            raise _batched_session(session)
        if not math.isfinite(request.max_fps) or request.max_fps < 0:
            raise InvalidRequest(
                f"max_fps is {request.max_fps}; ask for 0 (step summaries only) or a positive "
                "number of frames a second",
                field="max_fps",
            )
        quality = _quality(request.jpeg_quality)
        watch = session.watch or Watch(asyncio.get_running_loop(), session.render_mode)
        if len(watch.watchers) >= MAX_WATCHERS:
            raise ResourceExhausted(
                f"session {session.id[:8]}… already has {MAX_WATCHERS} watchers, the most it "
                "may have; close one, or watch again later",
                reason=Reason.SESSION_LIMIT,
                metadata={"limit": str(MAX_WATCHERS), "scope": "watchers"},
            )
        session.watch = watch
        watcher = Watcher(request.max_fps if session.render_mode else 0.0)
        watch.add(watcher)
        try:
            first = frames_pb2.WatchSessionResponse()
            start = first.start
            start.session_id, start.episode_id = session.id, session.episode_id
            start.step_count, start.episode_done = session.step_count, session.episode_done
            start.render_mode, start.max_fps = session.render_mode or "", watcher.max_fps
            yield first
            last = watch.last_frame
            if watcher.max_fps and last is not None and last.step_index == session.step_count:
                yield await self._message(last, request.encoding, quality)
            while True:
                event, dropped = await watcher.get()
                message = await self._message(event, request.encoding, quality)
                message.dropped = dropped
                yield message
                if message.HasField("end"):
                    return
        finally:
            watch.remove(watcher)
            if not watch.watchers and session.watch is watch:
                session.watch = None

    async def _message(
        self, event: Event, encoding: int, quality: int
    ) -> frames_pb2.WatchSessionResponse:
        message = frames_pb2.WatchSessionResponse()
        if isinstance(event, Stepped):
            step = message.step
            step.episode_id, step.step_index = event.episode_id, event.step_index
            step.reward, step.terminated, step.truncated = (
                event.reward,
                event.terminated,
                event.truncated,
            )
            step.reward_components.update(event.reward_components)
            encode_value(event.action, out=step.action)
        elif isinstance(event, EpisodeStarted):
            message.episode_start.episode_id = event.episode_id
        elif isinstance(event, Rendered):
            try:
                if event.error is not None:
                    raise EnvCodeError("render", event.error)
                await encode_frame(event, encoding, quality, message.frame)
            except EnvError as exc:
                message.ClearField("event")
                to_proto(self._env_errors.shown(exc), message.error)
        else:
            message.end.reason = event.reason
        return message


async def encode_frame(
    rendered: Rendered, encoding: int, quality: int, out: frames_pb2.Frame
) -> None:
    """A render as a Frame: an image as a Tensor or encoded (PNG/JPEG, on a thread), text
    as text, None as no content, anything else as a generic value."""
    out.render_mode = rendered.render_mode
    out.episode_id, out.step_index = rendered.episode_id, rendered.step_index
    frame = rendered.frame
    try:
        if frame is None:
            return
        if isinstance(frame, str):
            out.text = frame
        elif images.is_image(frame) and encoding in MEDIA_TYPES:
            wanted = MEDIA_TYPES[encoding]
            media_type, data = await asyncio.to_thread(images.encode, frame, wanted, quality)
            out.image.media_type, out.image.data = media_type, data
            out.image.height, out.image.width = frame.shape[0], frame.shape[1]
        elif isinstance(frame, np.ndarray):
            encode_tensor(frame, out=out.pixels)
        else:
            encode_value(frame, out=out.value)
    except (UnencodableValue, ValueError, TypeError) as exc:
        raise EnvCodeError("render", f"a frame the protocol cannot carry: {exc}") from exc


JPEG = frames_pb2.FRAME_ENCODING_JPEG
MEDIA_TYPES: dict[int, str] = {
    frames_pb2.FRAME_ENCODING_PNG: images.PNG_TYPE,
    JPEG: images.JPEG_TYPE,
}


def _quality(requested: int) -> int:
    if not 0 <= requested <= 100:
        raise InvalidRequest(
            f"jpeg_quality is {requested}; give 1 to 100, or 0 for {images.JPEG_QUALITY}",
            field="jpeg_quality",
        )
    return requested or images.JPEG_QUALITY


def _batched_session(session: Session) -> EnvError:
    assert session.vector is not None
    return WrongSessionKind(
        session.id,
        session.vector.num_envs,
        "render and watch single-env sessions (made by Reset); a batched session has no frame",
    )
