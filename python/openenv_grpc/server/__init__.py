"""The gRPC transport: servicer and server assembly."""

from __future__ import annotations

from .. import grpc_io
from .app import EnvServer, ServerConfig, describe_env, serve

grpc_io.settle()

__all__ = ["EnvServer", "ServerConfig", "describe_env", "serve"]
