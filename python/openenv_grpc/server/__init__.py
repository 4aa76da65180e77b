"""The gRPC transport: servicer and server assembly."""

from __future__ import annotations

from .app import EnvServer, ServerConfig, describe_env, serve

__all__ = ["EnvServer", "ServerConfig", "describe_env", "serve"]
