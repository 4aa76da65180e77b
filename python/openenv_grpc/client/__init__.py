"""Clients of EnvService: blocking, asyncio, and the Gymnasium face."""

from __future__ import annotations

from .client import AsyncEnvClient, AsyncStreamSession, EnvClient, StreamSession
from .gym import RemoteEnv
from .results import Capabilities, EnvSpec, ResetReply, StateReply, StepReply

__all__ = [
    "AsyncEnvClient",
    "AsyncStreamSession",
    "Capabilities",
    "EnvClient",
    "EnvSpec",
    "RemoteEnv",
    "ResetReply",
    "StateReply",
    "StepReply",
    "StreamSession",
]
