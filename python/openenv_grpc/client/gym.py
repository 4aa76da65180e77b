"""`RemoteEnv`: a remote environment as a real `gymnasium.Env`.

Its spaces, metadata and spec come from Describe, and its episodes run on
one StepStream (the fast path, pinned to one server), so any Gymnasium
trainer or wrapper uses it unchanged. A multi-task env's task is chosen per
RemoteEnv (`task_id`) or per episode (`reset(options={"task": ...})`: a task id,
a `tasks.TaskSelector` or a dict of its fields), and a reward breakdown arrives in
`info["reward_components"]`:

    env = gymnasium.wrappers.RecordEpisodeStatistics(RemoteEnv("localhost:50051"))

It sits on the blocking face of the client core: each `step` is one
message each way on the stream, driven by the calling thread. The address
may name several servers (a list, or a `dns:` name over many pods): each
episode's stream goes to the next live one and stays there. When the stream
is lost under a step (the server was killed or drained, the session reaped
after `--session-ttl` idle seconds), that step ends the episode: truncated,
reward 0, the last observation, and the reason in `info["error"]`
(`on_lost="raise"` raises the error instead); `reset` then opens a new
stream and session on a server alive then.

With `render_mode` (one of the env's `render_modes`, "human" excepted) the
server makes the env in that mode, and `render()` returns what the local env
would, frame for frame, so `RecordVideo` works around a RemoteEnv too. Frames
travel raw by default; `frame_encoding="png"` or `"jpeg"` sends fewer bytes
(decoding them needs Pillow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, SupportsFloat, Unpack

import gymnasium as gym

from ..errors import EnvError
from .client import ClientOptions, EnvClient, StreamSession


class RemoteEnv(gym.Env[Any, Any]):
    """A Gymnasium env whose steps run on an openenv-grpc server (takes the client's
    `ClientOptions` keywords: timeout, TLS files, token, ...)."""

    def __init__(
        self,
        address: str | Sequence[str],
        *,
        task_id: str = "",
        render_mode: str | None = None,
        frame_encoding: str = "raw",
        on_lost: Literal["truncate", "raise"] = "truncate",
        **options: Unpack[ClientOptions],
    ) -> None:
        self.task_id = task_id
        self.on_lost = on_lost
        self._observation: Any = None
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
        self._observation = reply.observation
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
        try:
            reply = stream.step(action)
        except EnvError as error:
            if not stream.lost or self.on_lost == "raise":
                raise
            # The server or the session is gone: the episode ends here, and says why.
            lost = {"reason": error.reason or error.code.name, "message": error.message}
            return self._observation, 0.0, False, True, {"error": lost}
        self._observation = reply.observation
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
