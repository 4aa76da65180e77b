"""Frames on the client: Render and WatchSession requests, and their answers decoded.

A frame comes back in the form the env's own `render()` gives it, so
`RemoteEnv(addr, render_mode="rgb_array").render()` returns what a local env
returns: RAW frames (the default) are the very array, PNG frames decode to
the same pixels, JPEG ones to nearly the same (decoding either needs Pillow).
A watch is a stream of typed events: the server's own (`watch.py`), and
`WatchStarted` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openenv_proto.v1 import frames_pb2

from .. import images, status
from ..codec import decode_value
from ..errors import InvalidArgument
from ..tensors import decode_tensor
from ..watch import Ended, EpisodeStarted, Rendered, Stepped

ENCODINGS = {
    "raw": frames_pb2.FRAME_ENCODING_RAW,
    "png": frames_pb2.FRAME_ENCODING_PNG,
    "jpeg": frames_pb2.FRAME_ENCODING_JPEG,
}


def encoding(name: str) -> frames_pb2.FrameEncoding.ValueType:
    """The FrameEncoding of "raw", "png" or "jpeg"."""
    try:
        return ENCODINGS[name.lower()]
    except KeyError:
        raise InvalidArgument(
            f"frame encoding {name!r} is none of {', '.join(ENCODINGS)}"
        ) from None


def render_request(
    session_id: str = "", frame_encoding: str = "raw", jpeg_quality: int = 0
) -> frames_pb2.RenderRequest:
    return frames_pb2.RenderRequest(
        session_id=session_id, encoding=encoding(frame_encoding), jpeg_quality=jpeg_quality
    )


def watch_request(
    session_id: str, max_fps: float = 10.0, frame_encoding: str = "png", jpeg_quality: int = 0
) -> frames_pb2.WatchSessionRequest:
    return frames_pb2.WatchSessionRequest(
        session_id=session_id,
        max_fps=max_fps,
        encoding=encoding(frame_encoding),
        jpeg_quality=jpeg_quality,
    )


def decode_frame(frame: frames_pb2.Frame, *, keep_encoded: bool = False) -> Any:
    """What the env's render returned: an array (decoded from PNG/JPEG unless
    `keep_encoded`, then the `EncodedImage` itself), a string, a value, or None."""
    kind = frame.WhichOneof("content")
    if kind == "pixels":
        return decode_tensor(frame.pixels)
    if kind == "image":
        return frame.image if keep_encoded else images.decode(frame.image.data)
    if kind == "text":
        return frame.text
    if kind == "value":
        return decode_value(frame.value)
    return None


@dataclass(frozen=True)
class WatchStarted:
    """Where the watched session stood when watching began."""

    session_id: str
    episode_id: str
    step_count: int
    episode_done: bool
    render_mode: str
    max_fps: float


WatchEvent = WatchStarted | EpisodeStarted | Stepped | Rendered | Ended
"""The events of a watch: the server's own (watch.py); a Rendered carries the frame as
`decode_frame` gives it, or the error rendering it raised."""


@dataclass(frozen=True)
class Watched:
    """One event and how many the watcher missed just before it (read too slowly)."""

    event: WatchEvent
    dropped: int = 0


def watch_event(message: frames_pb2.WatchSessionResponse, *, keep_encoded: bool = False) -> Watched:
    """One WatchSessionResponse as a typed event."""
    kind = message.WhichOneof("event")
    event: WatchEvent
    if kind == "start":
        s = message.start
        event = WatchStarted(
            s.session_id, s.episode_id, s.step_count, s.episode_done, s.render_mode, s.max_fps
        )
    elif kind == "episode_start":
        event = EpisodeStarted(message.episode_start.episode_id)
    elif kind == "step":
        step = message.step
        event = Stepped(
            step.episode_id,
            step.step_index,
            decode_value(step.action),
            step.reward,
            step.terminated,
            step.truncated,
            dict(step.reward_components),
        )
    elif kind == "frame":
        f = message.frame
        frame = decode_frame(f, keep_encoded=keep_encoded)
        event = Rendered(f.render_mode, f.episode_id, f.step_index, frame)
    elif kind == "error":
        event = Rendered("", "", 0, error=status.from_proto(message.error))
    else:
        event = Ended(message.end.reason)
    return Watched(event, message.dropped)


def watch_events(
    messages: Iterable[frames_pb2.WatchSessionResponse], *, keep_encoded: bool = False
) -> Iterator[Watched]:
    """The typed events of a WatchSession stream, until the session ends."""
    for message in messages:
        yield watch_event(message, keep_encoded=keep_encoded)
