"""Batched CartPole: RemoteVectorEnv against local gymnasium SyncVectorEnv, N = 1 to 256.

OpenEnv has no batched sessions, so the baseline here is the strongest one
there is: the same sub-envs stepped locally, in the trainer's own process,
by Gymnasium's SyncVectorEnv. A ratio near 1 means the network costs next to
nothing. Rows count env-steps (sub-env steps) per second; both sides get the
same seeds and the same pre-drawn actions, in alternating rounds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

from bench import servers
from bench.report import Row
from bench.servers import Servers
from openenv_grpc.client import RemoteVectorEnv

GROUP = "batched"
LOCAL = "local SyncVectorEnv (no network)"
REMOTE = "ours RemoteVectorEnv"
SIZES = (1, 16, 64, 256)


def _measure(envs: Any, n: int, seconds: float) -> tuple[int, float, list[float]]:
    """Batched steps for about `seconds`: (batched steps, wall seconds, per-step latencies)."""
    actions = np.random.default_rng(n).integers(0, 2, size=(4096, n))
    envs.reset(seed=0)
    for i in range(10):  # warm up
        envs.step(actions[i])
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds
    i = 0
    while True:
        t0 = time.perf_counter()
        envs.step(actions[i % len(actions)])
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        i += 1
        if t1 >= deadline and i >= 3:
            return i, time.perf_counter() - start, latencies


def _row(impl: str, n: int, steps: int, wall: float, latencies: list[float]) -> Row:
    ms = np.array(latencies) * 1e3
    return Row(
        group=f"{GROUP} N={n}",
        impl=impl,
        env="CartPole",
        obs_bytes=16,
        sessions=1,
        steps=steps * n,
        seconds=wall,
        steps_per_s=steps * n / wall,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        baseline="" if impl == LOCAL else LOCAL,
        extra={"num_envs": n, "batched_steps_per_s": steps / wall},
    )


def batched_group(rounds: int, seconds: float, log_dir: Path) -> list[Row]:
    """env-steps/s of local SyncVectorEnv and RemoteVectorEnv for every N, side by side."""
    spec = servers.ours("ours-cartpole-batched", "gymnasium:CartPole-v1", max_sessions=8, env={})
    rows: list[Row] = []
    with Servers([spec], log_dir) as running:
        address = running["ours-cartpole-batched"].address
        print("servers up: batched", file=sys.stderr)
        for n in SIZES:
            totals: dict[str, tuple[int, float, list[float]]] = {}
            for _ in range(rounds):
                for impl in (LOCAL, REMOTE):
                    envs = (
                        SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(n)])
                        if impl == LOCAL
                        else RemoteVectorEnv(address, n)
                    )
                    steps, wall, lat = _measure(envs, n, seconds / rounds)
                    envs.close()
                    old = totals.get(impl, (0, 0.0, []))
                    totals[impl] = (old[0] + steps, old[1] + wall, old[2] + lat)
            rows += [_row(impl, n, *totals[impl]) for impl in (LOCAL, REMOTE)]
    return rows


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """The issue's batched targets: 256 sub-envs >= 0.8x and 64 >= 0.5x local SyncVectorEnv."""
    out: list[dict[str, Any]] = []
    for n, goal in ((256, 0.8), (64, 0.5)):
        row = next((r for r in rows if r.group == f"{GROUP} N={n}" and r.impl == REMOTE), None)
        value = row.ratio if row else None
        out.append(
            {
                "target": f"batched CartPole, {n} sub-envs, vs local SyncVectorEnv",
                "goal": f">= {goal:g}x",
                "value": value,
                "met": value is not None and value >= goal,
            }
        )
    return out
