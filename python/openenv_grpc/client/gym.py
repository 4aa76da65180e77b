"""`RemoteEnv`: a remote environment as a real `gymnasium.Env`.

Its spaces, metadata and spec come from Describe, and its episodes run on
one StepStream (the fast path, pinned to one server), so any Gymnasium
trainer or wrapper uses it unchanged. A multi-task env's task is chosen per
RemoteEnv (`task_id`), and a reward breakdown arrives in
`info["reward_components"]`:

    env = gymnasium.wrappers.RecordEpisodeStatistics(RemoteEnv("localhost:50051"))
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import grpc
import gymnasium as gym

from .client import DEFAULT_TIMEOUT, EnvClient, StreamSession, tls_credentials


class RemoteEnv(gym.Env[Any, Any]):
    """A Gymnasium env whose steps run on an openenv-grpc server."""

    def __init__(
        self,
        address: str,
        *,
        task_id: str = "",
        timeout: float | None = DEFAULT_TIMEOUT,
        render_mode: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        token: str | None = None,
    ) -> None:
        self.task_id = task_id
        self.client = EnvClient(
            address,
            timeout=timeout,
            credentials=credentials or tls_credentials(ca_file, cert_file, key_file),
            token=token,
        )
        spec = self.client.describe()
        self.remote_spec = spec
        self.observation_space = spec.observation_space
        self.action_space = spec.action_space
        self.metadata = dict(spec.metadata)
        self.render_mode = render_mode
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
            self._stream = self.client.stream()
        reply = self._stream.reset(seed=seed, options=options, task_id=self.task_id)
        return reply.observation, reply.info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._stream is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        reply = self._stream.step(action)
        info = reply.info
        if reply.reward_components:
            info["reward_components"] = reply.reward_components
        return reply.observation, reply.reward, reply.terminated, reply.truncated, info

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.client.close()
        super().close()
