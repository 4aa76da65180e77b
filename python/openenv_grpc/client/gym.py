"""`RemoteEnv`: a remote environment as a real `gymnasium.Env`.

Its spaces, metadata and spec come from Describe, and its episodes run on
one StepStream (the fast path, pinned to one server), so any Gymnasium
trainer or wrapper uses it unchanged. A multi-task env's task is chosen per
RemoteEnv (`task_id`) or per episode (`reset(options={"task": ...})`: a task id,
a `tasks.TaskSelector` or a dict of its fields), and a reward breakdown arrives in
`info["reward_components"]`:

    env = gymnasium.wrappers.RecordEpisodeStatistics(RemoteEnv("localhost:50051"))

It sits on the blocking face of the client core: each `step` is one
message each way on the stream, driven by the calling thread. When the
stream is lost under a call (the server restarted, the session was reaped
after `--session-ttl` idle seconds), that call raises the error, with its
reason, once; `step` then raises `ResetNeeded` until `reset` opens a new
stream with a new session.

With `render_mode` (one of the env's `render_modes`, "human" excepted) the
server makes the env in that mode, and `render()` returns what the local env
would, frame for frame, so `RecordVideo` works around a RemoteEnv too. Frames
travel raw by default; `frame_encoding="png"` or `"jpeg"` sends fewer bytes
(decoding them needs Pillow).
"""

from __future__ import annotations

from typing import Any, SupportsFloat, Unpack

import gymnasium as gym

from .client import ClientOptions, EnvClient, StreamSession


class RemoteEnv(gym.Env[Any, Any]):
    """A Gymnasium env whose steps run on an openenv-grpc server (takes the client's
    `ClientOptions` keywords: timeout, TLS files, token, ...)."""

    def __init__(
        self,
        address: str,
        *,
        task_id: str = "",
        render_mode: str | None = None,
        frame_encoding: str = "raw",
        **options: Unpack[ClientOptions],
    ) -> None:
        self.task_id = task_id
        self.client = EnvClient(address, **options)
        spec = self.client.describe()
        self.remote_spec = spec
        self.observation_space = spec.observation_space
        self.action_space = spec.action_space
        self.metadata = dict(spec.metadata)
        self.render_mode = render_mode
        self.frame_encoding = frame_encoding
        self._stream: StreamSession | None = None

    @property
    def session_id(self) -> str:
        """The server-side session id ("" before the first reset)."""
        return self._stream.session_id if self._stream is not None else ""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if self._stream is None:
            self._stream = self.client.stream(render_mode=self.render_mode or "")
        options = dict(options or {})
        task = options.pop("task", None)  # a task selector, not an env option
        if task is not None:
            reply = self._stream.reset(seed=seed, options=options, task=task)
        else:
            reply = self._stream.reset(seed=seed, options=options, task_id=self.task_id)
        return reply.observation, reply.info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        stream = self._stream
        if stream is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if stream.lost:
            raise gym.error.ResetNeeded(
                "the stream to the server was lost (reported by the call that met it); "
                "call reset() to open a new session"
            )
        reply = stream.step(action)
        info = reply.info
        if reply.reward_components:
            info["reward_components"] = reply.reward_components
        return reply.observation, reply.reward, reply.terminated, reply.truncated, info

    def render(self) -> Any:
        """The current frame, as the env's render() returns it in `render_mode` (None
        without one, as Gymnasium has it)."""
        if self.render_mode is None:
            return None
        if self._stream is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        return self._stream.render(self.frame_encoding)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.client.close()
        super().close()
