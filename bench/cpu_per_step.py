"""Where a step's time goes: client and server CPU per step of every path, and the gRPC floor.

    .venv/bin/python bench/cpu_per_step.py [--steps 3000]

On a 2-core machine with client and server both busy, a sequential step
costs about client CPU + server CPU (+ wake-ups), so these two columns say
which side to make cheaper. Client CPU is this process's (os.times, every
thread); server CPU is the server process's (/proc/PID/stat, every thread).
The floor is `bench/grpc_floor.py`: grpcio alone, canned replies, no env.
Two crossed rows split our overhead by side: our client against the floor
server (our client's cost), and the floor's raw stream against our server
(our server's cost).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
    import bench  # noqa: F401  # first: it has grpc's socket I/O chosen before grpc loads

import grpc
import numpy as np
from gymnasium import spaces as gs

from bench import servers
from bench.drivers_openenv import HttpStepDriver, WsAsyncDriver, WsSyncDriver
from bench.drivers_ours import AsyncStreamDriver, RemoteEnvDriver, StreamDriver, UnaryDriver
from bench.grpc_floor import stream_steps
from bench.scenarios import SyncDriver
from bench.servers import Server, Servers
from openenv_grpc.client import AsyncEnvClient, AsyncStreamSession
from openenv_grpc.client.endpoints import Endpoints

WARMUP = 200
Snapshot = tuple[float, float, float]
AsyncDriver = WsAsyncDriver | AsyncStreamDriver


def snapshot(server: Server) -> Snapshot:
    """Client CPU, server CPU and wall clock, now."""
    t = os.times()
    return t.user + t.system, server.cpu_seconds(), time.perf_counter()


def report(label: str, server: Server, steps: int, start: Snapshot) -> None:
    """Print a table row: steps/s and CPU per step on each side since `start`."""
    (c0, s0, t0), (c1, s1, t1) = start, snapshot(server)
    us = 1e6 / steps
    print(f"| {label} | {steps / (t1 - t0):,.0f} | {(c1 - c0) * us:.0f} | {(s1 - s0) * us:.0f} |")


def sync_path(label: str, server: Server, driver: SyncDriver, steps: int) -> None:
    try:
        driver.reset()
        for i in range(WARMUP):
            driver.step(i)
        start = snapshot(server)
        for i in range(steps):
            driver.step(i)
        report(label, server, steps, start)
    finally:
        driver.close()


async def _async_path(
    label: str, server: Server, open_one: Callable[[], Awaitable[AsyncDriver]], n: int, steps: int
) -> None:
    drivers = [await open_one() for _ in range(n)]
    for d in drivers:
        await d.reset()
        for i in range(WARMUP // n + 1):
            await d.step(i)

    async def one(d: AsyncDriver) -> None:
        for i in range(steps // n):
            await d.step(i)

    try:
        start = snapshot(server)
        await asyncio.gather(*(one(d) for d in drivers))
        report(label, server, steps // n * n, start)
    finally:
        await asyncio.gather(*(d.close() for d in drivers))


def openenv_ws(server: Server, n: int, steps: int) -> None:
    label = "OpenEnv WS EnvClient" if n == 1 else f"OpenEnv {n} WS EnvClients"

    def open_one() -> Awaitable[AsyncDriver]:
        return WsAsyncDriver("echo", server.url).open()

    asyncio.run(_async_path(label, server, open_one, n, steps))


def ours_stream(server: Server, n: int, steps: int) -> None:
    label = "ours AsyncStreamSession" if n == 1 else f"ours {n} AsyncStreamSessions"

    async def run() -> None:
        async with AsyncEnvClient(server.address) as client:
            await _async_path(label, server, lambda: AsyncStreamDriver.open(client), n, steps)

    asyncio.run(run())


def raw_stream(label: str, server: Server, n: int, steps: int) -> None:
    """The floor's raw stream (no codec, no result objects) against any server."""
    asyncio.run(stream_steps(server.address, WARMUP, n))
    start = snapshot(server)
    asyncio.run(stream_steps(server.address, steps // n, n))
    report(label, server, steps // n * n, start)


def ours_client_on_floor(server: Server, steps: int) -> None:
    """Our AsyncStreamSession against the floor server (which has no Describe: space given)."""
    space = gs.Box(0, 255, (16,), np.uint8)

    async def run() -> None:
        async with grpc.aio.insecure_channel(server.address) as channel:
            session = AsyncStreamSession(Endpoints.of_channel(channel), space)
            driver = AsyncStreamDriver(session)
            await _async_path(
                "ours AsyncStreamSession -> floor server", server, _ready(driver), 1, steps
            )

    asyncio.run(run())


def _ready(driver: AsyncDriver) -> Callable[[], Awaitable[AsyncDriver]]:
    async def open_one() -> AsyncDriver:
        return driver

    return open_one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps per path")
    steps = parser.parse_args().steps
    env = {"BENCH_OBS_BYTES": "16"}
    specs = [
        servers.ours("cpu-ours", "bench/envs.py:make_echo_env", max_sessions=64, env=env),
        servers.openenv("cpu-openenv", "echo_app", max_sessions=64, env=env),
        servers.grpc_floor("cpu-floor"),
    ]
    with Servers(specs, Path(__file__).resolve().parent / "results" / "logs") as s:
        ours, oe, bare = s["cpu-ours"], s["cpu-openenv"], s["cpu-floor"]
        print("| echo 16 B, path | steps/s | client CPU us/step | server CPU us/step |")
        print("|---|---|---|---|")
        openenv_ws(oe, 1, steps)
        sync_path("OpenEnv WS EnvClient.sync()", oe, WsSyncDriver("echo", oe.url), steps)
        sync_path("OpenEnv HTTP /step", oe, HttpStepDriver("echo", oe.url), steps)
        ours_stream(ours, 1, steps)
        sync_path("ours StreamSession", ours, StreamDriver(ours.address), steps)
        sync_path("ours RemoteEnv", ours, RemoteEnvDriver(ours.address), steps)
        sync_path("ours EnvClient.step (unary)", ours, UnaryDriver(ours.address), steps)
        raw_stream("grpc.aio floor: raw stream -> floor server", bare, 1, steps)
        ours_client_on_floor(bare, steps)
        raw_stream("raw stream -> ours server", ours, 1, steps)
        openenv_ws(oe, 16, steps)
        ours_stream(ours, 16, steps)
        raw_stream("grpc.aio floor, 16 raw streams", bare, 16, steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
