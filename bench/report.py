"""Rows of results, their ratio to the matching OpenEnv row, the table, the issue's targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.measure import Sample

# Row labels, shared by the scenarios and the target checks.
OE_WS = "OpenEnv WS EnvClient"
OE_WS_SYNC = "OpenEnv WS EnvClient.sync()"
OE_HTTP = "OpenEnv HTTP /step"
OE_WS_B64 = "OpenEnv WS EnvClient, base64"
UNARY = "ours EnvClient.step (unary)"
STREAM = "ours StreamSession.step"
REMOTE_ENV = "ours RemoteEnv.step"
ASYNC_STREAM = "ours AsyncStreamSession.step"
FLOOR = "grpc.aio floor: bare stream, canned reply, no env"
MANY_OE = "OpenEnv {n} WS EnvClients"
MANY_OURS = "ours {n} AsyncStreamSessions, 1 channel"
MANY_THREADS = "ours {n} RemoteEnvs, {n} threads"
CARTPOLE_OBS_BYTES = 16  # 4 float32


@dataclass
class Row:
    """One measured path. `baseline` names the OpenEnv row (same group) it is compared with."""

    group: str
    impl: str
    env: str
    obs_bytes: int
    sessions: int
    steps: int
    seconds: float
    steps_per_s: float
    p50_ms: float
    p99_ms: float
    baseline: str = ""
    ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        group: str,
        impl: str,
        env: str,
        obs_bytes: int,
        sessions: int,
        s: Sample,
        baseline: str = "",
        **extra: Any,
    ) -> Row:
        return cls(
            group,
            impl,
            env,
            obs_bytes,
            sessions,
            s.steps,
            s.wall,
            s.steps_per_s,
            s.percentile_ms(50),
            s.percentile_ms(99),
            baseline,
            None,
            dict(extra),
        )

    @classmethod
    def failed(
        cls, group: str, impl: str, env: str, obs_bytes: int, sessions: int, error: str
    ) -> Row:
        return cls(
            group, impl, env, obs_bytes, sessions, 0, 0.0, 0.0, 0.0, 0.0, extra={"error": error}
        )

    @property
    def mb_per_s(self) -> float:
        """Observation payload carried per second, in 10^6 bytes."""
        return self.steps_per_s * self.obs_bytes / 1e6


def fill_ratios(rows: list[Row]) -> None:
    """Set each row's ratio: its steps/s over its baseline's (same group, env and size)."""
    for row in rows:
        if not row.baseline:
            continue
        for base in rows:
            same = (base.group, base.env, base.obs_bytes) == (row.group, row.env, row.obs_bytes)
            if same and base.impl == row.baseline and base.steps_per_s > 0:
                row.ratio = row.steps_per_s / base.steps_per_s


def size_label(n: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _num(x: float) -> str:
    """Three significant figures or more: 0.372, 12.6, 1,458."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def table(rows: list[Row]) -> str:
    """A Markdown table of every row (what docs/benchmarks.md shows)."""
    head = "| scenario | env | obs | path | steps | steps/s | MB/s | p50 ms | p99 ms | vs OpenEnv |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        ratio = f"{r.ratio:.3g}x {r.baseline}" if r.ratio is not None else ""
        if "error" in r.extra:
            ratio = f"failed: {r.extra['error']}"
        lines.append(
            f"| {r.group} | {r.env} | {size_label(r.obs_bytes)} | {r.impl} | {r.steps} | "
            f"{_num(r.steps_per_s)} | {_num(r.mb_per_s)} | {_num(r.p50_ms)} | {_num(r.p99_ms)} | "
            f"{ratio} |"
        )
    return "\n".join(lines)


def _find(rows: list[Row], group: str, impl: str, env: str, obs_bytes: int) -> Row | None:
    for r in rows:
        if (r.group, r.impl, r.env, r.obs_bytes) == (group, impl, env, obs_bytes):
            return r
    return None


def targets(rows: list[Row]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    out: list[dict[str, Any]] = []

    def ratio(name: str, group: str, impl: str, env: str, size: int, goal: float) -> None:
        row = _find(rows, group, impl, env, size)
        value = row.ratio if row else None
        met = value is not None and value >= goal
        out.append({"target": name, "goal": f">= {goal:g}x", "value": value, "met": met})

    for env, size in (("CartPole", CARTPOLE_OBS_BYTES), ("echo", 16)):
        ratio(
            f"1 session AsyncStreamSession vs OpenEnv WS ({env})",
            "1 session",
            ASYNC_STREAM,
            env,
            size,
            1.5,
        )
        ratio(f"1 session RemoteEnv vs OpenEnv WS ({env})", "1 session", REMOTE_ENV, env, size, 1.5)
        ratio(f"unary Step vs OpenEnv HTTP /step ({env})", "1 session", UNARY, env, size, 2.0)
    remote, floor = (_find(rows, "1 session", impl, "echo", 16) for impl in (REMOTE_ENV, FLOOR))
    of_floor = None
    if remote and floor and floor.steps_per_s:
        of_floor = remote.steps_per_s / floor.steps_per_s
    out.append(
        {
            "target": "1 session RemoteEnv vs grpc.aio floor (echo)",
            "goal": ">= 0.8x",
            "value": of_floor,
            "met": of_floor is not None and of_floor >= 0.8,
        }
    )
    for label in (MANY_OURS, MANY_THREADS):
        ratio(
            f"{label.format(n=16)} vs 16 OpenEnv WS (CartPole)",
            "16 sessions",
            label.format(n=16),
            "CartPole",
            CARTPOLE_OBS_BYTES,
            2.2,
        )
    # Issue #12: 1 MiB and 1000 sessions keep their margins, idle sessions <= 25 KiB.
    ratio("1 MiB observations vs OpenEnv WS", "obs size", ASYNC_STREAM, "echo", 2**20, 100.0)
    many_label = MANY_OURS.format(n=1000)
    ratio(f"{many_label} vs OpenEnv's 1000 (echo)", "1000 sessions", many_label, "echo", 16, 1.9)
    many = next((r for r in rows if r.group == "1000 sessions" and r.impl.startswith("ours")), None)
    tail = many.p99_ms / many.p50_ms if many and many.p50_ms else None
    out.append(
        {
            "target": "1000 sessions p99 / p50",
            "goal": "< 10",
            "value": tail,
            "met": tail is not None and tail < 10,
        }
    )
    idle = many.extra.get("rss_kib_per_session") if many else None
    out.append(
        {
            "target": "server RSS per idle session (KiB)",
            "goal": "<= 25",
            "value": idle,
            "met": idle is not None and idle <= 25,
        }
    )
    return out


def targets_table(items: list[dict[str, Any]]) -> str:
    lines = ["| target | goal | measured | met |", "|---|---|---|---|"]
    for t in items:
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        lines.append(f"| {t['target']} | {t['goal']} | {value} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [{**asdict(r), "mb_per_s": r.mb_per_s} for r in rows]
