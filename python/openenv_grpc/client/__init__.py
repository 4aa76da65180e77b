"""Clients of EnvService: blocking, asyncio, and the Gymnasium face."""

from __future__ import annotations

from .. import grpc_io
from .client import AsyncEnvClient, AsyncStreamSession, EnvClient, StreamSession
from .gym import RemoteEnv
from .results import (
    BatchResetReply,
    BatchStepReply,
    Capabilities,
    EnvSpec,
    ResetReply,
    ServerLoad,
    StateReply,
    StepReply,
)
from .vector_env import RemoteVectorEnv

grpc_io.settle()

__all__ = [
    "AsyncEnvClient",
    "AsyncStreamSession",
    "BatchResetReply",
    "BatchStepReply",
    "Capabilities",
    "EnvClient",
    "EnvSpec",
    "RemoteEnv",
    "RemoteVectorEnv",
    "ResetReply",
    "ServerLoad",
    "StateReply",
    "StepReply",
    "StreamSession",
]
