"""The playground's side of gRPC: one channel to the env server, a session per page.

The playground is a client like any other: it speaks the contract to the env
server (Describe, Reset, Step, Render, CallTool, WatchSession) with the
caller's token, and turns every answer into the JSON the page shows. Nothing
here knows of HTTP; `app.py` carries these dicts over WebSockets.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import frames_pb2, tools_pb2

from .. import spaces, status
from ..client import wire
from ..client.frames import watch_request
from ..codec import decode_for_space, decode_map, decode_value, encode_value
from ..errors import Code, EnvError, InvalidArgument, NotFound
from ..tensors import decode_tensor
from .jsonish import action_from_json, data_url, space_json, to_json

PREFERRED_MODES = ("rgb_array", "ansi")  # what a page can show, best first


class Remote:
    """One channel to the env server, shared by every page of the playground."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.token = wire.token_or_environment(token)
        options = wire.channel_options()
        self.channel = (
            grpc.aio.secure_channel(address, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(address, options=options)
        )
        self.stub = pb_grpc.EnvServiceStub(self.channel)
        self._spec: Spec | None = None

    async def spec(self) -> Spec:
        """The env's spec (Describe), fetched once."""
        if self._spec is None:
            self._spec = Spec(await self.call("Describe", pb.DescribeRequest()))
        return self._spec

    async def call(self, method: str, request: Any, session_id: str = "") -> Any:
        """One unary call with the playground's deadline and headers; failures as EnvErrors."""
        try:
            return await getattr(self.stub, method)(
                request, timeout=self.timeout, metadata=wire.metadata(session_id, self.token)
            )
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None

    def watch(self, session_id: str, max_fps: float) -> Any:
        """The WatchSession stream of a session (PNG frames)."""
        return self.stub.WatchSession(
            watch_request(session_id, max_fps, "png"),
            metadata=wire.metadata(session_id, self.token),
        )

    async def close(self) -> None:
        await self.channel.close(None)


class Spec:
    """The env's spec, decoded, and as the page shows it."""

    def __init__(self, response: pb.DescribeResponse) -> None:
        self.observation_space = spaces.from_proto(response.observation_space)
        self.action_space = spaces.from_proto(response.action_space)
        self.metadata = decode_map(response.metadata)
        modes = [m for m in self.metadata.get("render_modes") or [] if m != "human"]
        self.render_mode = next((m for m in PREFERRED_MODES if m in modes), "")
        self.tools = [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": json.loads(tool.input_schema_json or "{}"),
            }
            for tool in getattr(response, "tools", ())
        ]
        caps = response.capabilities
        self.json = {
            "env_name": response.env_name,
            "env_version": response.env_version,
            "server_version": response.server_version,
            "protocol_version": response.protocol_version,
            "observation_space": str(self.observation_space),
            "action_space": str(self.action_space),
            "action": space_json(self.action_space),
            "reward_range": to_json([response.reward_range.low, response.reward_range.high]),
            "metadata": to_json(self.metadata),
            "render_mode": self.render_mode,
            "tools": self.tools,
            "capabilities": {"batched": caps.batched, "tools": caps.tools},
        }


