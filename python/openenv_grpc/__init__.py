"""openenv-grpc: the OpenEnv environment protocol as a typed, versioned gRPC service.

Env authors implement `Environment`; trainers use `EnvClient`,
`AsyncEnvClient` or the Gymnasium face `RemoteEnv`; operators run
`openenv-grpc serve`.
"""

from __future__ import annotations

from .env import EnvFactory, Environment, ResetResult, StepResult
from .version import PROTOCOL_VERSION, __version__

__all__ = [
    "PROTOCOL_VERSION",
    "EnvFactory",
    "Environment",
    "ResetResult",
    "StepResult",
    "__version__",
]
