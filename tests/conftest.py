"""Shared fixtures: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openenv_grpc.env import EnvFactory
from openenv_grpc.server import ServerConfig

from serverutil import ServerThread
from testenvs import CounterEnv, GatedEnv

StartServer = Callable[..., ServerThread]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start servers for one test (any env, any config); all are stopped afterwards."""
    started: list[ServerThread] = []

    def start(factory: EnvFactory = CounterEnv, **config: Any) -> ServerThread:
        clock = config.pop("clock", None)
        config.setdefault("host", "127.0.0.1")
        config.setdefault("port", 0)
        extra = {"clock": clock} if clock is not None else {}
        server = ServerThread(factory, ServerConfig(**config), **extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def counter_server(start_server: StartServer) -> ServerThread:
    return start_server(CounterEnv)


@pytest.fixture
def gate() -> Iterator[type[GatedEnv]]:
    """GatedEnv with a closed gate; the gate is opened at teardown so no thread hangs."""
    GatedEnv.entered.clear()
    GatedEnv.gate.clear()
    yield GatedEnv
    GatedEnv.gate.set()
