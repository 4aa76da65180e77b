"""`openenv-grpc serve` as a subprocess, as a user or a pod runs it."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "openenv_grpc.cli"]
SERVING = re.compile(r"openenv-grpc serving (?P<env>\S+) on (?P<address>\S+) ")


class Served:
    """A `serve` subprocess and the address its startup line announced."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", "0", *args],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if match := SERVING.search(line):
                self.env, self.address = match["env"], match["address"]
                # Keep reading, so a chatty server never blocks on a full pipe.
                self._reader = threading.Thread(target=self._read_rest, daemon=True)
                self._reader.start()
                return
        raise AssertionError(f"server exited before serving: {''.join(self.lines)}")

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        self.lines.extend(self.proc.stderr)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def send(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        """The exit code, once the process has ended and its log is read to the end."""
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.send(signum)
        return self.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()
