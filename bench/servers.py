"""Start the servers under test as subprocesses, learn their ports, read their memory, stop them.

Each server is started with port 0 and announces the port it bound on its
log: ours logs "openenv-grpc serving ENV on HOST:PORT", uvicorn logs
"Uvicorn running on http://HOST:PORT". A reader thread per process copies
the log to a file (so a full pipe never blocks the server) and hands the
port over as soon as that line appears; nothing sleeps to wait.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from openenv_grpc import grpc_io

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
OURS_READY = re.compile(r"openenv-grpc serving \S+ on 127\.0\.0\.1:(\d+)")
UVICORN_READY = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
FLOOR_READY = re.compile(r"grpc floor serving on 127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its command, extra environment variables and ready line."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready: re.Pattern[str] = OURS_READY


def ours(name: str, env_spec: str, *, max_sessions: int, env: dict[str, str]) -> ServerSpec:
    """Our server through its real CLI (`openenv-grpc serve`)."""
    exe = str(Path(sys.executable).parent / "openenv-grpc")
    argv = [exe, "serve", env_spec, "--host", HOST, "--port", "0"]
    argv += ["--max-sessions", str(max_sessions)]
    return ServerSpec(name, argv, env, OURS_READY)


def openenv(name: str, app: str, *, max_sessions: int, env: dict[str, str]) -> ServerSpec:
    """An OpenEnv app under uvicorn with its defaults, minus the per-request access log."""
    argv = [sys.executable, "-m", "uvicorn", "--factory", f"bench.openenv_servers:{app}"]
    argv += ["--host", HOST, "--port", "0", "--no-access-log"]
    return ServerSpec(name, argv, {**env, "BENCH_MAX_SESSIONS": str(max_sessions)}, UVICORN_READY)


def grpc_floor(name: str) -> ServerSpec:
    """The bare grpc.aio StepStream of `bench/grpc_floor.py`, with grpc's socket I/O as
    ours has it (the script imports grpc before openenv_grpc could choose)."""
    env = grpc_io.child_environment()
    return ServerSpec(name, [sys.executable, "bench/grpc_floor.py"], env, FLOOR_READY)


class Server:
    """A running server subprocess."""

    def __init__(self, spec: ServerSpec, log_dir: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        env = {**os.environ, **spec.env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            spec.argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._ports: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()
        self.port = 0

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        announced = False
        with self.log_path.open("w") as log:
            for line in self.proc.stdout:
                log.write(line)
                if not announced and (match := self.spec.ready.search(line)):
                    announced = True
                    self._ports.put(int(match.group(1)))
        self._ports.put(None)  # the process ended (before or after announcing)

    def wait_ready(self, timeout: float) -> int:
        """Block until the server announced its port; RuntimeError if it died or never did."""
        try:
            port = self._ports.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            message = f"{self.spec.name}: not up after {timeout:g}s; see {self.log_path}"
            raise RuntimeError(message) from None
        if port is None:
            raise RuntimeError(f"{self.spec.name} exited early; see {self.log_path}")
        self.port = port
        return port

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_kib(self) -> int:
        """Resident memory of the server process (VmRSS in /proc/PID/status)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for pid {self.proc.pid}")

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far, all threads included."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._reader.join(timeout)


class Servers:
    """Start several servers at once (start-up is slow, imports mostly) and stop them together."""

    def __init__(self, specs: list[ServerSpec], log_dir: Path, timeout: float = 90.0) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.by_name: dict[str, Server] = {}
        started = time.perf_counter()
        try:
            for spec in specs:
                self.by_name[spec.name] = Server(spec, log_dir)
            for server in self.by_name.values():
                remaining = timeout - (time.perf_counter() - started)
                server.wait_ready(max(remaining, 1.0))
        except BaseException:
            self.stop()
            raise

    def __getitem__(self, name: str) -> Server:
        return self.by_name[name]

    def stop(self) -> None:
        for server in self.by_name.values():
            server.stop()

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
