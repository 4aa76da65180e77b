"""openenv-grpc: the OpenEnv environment protocol as a typed, versioned gRPC service.

Env authors implement `Environment`; trainers use `EnvClient`,
`AsyncEnvClient` or the Gymnasium faces `RemoteEnv` and `RemoteVectorEnv`;
operators run `openenv-grpc serve`.

    from openenv_grpc import RemoteEnv, RemoteVectorEnv, EnvClient, AsyncEnvClient

The clients are loaded on first use, so an env author who imports
`openenv_grpc` or `openenv_grpc.env` loads no grpc.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .env import EnvFactory, Environment, ResetResult, StepResult
from .version import PROTOCOL_VERSION, __version__

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
