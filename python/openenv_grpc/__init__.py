"""openenv-grpc: the OpenEnv environment protocol as a typed, versioned gRPC service.

Env authors implement `Environment`; trainers use `EnvClient`,
`AsyncEnvClient` or the Gymnasium faces `RemoteEnv` and `RemoteVectorEnv`;
operators run `openenv-grpc serve`.

    from openenv_grpc import RemoteEnv, RemoteVectorEnv, EnvClient, AsyncEnvClient

The clients are loaded on first use, so an env author who imports
`openenv_grpc` or `openenv_grpc.env` loads no grpc. Importing `openenv_grpc`
before grpc has grpc poll its sockets on its completion queue's thread
(`grpc_io`: faster on small machines; a GRPC_EXPERIMENTS of your own wins).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import grpc_io
from .env import EnvFactory, Environment, ResetResult, StepResult
from .version import PROTOCOL_VERSION, __version__

# Before any module of this package imports grpc: how grpc will move bytes (grpc_io).
grpc_io.prefer_polling()

if TYPE_CHECKING:
    from .client import AsyncEnvClient, EnvClient, RemoteEnv, RemoteVectorEnv

# Names served by `openenv_grpc.client`, imported when first asked for.
_CLIENTS = ("AsyncEnvClient", "EnvClient", "RemoteEnv", "RemoteVectorEnv")

__all__ = [
    "PROTOCOL_VERSION",
    "AsyncEnvClient",
    "EnvClient",
    "EnvFactory",
    "Environment",
    "RemoteEnv",
    "RemoteVectorEnv",
    "ResetResult",
    "StepResult",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """The clients, imported on first use (PEP 562)."""
    if name in _CLIENTS:
        value = getattr(importlib.import_module(".client", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
