"""Benchmark openenv-grpc against OpenEnv in one run and print the table.

    .venv/bin/python bench/run.py --quick            # < 2 minutes
    .venv/bin/python bench/run.py --json out.json    # < 10 minutes

Starts every server as a subprocess on 127.0.0.1 (ours through
`openenv-grpc serve`, OpenEnv's through uvicorn), measures, stops them, and
writes the rows, the issue's targets and the machine to JSON
(bench/results/latest.json by default; bench/results/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root

from bench import batched, many, scenarios, servers
from bench.machine import machine, revision
from bench.report import Row, as_json, fill_ratios, size_label, table, targets, targets_table
from bench.servers import Servers, ServerSpec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GROUP_ORDER = ("1 session", "16 sessions", "obs size", "1000 sessions")


def _echo_env(n_bytes: int, encoding: str = "list") -> dict[str, str]:
    return {"BENCH_OBS_BYTES": str(n_bytes), "BENCH_OBS_ENCODING": encoding}


def first_group(plan: scenarios.Plan, log_dir: Path) -> list[Row]:
    """CartPole and 16 B echo servers: 1 session, 16 sessions, 16 B size row, 1000 sessions."""
    cap = plan.many_sessions + 100
    specs = [
        servers.ours("ours-cartpole", "bench/envs.py:make_cartpole_env", max_sessions=64, env={}),
        servers.ours(
            "ours-echo-16", "bench/envs.py:make_echo_env", max_sessions=cap, env=_echo_env(16)
        ),
        servers.openenv("openenv-cartpole", "cartpole_app", max_sessions=16, env={}),
        servers.openenv("openenv-echo-16", "echo_app", max_sessions=cap, env=_echo_env(16)),
        servers.grpc_floor("grpc-floor"),
    ]
    if not plan.quick:
        specs.append(
            servers.openenv(
                "openenv-echo-b64-16", "echo_app", max_sessions=1, env=_echo_env(16, "base64")
            )
        )
    rows: list[Row] = []
    with Servers(specs, log_dir) as s:
        print("servers up: 1 session, 16 sessions, 16 B, 1000 sessions", file=sys.stderr)
        rows += scenarios.single_session(
            "CartPole", "cartpole", s["ours-cartpole"], s["openenv-cartpole"], plan.seq, plan.rounds
        )
        rows += scenarios.single_session(
            "echo",
            "echo",
            s["ours-echo-16"],
            s["openenv-echo-16"],
            plan.seq,
            plan.rounds,
            floor=s["grpc-floor"],
        )
        rows += scenarios.concurrent_sessions(
            "CartPole",
            "cartpole",
            16,
            (s["ours-cartpole"], s["openenv-cartpole"], s["grpc-floor"]),
            plan.multi,
            plan.rounds,
        )
        b64 = None if plan.quick else s["openenv-echo-b64-16"]
        rows += scenarios.obs_size(
            16, s["ours-echo-16"], s["openenv-echo-16"], b64, plan.size_budget(16), plan.rounds
        )
        rows += many.many_sessions(
            plan.many_sessions,
            s["ours-echo-16"],
            s["openenv-echo-16"],
            plan.many,
            min(plan.rounds, 3),
        )
    return rows


def size_group(plan: scenarios.Plan, log_dir: Path) -> list[Row]:
    """One pair (and in full runs a base64 OpenEnv server) per larger payload size."""
    specs: list[ServerSpec] = []
    for n in plan.sizes[1:]:
        specs.append(
            servers.ours(
                f"ours-echo-{n}", "bench/envs.py:make_echo_env", max_sessions=4, env=_echo_env(n)
            )
        )
        specs.append(
            servers.openenv(f"openenv-echo-{n}", "echo_app", max_sessions=1, env=_echo_env(n))
        )
        if not plan.quick:
            specs.append(
                servers.openenv(
                    f"openenv-echo-b64-{n}", "echo_app", max_sessions=1, env=_echo_env(n, "base64")
                )
            )
    rows: list[Row] = []
    with Servers(specs, log_dir) as s:
        for n in plan.sizes[1:]:
            print(f"obs size {size_label(n)}", file=sys.stderr)
            b64 = None if plan.quick else s[f"openenv-echo-b64-{n}"]
            ours, oe = s[f"ours-echo-{n}"], s[f"openenv-echo-{n}"]
            budget, rounds = plan.size_budget(n), plan.size_rounds(n)
            rows += scenarios.obs_size(n, ours, oe, b64, budget, rounds)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budgets, no 16 MiB")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="output")
    args = parser.parse_args(argv)

    plan = scenarios.make_plan(args.quick)
    log_dir = RESULTS / "logs"
    started = time.perf_counter()
    rows = first_group(plan, log_dir) + size_group(plan, log_dir)
    rows += batched.batched_group(plan.rounds, 2.0 if plan.quick else 8.0, log_dir)
    rows.sort(key=lambda r: GROUP_ORDER.index(r.group) if r.group in GROUP_ORDER else 99)
    fill_ratios(rows)
    checks = targets(rows) + batched.targets(rows)
    elapsed = time.perf_counter() - started

    print(table(rows))
    print()
    print(targets_table(checks))
    for r in rows:
        if "rss_kib_per_session" in r.extra:
            print(
                f"{r.impl}: opened in {r.extra['open_seconds']:.1f}s, server RSS "
                f"{r.extra['rss_kib_before']} -> {r.extra['rss_kib_after']} KiB, "
                f"{r.extra['rss_kib_per_session']:.1f} KiB per idle session"
            )
    print(f"\ntotal {elapsed:.0f}s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "quick": args.quick,
        "seconds": elapsed,
        "revision": revision(ROOT),
        "machine": machine(),
        "rows": as_json(rows),
        "targets": checks,
    }
    args.json.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
