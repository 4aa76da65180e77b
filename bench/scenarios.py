"""The scenarios of the benchmark, each returning table rows, OpenEnv rows first.

Servers are passed in already running (see `servers.Servers`); a scenario
only opens sessions, measures and closes them again. The 1000-session
scenario lives in `many`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc

from bench.drivers_openenv import HttpStepDriver, WsAsyncDriver, WsSyncDriver
from bench.drivers_ours import AsyncStreamDriver, RemoteEnvDriver, StreamDriver, UnaryDriver
from bench.grpc_floor import FloorStream
from bench.measure import Budget, Sample, merge, run_async, run_sync, run_threads, split
from bench.report import (
    ASYNC_STREAM,
    FLOOR,
    MANY_OE,
    MANY_OURS,
    MANY_THREADS,
    OE_HTTP,
    OE_WS,
    OE_WS_B64,
    OE_WS_SYNC,
    REMOTE_ENV,
    STREAM,
    UNARY,
    Row,
)
from bench.servers import Server
from openenv_grpc.client import AsyncEnvClient
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc


@dataclass(frozen=True)
class Plan:
    """Budgets of one run: --quick keeps the whole run under 2 minutes, full under 10."""

    quick: bool
    rounds: int
    seq: Budget
    multi: Budget
    many: Budget
    many_sessions: int
    sizes: tuple[int, ...]
    size_seconds: float

    def size_budget(self, n_bytes: int) -> Budget:
        warmup = 20 if n_bytes <= 2**16 else (3 if n_bytes <= 2**20 else 1)
        return Budget(warmup, 100_000, self.size_seconds, min_steps=3)

    def size_rounds(self, n_bytes: int) -> int:
        """Rounds for one size: one at 1 MiB and up, where OpenEnv takes 0.4-8 s a step."""
        return self.rounds if n_bytes < 2**20 else 1


def make_plan(quick: bool) -> Plan:
    """Quick: about 90 s, no 16 MiB. Full: about 4.5 minutes."""
    sizes = (16, 28_224, 2**18, 2**20) + (() if quick else (2**24,))
    if quick:
        return Plan(
            quick=True,
            rounds=3,
            seq=Budget(warmup=100, max_steps=50_000, max_seconds=1.2),
            multi=Budget(warmup=20, max_steps=50_000, max_seconds=1.5),
            many=Budget(warmup=0, max_steps=10_000, max_seconds=3.0),
            many_sessions=1000,
            sizes=sizes,
            size_seconds=1.0,
        )
    return Plan(
        quick=False,
        rounds=5,
        seq=Budget(warmup=200, max_steps=500_000, max_seconds=5.0),
        multi=Budget(warmup=50, max_steps=500_000, max_seconds=6.0),
        many=Budget(warmup=0, max_steps=100_000, max_seconds=10.0),
        many_sessions=1000,
        sizes=sizes,
        size_seconds=3.0,
    )


class SyncDriver(Protocol):
    """What every blocking driver offers (drivers_ours, drivers_openenv)."""

    def reset(self) -> None: ...
    def step(self, i: int) -> bool: ...
    def close(self) -> None: ...


def _sync(driver: SyncDriver, budget: Budget) -> Sample:
    try:
        return run_sync(driver.reset, driver.step, budget)
    finally:
        driver.close()


async def _oe_ws(kind: str, url: str, n: int, budget: Budget) -> Sample:
    drivers = await asyncio.gather(*(WsAsyncDriver(kind, url).open() for _ in range(n)))
    try:
        return await run_async([(d.reset, d.step) for d in drivers], budget)
    finally:
        await asyncio.gather(*(d.close() for d in drivers))


def _threads(drivers: list[RemoteEnvDriver], budget: Budget) -> Sample:
    try:
        return run_threads([(d.reset, d.step) for d in drivers], budget)
    finally:
        for driver in drivers:
            driver.close()


async def _ours_stream(address: str, n: int, budget: Budget) -> Sample:
    async with AsyncEnvClient(address) as client:
        drivers = [await AsyncStreamDriver.open(client) for _ in range(n)]
        try:
            return await run_async([(d.reset, d.step) for d in drivers], budget)
        finally:
            await asyncio.gather(*(d.close() for d in drivers))


async def _floor(address: str, n: int, budget: Budget) -> Sample:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        streams = [FloorStream(stub) for _ in range(n)]
        try:
            return await run_async([(f.reset, f.step) for f in streams], budget)
        finally:
            await asyncio.gather(*(f.close() for f in streams))


def _interleaved(
    paths: list[Callable[[Budget], Sample]], budget: Budget, rounds: int
) -> list[Sample]:
    """Measure the paths in turn, `rounds` times, and merge each path's rounds."""
    per_round = split(budget, rounds)
    samples: list[list[Sample]] = [[] for _ in paths]
    for _ in range(rounds):
        for runs, path in zip(samples, paths, strict=True):
            runs.append(path(per_round))
    return [merge(runs) for runs in samples]


