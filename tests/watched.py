"""A program under test whose stderr is read line by line: started, awaited by a log line."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from pathlib import Path


class Watched:
    """Starts `command` and returns once a stderr line matches `ready` (`self.ready` is the
    match); the rest of stderr is read on a thread, so a chatty program never blocks."""

    def __init__(
        self,
        command: list[str],
        ready: re.Pattern[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            command,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if match := ready.search(line):
                self.ready = match
                self._reader = threading.Thread(target=self._read_rest, daemon=True)
                self._reader.start()
                return
        self.proc.wait(60)
        raise AssertionError(f"{command[0]} exited before it was ready:\n{self.log}")

    def _read_rest(self) -> None:
        assert self.proc.stderr is not None
        self.lines.extend(self.proc.stderr)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal it (if it still runs) and return its exit code once its log is read."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        code = self.proc.wait(60)
        if self._reader is not None:
            self._reader.join(60)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.stop()