class Play:
    """One page's session on the env server: reset, step, tool calls, and its frame."""

    def __init__(self, remote: Remote, spec: Spec) -> None:
        self.remote = remote
        self.spec = spec
        self.session_id = ""
        self.step_index = 0
        self.episode_return = 0.0

    async def reset(self, seed: int | None = None) -> dict[str, Any]:
        request = pb.ResetRequest(request_id=str(uuid.uuid4()))
        if seed is not None:
            request.seed = seed
        if self.session_id:
            request.session_id = self.session_id
        else:
            new = request.new_session
            new.request_id, new.render_mode = request.request_id, self.spec.render_mode
        try:
            response = await self.remote.call("Reset", request, self.session_id)
        except NotFound:
            if not self.session_id:
                raise
            self.session_id = ""  # reaped while the page was idle: start a new one
            return await self.reset(seed)
        self.session_id, self.step_index, self.episode_return = response.session_id, 0, 0.0
        return {
            "type": "reset",
            "session_id": response.session_id,
            "episode_id": response.episode_id,
            "observation": self._observation(response.observation),
            "info": to_json(decode_map(response.info)),
            "frame": await self.frame(),
        }

    async def step(self, action: Any) -> dict[str, Any]:
        if not self.session_id:
            raise InvalidArgument("reset first: there is no episode to step yet")
        try:
            value = action_from_json(action, self.spec.action_space)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidArgument(
                f"the action does not fit {self.spec.action_space}: {exc}"
            ) from None
        request = pb.StepRequest(
            session_id=self.session_id, action=encode_value(value), step_index=self.step_index + 1
        )
        response = await self.remote.call("Step", request, self.session_id)
        self.step_index = response.step_index
        self.episode_return += response.reward
        return {
            "type": "step",
            "step_index": response.step_index,
            "action": to_json(value),
            "observation": self._observation(response.observation),
            "reward": to_json(response.reward),
            "reward_components": to_json(dict(response.reward_components)),
            "terminated": response.terminated,
            "truncated": response.truncated,
            "info": to_json(decode_map(response.info)),
            "episode_return": to_json(self.episode_return),
            "frame": await self.frame(),
        }

    async def tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if not self.session_id:
            raise InvalidArgument("reset first: tools act on the session's env")
        request = tools_pb2.CallToolRequest(
            session_id=self.session_id,
            name=name,
            arguments_json=json.dumps(arguments),
            request_id=str(uuid.uuid4()),
        )
        response = await self.remote.call("CallTool", request, self.session_id)
        structured = response.structured_content_json
        return {
            "type": "tool",
            "name": name,
            "content": [item.text for item in response.content],
            "structured": json.loads(structured) if structured else None,
            "is_error": response.is_error,
        }

    async def frame(self) -> dict[str, Any] | None:
        """The session's current frame as the page shows it (None without a render mode)."""
        if not self.spec.render_mode:
            return None
        request = frames_pb2.RenderRequest(
            session_id=self.session_id, encoding=frames_pb2.FRAME_ENCODING_PNG
        )
        response = await self.remote.call("Render", request, self.session_id)
        return frame_json(response.frame)

    async def close(self) -> None:
        if self.session_id:
            session_id, self.session_id = self.session_id, ""
            await self.remote.call(
                "CloseSession", pb.CloseSessionRequest(session_id=session_id), session_id
            )

    def _observation(self, value: Any) -> Any:
        space: gs.Space[Any] = self.spec.observation_space
        return to_json(decode_for_space(value, space))


def frame_json(frame: frames_pb2.Frame) -> dict[str, Any] | None:
    """A Frame as the page shows it: an image URL, text, or a value."""
    kind = frame.WhichOneof("content")
    where = {"step_index": frame.step_index, "episode_id": frame.episode_id}
    if kind == "image":
        return {"image": data_url(frame.image.media_type, frame.image.data), **where}
    if kind == "text":
        return {"text": frame.text, **where}
    if kind == "pixels":
        return {"value": to_json(decode_tensor(frame.pixels)), **where}
    if kind == "value":
        return {"value": to_json(decode_value(frame.value)), **where}
    return None


async def watch_json(
    remote: Remote, session_id: str, max_fps: float
) -> AsyncIterator[dict[str, Any]]:
    """A watched session's events as the page shows them, until the session ends."""
    call = remote.watch(session_id, max_fps)
    try:
        async for message in call:
            event: dict[str, Any]
            kind = message.WhichOneof("event")
            if kind == "start":
                s = message.start
                event = {
                    "session_id": s.session_id,
                    "episode_id": s.episode_id,
                    "step_count": s.step_count,
                    "episode_done": s.episode_done,
                    "render_mode": s.render_mode,
                    "max_fps": s.max_fps,
                }
            elif kind == "step":
                step = message.step
                event = {
                    "episode_id": step.episode_id,
                    "step_index": step.step_index,
                    "action": to_json(decode_value(step.action)),
                    "reward": to_json(step.reward),
                    "reward_components": to_json(dict(step.reward_components)),
                    "terminated": step.terminated,
                    "truncated": step.truncated,
                }
            elif kind == "episode_start":
                event = {"episode_id": message.episode_start.episode_id}
            elif kind == "frame":
                event = {"frame": frame_json(message.frame)}
            elif kind == "error":
                event = error_json(status.from_proto(message.error))
            else:
                event = {"reason": message.end.reason}
            yield {"type": kind or "", "dropped": message.dropped, **event}
    except grpc.aio.AioRpcError as exc:
        raise _error(exc) from None
    finally:
        call.cancel()


def error_json(error: EnvError, op: str = "") -> dict[str, Any]:
    return {
        "type": "error",
        "op": op,
        "code": Code(error.code).name,
        "reason": error.reason,
        "message": error.message,
    }


def _error(exc: grpc.aio.AioRpcError) -> EnvError:
    code = exc.code() or grpc.StatusCode.UNKNOWN
    trailers: Any = exc.trailing_metadata() or ()
    details = next((v for k, v in trailers if k == status.DETAILS_KEY), None)
    blob = details if isinstance(details, bytes) else None
    return status.from_details(code.value[0], exc.details() or "", blob)