def single_session(
    env: str,
    kind: str,
    ours: Server,
    oe: Server,
    budget: Budget,
    rounds: int,
    floor: Server | None = None,
) -> list[Row]:
    """One session, sequential steps, every client path of both frameworks.

    With `floor`, also the bare grpc.aio stream (canned replies, no env): the
    most any of our stream paths could reach on this machine.
    """
    paths: list[tuple[str, str, Callable[[Budget], Sample]]] = [
        (OE_WS, "", lambda b: asyncio.run(_oe_ws(kind, oe.url, 1, b))),
        (OE_WS_SYNC, "", lambda b: _sync(WsSyncDriver(kind, oe.url), b)),
        (OE_HTTP, "", lambda b: _sync(HttpStepDriver(kind, oe.url), b)),
        (UNARY, OE_HTTP, lambda b: _sync(UnaryDriver(ours.address), b)),
        (STREAM, OE_WS, lambda b: _sync(StreamDriver(ours.address), b)),
        (REMOTE_ENV, OE_WS, lambda b: _sync(RemoteEnvDriver(ours.address), b)),
        (ASYNC_STREAM, OE_WS, lambda b: asyncio.run(_ours_stream(ours.address, 1, b))),
    ]
    if floor is not None:
        paths.append((FLOOR, OE_WS, lambda b: asyncio.run(_floor(floor.address, 1, b))))
    samples = _interleaved([p[2] for p in paths], budget, rounds)
    return [
        Row.of("1 session", impl, env, 16, 1, sample, base)
        for (impl, base, _), sample in zip(paths, samples, strict=True)
    ]


def concurrent_sessions(
    env: str, kind: str, n: int, servers: tuple[Server, Server, Server], budget: Budget, rounds: int
) -> list[Row]:
    """n sessions from one client process: n WebSockets vs n streams on one channel, n
    RemoteEnvs on n threads (a trainer with one blocking env per thread), and the floor."""
    ours, oe, floor = servers
    g = f"{n} sessions"
    oe_label, ours_label = MANY_OE.format(n=n), MANY_OURS.format(n=n)
    samples = _interleaved(
        [
            lambda b: asyncio.run(_oe_ws(kind, oe.url, n, b)),
            lambda b: asyncio.run(_ours_stream(ours.address, n, b)),
            lambda b: _threads([RemoteEnvDriver(ours.address) for _ in range(n)], b),
            lambda b: asyncio.run(_floor(floor.address, n, b)),
        ],
        budget,
        rounds,
    )
    labels = [
        (oe_label, ""),
        (ours_label, oe_label),
        (MANY_THREADS.format(n=n), oe_label),
        (FLOOR, oe_label),
    ]
    return [
        Row.of(g, label, env, 16, n, sample, base)
        for (label, base), sample in zip(labels, samples, strict=True)
    ]


def obs_size(
    n_bytes: int,
    ours: Server,
    oe_list: Server,
    oe_b64: Server | None,
    budget: Budget,
    rounds: int,
) -> list[Row]:
    """One echo session at one payload size: OpenEnv WS (list[int], base64) vs our stream."""
    paths: list[tuple[str, str, Callable[[Budget], Sample]]] = [
        (OE_WS, "", lambda b: asyncio.run(_oe_ws("echo", oe_list.url, 1, b))),
        (ASYNC_STREAM, OE_WS, lambda b: asyncio.run(_ours_stream(ours.address, 1, b))),
    ]
    if oe_b64 is not None:
        paths.insert(1, (OE_WS_B64, "", lambda b: asyncio.run(_oe_ws("echo", oe_b64.url, 1, b))))
    samples = _interleaved([p[2] for p in paths], budget, rounds)
    return [
        Row.of("obs size", impl, "echo", n_bytes, 1, sample, base)
        for (impl, base, _), sample in zip(paths, samples, strict=True)
    ]
