"""The 1000-session scenario: many concurrent sessions on one server, and their memory.

Both sides' sessions are opened first (50 at a time, each reset once), the
server's VmRSS read before and after each side opens, so the difference is
what an idle session costs. Then the two sides step in alternating rounds,
all their sessions at once, while the other side's sessions sit idle, so
that other load on the machine falls on both alike. OpenEnv may fail at this
size; its row then says how, and ours is measured anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bench.drivers_openenv import WsAsyncDriver
from bench.drivers_ours import AsyncStreamDriver
from bench.measure import Budget, Sample, merge, run_async, split
from bench.report import MANY_OE, MANY_OURS, Row
from bench.servers import Server
from openenv_grpc.client import AsyncEnvClient

T = TypeVar("T")
OPEN_CONCURRENCY = 50  # sessions being opened at once
OPEN_TIMEOUT_S = 120.0
CLOSE_TIMEOUT_S = 60.0


async def _bounded(makers: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(make: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await make()

    return await asyncio.gather(*(one(m) for m in makers))


class Side:
    """One framework's n sessions on one server: opened, measured, closed."""

    def __init__(self, label: str, baseline: str, server: Server) -> None:
        self.label, self.baseline, self.server = label, baseline, server
        self.drivers: list[Any] = []
        self.samples: list[Sample] = []
        self.extra: dict[str, Any] = {}
        self.error = ""

    async def open(self, n: int, open_one: Callable[[], Awaitable[Any]]) -> None:
        """Open and reset n sessions; record open time and the server's RSS per session."""
        rss_before = self.server.rss_kib()
        t0 = time.perf_counter()
        try:
            self.drivers = await asyncio.wait_for(
                _bounded([open_one] * n, OPEN_CONCURRENCY), OPEN_TIMEOUT_S
            )
        except Exception as exc:  # OpenEnv may not cope; say how, and go on
            self.error = f"{type(exc).__name__}: {exc}"[:200]
            return
        rss_after = self.server.rss_kib()
        self.extra = {
            "open_seconds": time.perf_counter() - t0,
            "rss_kib_before": rss_before,
            "rss_kib_after": rss_after,
            "rss_kib_per_session": (rss_after - rss_before) / n,
        }

    async def measure(self, budget: Budget) -> None:
        if self.drivers and not self.error:
            steps = [(d.reset, d.step) for d in self.drivers]
            self.samples.append(await run_async(steps, budget, warmed=True))

    async def close(self) -> None:
        closing = asyncio.gather(*(d.close() for d in self.drivers), return_exceptions=True)
        await asyncio.wait_for(closing, CLOSE_TIMEOUT_S)

    def row(self, n: int) -> Row:
        if self.error:
            return Row.failed(f"{n} sessions", self.label, "echo", 16, n, self.error)
        return Row.of(
            f"{n} sessions",
            self.label,
            "echo",
            16,
            n,
            merge(self.samples),
            self.baseline,
            **self.extra,
        )


async def _run(n: int, ours: Server, oe: Server, budget: Budget, rounds: int) -> list[Row]:
    oe_side = Side(MANY_OE.format(n=n), "", oe)
    ours_side = Side(MANY_OURS.format(n=n), oe_side.label, ours)
    async with AsyncEnvClient(ours.address) as client:
        await client.spec()

        async def open_oe() -> WsAsyncDriver:
            driver = await WsAsyncDriver("echo", oe.url).open()
            await driver.reset()
            return driver

        async def open_ours() -> AsyncStreamDriver:
            driver = await AsyncStreamDriver.open(client)
            await driver.reset()
            return driver

        try:
            await oe_side.open(n, open_oe)
            await ours_side.open(n, open_ours)
            for _ in range(rounds):
                await oe_side.measure(split(budget, rounds))
                await ours_side.measure(split(budget, rounds))
        finally:
            await oe_side.close()
            await ours_side.close()
    return [oe_side.row(n), ours_side.row(n)]


def many_sessions(n: int, ours: Server, oe: Server, budget: Budget, rounds: int) -> list[Row]:
    """n concurrent echo sessions per server, OpenEnv WebSockets vs our streams on one channel."""
    return asyncio.run(_run(n, ours, oe, budget, rounds))
