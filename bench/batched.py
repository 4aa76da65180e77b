"""Batched envs: RemoteVectorEnv against local gymnasium SyncVectorEnv, N = 1 to 256.

OpenEnv has no batched sessions, so the baseline here is the strongest one
there is: the same sub-envs stepped locally, in the trainer's own process,
by Gymnasium's SyncVectorEnv. A ratio near 1 means the network costs next to
nothing; above 1, the server's worker processes (`--vector-processes 2`)
step sub-envs on more cores than the trainer's one. Rows count env-steps
(sub-env steps) per second; all paths of a group get the same seeds and the
same pre-drawn actions, in alternating rounds.

Two envs: CartPole (a few microseconds per step: the batching machinery
itself is measured) and `bench/heavy_env.py` (about 1 ms of pure Python per
step: where env code runs is measured; one server process against two
worker processes). Remote rows also carry the CPU per batched step of the
client and of the server with its worker processes, to say where time goes.

    .venv/bin/python bench/batched.py [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv

from bench import servers
from bench.heavy_env import HeavyEnv
from bench.report import Row, fill_ratios, table
from bench.servers import Server, Servers
from openenv_grpc.client import RemoteVectorEnv

GROUP = "batched"
LOCAL = "local SyncVectorEnv (no network)"
REMOTE = "ours RemoteVectorEnv"
PROCS = "ours RemoteVectorEnv, --vector-processes 2"
SIZES = (1, 16, 64, 256)
PROC_SIZES = (16, 64, 256)
HEAVY_N = 16
CARTPOLE, HEAVY = "CartPole", "HeavyEnv (~1 ms/step)"


@dataclasses.dataclass
class Tally:
    """One path's totals over its rounds."""

    steps: int = 0
    wall: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and every process below it (its workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def _measure(envs: Any, n: int, seconds: float, server: Server | None, tally: Tally) -> None:
    """Batched steps for about `seconds`, added to `tally`."""
    actions = np.random.default_rng(n).integers(0, 2, size=(4096, n))
    envs.reset(seed=0)
    for i in range(10):  # warm up
        envs.step(actions[i])
    client0, server0 = time.process_time(), tree_cpu(server.proc.pid) if server else 0.0
    start = time.perf_counter()
    deadline = start + seconds
    i = 0
    while True:
        t0 = time.perf_counter()
        envs.step(actions[i % len(actions)])
        t1 = time.perf_counter()
        tally.latencies.append(t1 - t0)
        i += 1
        if t1 >= deadline and i >= 3:
            break
    tally.wall += time.perf_counter() - start
    tally.steps += i
    tally.client_cpu += time.process_time() - client0
    if server is not None:
        tally.server_cpu += tree_cpu(server.proc.pid) - server0


def _row(group: str, env: str, impl: str, n: int, tally: Tally, baseline: str) -> Row:
    ms = np.array(tally.latencies) * 1e3
    extra: dict[str, Any] = {
        "num_envs": n,
        "batched_steps_per_s": tally.steps / tally.wall,
        "client_cpu_ms_per_batch": tally.client_cpu / tally.steps * 1e3,
    }
    if impl != LOCAL:
        extra["server_cpu_ms_per_batch"] = tally.server_cpu / tally.steps * 1e3
    return Row(
        group=group,
        impl=impl,
        env=env,
        obs_bytes=16,
        sessions=1,
        steps=tally.steps * n,
        seconds=tally.wall,
        steps_per_s=tally.steps * n / tally.wall,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        baseline=baseline,
        extra=extra,
    )


# One path of a group: its label, how to make its envs, its server, its baseline label.
Lane = tuple[str, Callable[[], Any], Server | None, str]


def _compare(
    group: str, env: str, n: int, paths: list[Lane], rounds: int, seconds: float
) -> list[Row]:
    """Every path of a group, `rounds` times in turn, `seconds` in all for each."""
    tallies = {impl: Tally() for impl, *_ in paths}
    for _ in range(rounds):
        for impl, make, server, _baseline in paths:
            envs = make()
            try:
                _measure(envs, n, seconds / rounds, server, tallies[impl])
            finally:
                envs.close()
    return [_row(group, env, impl, n, tallies[impl], base) for impl, _, _, base in paths]


def _server(name: str, env_spec: str, *extra: str) -> servers.ServerSpec:
    spec = servers.ours(name, env_spec, max_sessions=8, env={})
    return dataclasses.replace(spec, argv=[*spec.argv, *extra])


def batched_group(
    rounds: int,
    seconds: float,
    log_dir: Path,
    sizes: tuple[int, ...] = SIZES,
    heavy: bool = True,
) -> list[Row]:
    """env-steps/s of local SyncVectorEnv and RemoteVectorEnv (with and without worker
    processes) for every N, side by side; and of the heavy env in one process or two."""
    specs = [
        _server("ours-cartpole-batched", "gymnasium:CartPole-v1"),
        _server("ours-cartpole-procs", "gymnasium:CartPole-v1", "--vector-processes", "2"),
        _server("ours-heavy", "bench.heavy_env:HeavyEnv"),
        _server("ours-heavy-procs", "bench.heavy_env:HeavyEnv", "--vector-processes", "2"),
    ]
    rows: list[Row] = []
    with Servers(specs, log_dir) as running:
        print("servers up: batched", file=sys.stderr)
        default, procs = running["ours-cartpole-batched"], running["ours-cartpole-procs"]
        for n in sizes:
            paths: list[Lane] = [
                (LOCAL, _local(lambda: gym.make("CartPole-v1"), n), None, ""),
                (REMOTE, _remote(default, n), default, LOCAL),
            ]
            if n in PROC_SIZES:
                paths.append((PROCS, _remote(procs, n), procs, LOCAL))
            rows += _compare(f"{GROUP} N={n}", CARTPOLE, n, paths, rounds, seconds)
        if not heavy:
            return rows
        one, two = running["ours-heavy"], running["ours-heavy-procs"]
        paths = [
            (LOCAL, _local(HeavyEnv, HEAVY_N), None, ""),
            (REMOTE, _remote(one, HEAVY_N), one, LOCAL),
            (PROCS, _remote(two, HEAVY_N), two, REMOTE),  # the target: 2 processes vs 1
        ]
        rows += _compare(f"{GROUP} heavy N={HEAVY_N}", HEAVY, HEAVY_N, paths, rounds, seconds)
    return rows


def _local(make: Callable[[], gym.Env[Any, Any]], n: int) -> Callable[[], SyncVectorEnv]:
    return lambda: SyncVectorEnv([make for _ in range(n)])


def _remote(server: Server, n: int) -> Callable[[], RemoteVectorEnv]:
    return lambda: RemoteVectorEnv(server.address, n)


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """The issue's batched targets: remote vs local SyncVectorEnv (256 >= 0.8x, 64 >= 0.5x;
    with 2 worker processes 256 >= 1.0x) and the heavy env, 2 processes >= 1.7x one."""
    checks = (
        (f"{GROUP} N=256", REMOTE, 0.8, "batched CartPole, 256 sub-envs, vs local SyncVectorEnv"),
        (f"{GROUP} N=64", REMOTE, 0.5, "batched CartPole, 64 sub-envs, vs local SyncVectorEnv"),
        (
            f"{GROUP} N=256",
            PROCS,
            1.0,
            "batched CartPole, 256 sub-envs, --vector-processes 2, vs local SyncVectorEnv",
        ),
        (
            f"{GROUP} heavy N={HEAVY_N}",
            PROCS,
            1.7,
            f"heavy env, {HEAVY_N} sub-envs, --vector-processes 2 vs one process",
        ),
    )
    out: list[dict[str, Any]] = []
    for group, impl, goal, label in checks:
        row = next((r for r in rows if r.group == group and r.impl == impl), None)
        value = row.ratio if row else None
        out.append(
            {
                "target": label,
                "goal": f">= {goal:g}x",
                "value": value,
                "met": value is not None and value >= goal,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """This group alone: its table, CPU per batched step, and its targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per path and size")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="CartPole batch sizes (comma list)"
    )
    parser.add_argument("--no-heavy", action="store_true", help="skip the heavy env")
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(",") if n)
    log_dir = Path(__file__).resolve().parent / "results" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    rows = batched_group(args.rounds, args.seconds, log_dir, sizes, not args.no_heavy)
    fill_ratios(rows)
    print(table(rows))
    print("\n| group | path | client CPU ms/batch | server CPU ms/batch (with workers) |")
    print("|---|---|---|---|")
    for r in rows:
        server = r.extra.get("server_cpu_ms_per_batch")
        print(
            f"| {r.group} | {r.impl} | {r.extra['client_cpu_ms_per_batch']:.2f} | "
            f"{'' if server is None else f'{server:.2f}'} |"
        )
    print()
    for check in targets(rows):
        value = "n/a" if check["value"] is None else f"{check['value']:.2f}x"
        print(f"{'MET ' if check['met'] else 'MISS'} {check['target']}: {value} ({check['goal']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
