"""OpenEnv FastAPI apps of the benchmark envs, for uvicorn's `--factory`.

    BENCH_OBS_BYTES=1048576 BENCH_MAX_SESSIONS=16 python -m uvicorn --factory \
        bench.openenv_servers:echo_app --host 127.0.0.1 --port 0 --no-access-log

OpenEnv allows one WebSocket session per server unless `max_concurrent_envs`
(an argument of `create_app`/`create_fastapi_app`, no environment variable
of its own) is raised, and then only for envs that declare
`SUPPORTS_CONCURRENT_SESSIONS`. The benchmark raises it through
BENCH_MAX_SESSIONS so multi-session rows compare like with like.
"""

from __future__ import annotations

import os
from typing import cast

from fastapi import FastAPI
from openenv.core.env_server.http_server import create_fastapi_app

from bench.openenv_envs import (
    ENCODING_VAR,
    CartPoleAction,
    CartPoleObservation,
    EchoAction,
    EchoB64Observation,
    EchoObservation,
    OpenEnvCartPole,
    OpenEnvEcho,
)

MAX_SESSIONS_VAR = "BENCH_MAX_SESSIONS"


def _max_sessions() -> int:
    return int(os.environ.get(MAX_SESSIONS_VAR, "1"))


def echo_app() -> FastAPI:
    """The echo env (size BENCH_OBS_BYTES, encoding BENCH_OBS_ENCODING)."""
    b64 = os.environ.get(ENCODING_VAR, "list") == "base64"
    observation_cls = EchoB64Observation if b64 else EchoObservation
    app = create_fastapi_app(
        OpenEnvEcho, EchoAction, observation_cls, max_concurrent_envs=_max_sessions()
    )
    return cast(FastAPI, app)


def cartpole_app() -> FastAPI:
    """Gymnasium CartPole-v1."""
    app = create_fastapi_app(
        OpenEnvCartPole, CartPoleAction, CartPoleObservation, max_concurrent_envs=_max_sessions()
    )
    return cast(FastAPI, app)
