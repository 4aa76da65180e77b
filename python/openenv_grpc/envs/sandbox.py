"""A session's sandbox: its own directory, commands under limits, safe file access.

What an agent sends is untrusted like env code: a command may fork without end,
print forever, fill the disk or reach for the network, and a path may point
out of the directory (`..`, an absolute path, a symlink the agent made).
So:

* every command runs through `sandbox_init.py` in a separate process (no
  `preexec_fn` in a threaded server), in new namespaces where the kernel
  allows it (no network, a private root with read-only system trees, its own
  PIDs, the session's own uid when the server is root), under rlimits (CPU,
  memory, file size, processes, open files) and a wall-clock timeout after
  which the launcher is killed and the kernel takes every process the command
  started with it;
* output is read as it comes, the head and the tail kept (a marker says how
  much was dropped), and a command that prints more than `output_kill_bytes`
  is killed rather than read for its whole timeout;
* files are opened by the server one path component at a time with
  O_NOFOLLOW from the directory's own descriptor, so `..`, absolute paths
  outside /work and symlinks are refused, and only regular files are read
  (a FIFO cannot hang the server);
* directories live under one root per server process, named after its pid
  and start time: a session's directory is removed when it closes, and a
  server that starts removes the roots of servers that died (a crash, a
  SIGKILL) without cleaning up.

`isolation()` probes once per process which mode works (root, userns,
rlimits) and says what holds; the terminal env shows it in Describe and in
every reset's info.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import functools
import json
import logging
import math
import os
import pathlib
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import sandbox_init

log = logging.getLogger("openenv_grpc.envs.sandbox")

WORKDIR = "/work"  # where a session's directory appears to its commands
ROOT_VARIABLE = "OPENENV_TERMINAL_ROOT"  # where the servers' roots go (default: the temp dir)
MODE_VARIABLE = "OPENENV_TERMINAL_SANDBOX"  # root, userns or rlimits: that mode and no other
MODES = ("root", "userns", "rlimits")
SANDBOX_UIDS = (1_000_000, 2_000_000_000)  # session uids when the server is root
_READ_CHUNK = 65536
_MAX_WALK = 100_000  # entries counted for the disk quota before it counts as over
_STOP_SECONDS = 10.0  # the most a stopped command's namespace may take to empty


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the command): a bug or a host that refuses it."""


class PathRefused(ValueError):
    """A path the agent gave that the sandbox will not touch; the message says why."""


@dataclass(frozen=True)
class Limits:
    """What one session's commands and files may use; every bound has a default."""

    timeout_s: float = 10.0  # wall clock of one command when the caller names none
    max_timeout_s: float = 30.0  # the most a caller may ask for
    memory_bytes: int = 512 * 2**20  # address space of each process
    file_bytes: int = 64 * 2**20  # largest file a command may write
    processes: int = 32  # processes (and threads) at once
    open_files: int = 256
    output_bytes: int = 16 * 1024  # output shown: its head and its tail
    output_kill_bytes: int = 4 * 2**20  # output past this kills the command
    disk_bytes: int = 256 * 2**20  # the directory's quota, checked after each command
    tmp_bytes: int = 64 * 2**20  # the private /tmp (memory) of one command
    read_bytes: int = 256 * 1024  # most of a file read_file returns
    write_bytes: int = 2**20  # largest content write_file takes
    list_entries: int = 1000  # most entries list_dir returns


@dataclass(frozen=True)
class Isolation:
    """How commands are confined on this host (shown in Describe and reset infos)."""

    mode: str  # "root", "userns" or "rlimits"
    network: bool  # a network namespace of its own: no interface but a down loopback
    filesystem: bool  # a private root: read-only system trees, /work, a fresh /tmp
    own_user: bool  # an unprivileged uid of the session's own

    def as_info(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunResult:
    """One command's outcome."""

    output: str  # stdout and stderr as they interleaved, head and tail when long
    exit_code: int  # the command's status, or 128 + the signal that ended it
    timed_out: bool  # killed at its wall-clock limit
    flooded: bool  # killed for printing more than output_kill_bytes
    dropped_bytes: int  # output not shown
    over_quota: bool  # the directory is over its disk quota after the command

    @property
    def limit_hit(self) -> str:
        """The limit whose signal ended the command ("" for none): a file grew past the
        file-size limit (SIGXFSZ), or a process used up its CPU time (SIGXCPU)."""
        return _LIMIT_SIGNALS.get(self.exit_code - 128, "")


_LIMIT_SIGNALS: dict[int, str] = {int(signal.SIGXFSZ): "file size", int(signal.SIGXCPU): "CPU time"}


def _start_time(pid: int) -> str:
    """A process's start time in clock ticks since boot ("" if it is gone): with the pid,
    a name no later process shares."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return ""
    return fields[19]


@functools.cache
def server_root() -> pathlib.Path:
    """This process's directory of session directories, made once; roots left by dead
    servers are removed first, and this one at exit."""
    base = pathlib.Path(os.environ.get(ROOT_VARIABLE) or tempfile.gettempdir()) / (
        f"openenv-terminal-{os.getuid()}"
    )
    base.mkdir(mode=0o711, parents=True, exist_ok=True)
    for stale in base.glob("srv-*"):
        _, pid, started = [*stale.name.split("-"), "", ""][:3]
        if not pid.isdigit() or _start_time(int(pid)) != started:
            log.info("removing %s, left by a server that is gone", stale)
            remove_tree(stale)
    root = base / f"srv-{os.getpid()}-{_start_time(os.getpid())}"
    root.mkdir(mode=0o711, exist_ok=True)
    (root / "mnt").mkdir(exist_ok=True)
    atexit.register(remove_tree, root)
    return root


def remove_tree(path: pathlib.Path) -> None:
    """Remove a directory whatever its commands did to it (modes 000 included)."""

    def unlock(function: object, name: str, exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(name) and not os.path.islink(name):
                shutil.rmtree(name, ignore_errors=True)
            else:
                os.unlink(name)

    if path.exists():
        shutil.rmtree(path, onerror=unlock)


def _hidden_paths() -> list[str]:
    """Where the package lives, when a sandbox could see it (an install under /usr): its
    tasksets hold answers."""
    package = pathlib.Path(__file__).resolve().parents[1]
    return [str(package)]


@functools.cache
def isolation() -> Isolation:
    """The strongest mode that works here, found by running `true` in each (once), or the
    one $OPENENV_TERMINAL_SANDBOX names."""
    chosen = os.environ.get(MODE_VARIABLE, "")
    if chosen and chosen not in MODES:
        raise SandboxError(f"${MODE_VARIABLE} is {chosen!r}; use one of {', '.join(MODES)}")
    modes = [chosen] if chosen else [m for m in MODES if m != "root" or os.geteuid() == 0]
    root = server_root()
    probe = root / f"probe-{uuid.uuid4().hex[:8]}"
    probe.mkdir(mode=0o700)
    try:
        for mode in modes:
            uid = _new_uid(mode)
            if uid is not None:
                os.chown(probe, uid, uid)
            config = _config(mode, probe, root, "true", Limits(), uid=uid)
            try:
                done = subprocess.run(
                    LAUNCHER,
                    input=json.dumps(config).encode(),
                    capture_output=True,
                    timeout=30,
                    check=False,
                    close_fds=True,
                )
            except subprocess.TimeoutExpired:
                continue
            if done.returncode == 0:
                namespaces = mode != "rlimits"
                if not namespaces:
                    log.warning(
                        "the terminal sandbox has no namespaces on this host (neither root nor "
                        "user namespaces): commands run with rlimits alone, with network "
                        "access and the server's view of the filesystem"
                    )
                return Isolation(mode, namespaces, namespaces, mode == "root")
            log.info("sandbox mode %s is not available: %s", mode, done.stderr.decode()[-300:])
    finally:
        remove_tree(probe)
    raise SandboxError(f"no sandbox mode works on this host (tried {', '.join(modes)})")


def _new_uid(mode: str) -> int | None:
    """A session's own uid when the server is root (so the process limit counts that
    session alone), drawn at random from a range no account uses; None otherwise."""
    if mode != "root":
        return None
    low, high = SANDBOX_UIDS
    return low + secrets.randbelow(high - low)


def _config(
    mode: str,
    workdir: pathlib.Path,
    root: pathlib.Path,
    command: str,
    limits: Limits,
    *,
    uid: int | None,
    timeout_s: float = 0.0,
) -> dict[str, object]:
    cpu = math.ceil(timeout_s or limits.max_timeout_s) + 1
    processes: int | None = limits.processes
    if mode == "rlimits":
        processes = None  # it would count every process of the server's user
    return {
        "mode": mode,
        "workdir": str(workdir),
        "mount_point": str(root / "mnt"),
        "uid": uid,
        "tmp_bytes": limits.tmp_bytes,
        "hide": _hidden_paths(),
        "limits": {
            "cpu_seconds": cpu,
            "memory_bytes": limits.memory_bytes,
            "file_bytes": limits.file_bytes,
            "processes": processes,
            "open_files": limits.open_files,
        },
        "command": command,
        "environment": {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": WORKDIR if mode != "rlimits" else str(workdir),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        },
        "server_pid": os.getpid(),
    }


LAUNCHER = [sys.executable, "-I", "-S", sandbox_init.__file__]  # its config comes on stdin


class Sandbox:
    """One session's directory and the commands and file operations in it."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.isolation = isolation()
        self._uid = _new_uid(self.isolation.mode)
        self.workdir = server_root() / f"s-{uuid.uuid4().hex}"
        self._closed = False
        self.fresh()

    # --- the directory --------------------------------------------------------

    def fresh(self) -> None:
        """An empty directory (a new episode starts clean)."""
        remove_tree(self.workdir)
        self.workdir.mkdir(mode=0o700)
        if self._uid is not None:
            os.chown(self.workdir, self._uid, self._uid)

    def close(self) -> None:
        """Remove the directory (commands have all ended: each one ends before `run`
        returns)."""
        if not self._closed:
            self._closed = True
            remove_tree(self.workdir)

    def usage(self) -> int:
        """Bytes the directory holds (blocks in use; past _MAX_WALK entries, over any
        quota)."""
        total, seen = 0, 0
        for top, dirs, files in os.walk(self.workdir, onerror=lambda _: None):
            for name in dirs + files:
                seen += 1
                if seen > _MAX_WALK:
                    return 2**62
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(top, name)).st_blocks * 512
        return total

    # --- commands -------------------------------------------------------------

    def timeout(self, timeout_s: float | None) -> float:
        """The wall-clock limit of a command; PathRefused-like ValueError when out of
        bounds."""
        if timeout_s is None:
            return self.limits.timeout_s
        if not 0 < timeout_s <= self.limits.max_timeout_s:
            raise ValueError(
                f"timeout_s must be above 0 and at most {self.limits.max_timeout_s:g} "
                f"seconds, not {timeout_s:g}"
            )
        return float(timeout_s)

    def run(self, command: str, timeout_s: float | None = None) -> RunResult:
        """Run a bash command in the directory under the session's limits."""
        seconds = self.timeout(timeout_s)
        config = _config(
            self.isolation.mode,
            self.workdir,
            server_root(),
            command,
            self.limits,
            uid=self._uid,
            timeout_s=seconds,
        )
        process = subprocess.Popen(
            LAUNCHER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
        assert process.stdin is not None
        try:
            with process.stdin:  # far below a pipe's buffer: written at once
                process.stdin.write(json.dumps(config).encode())
            output, timed_out, flooded = self._collect(process, seconds)
        finally:
            self._stop(process)
            assert process.stdout is not None
            process.stdout.close()
        code = process.returncode
        code = 128 + -code if code < 0 else code
        if code == sandbox_init.SETUP_FAILED and b"openenv-sandbox:" in output.tail:
            raise SandboxError(output.tail.decode(errors="replace").strip())
        return RunResult(
            output=output.text(),
            exit_code=code,
            timed_out=timed_out,
            flooded=flooded,
            dropped_bytes=output.dropped,
            over_quota=self.usage() > self.limits.disk_bytes,
        )

    def _collect(
        self, process: subprocess.Popen[bytes], seconds: float
    ) -> tuple[_Output, bool, bool]:
        """Read the command's output until it ends, its time is up, or it prints too much."""
        assert process.stdout is not None
        fd = process.stdout.fileno()
        os.set_blocking(fd, False)
        output = _Output(self.limits.output_bytes)
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            exited = False
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return output, True, False
                # The launcher's exit is seen by polling: in rlimits mode a background
                # process may hold the pipe open after the command itself has ended.
                selector.select(min(remaining, 0.05 if exited else 0.25))
                try:
                    chunk = os.read(fd, _READ_CHUNK)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    return output, False, False
                if chunk:
                    output.add(chunk)
                    if output.total > self.limits.output_kill_bytes:
                        return output, False, True
                elif exited:
                    return output, False, False  # ended; stragglers are killed next
                exited = exited or process.poll() is not None

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        """End a command and everything it started before returning: in the namespace
        modes, SIGTERM makes the launcher kill the namespace's init and wait until the
        kernel has ended every process in it (SIGKILL to all of them if it will not);
        in rlimits mode, SIGKILL to the process group."""
        if process.poll() is None and self.isolation.mode != "rlimits":
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(_STOP_SECONDS)
        _kill_group(process)
        process.wait()

    # --- files ----------------------------------------------------------------

    def read_file(self, path: str, max_bytes: int | None = None) -> tuple[str, int, int]:
        """A regular file's text (UTF-8, bad bytes replaced), its size, and how many bytes
        were left out past `max_bytes`."""
        limit = min(max_bytes or self.limits.read_bytes, self.limits.read_bytes)
        with self._open(path, os.O_RDONLY) as fd:
            size = os.fstat(fd).st_size
            data = os.read(fd, limit)
        return data.decode(errors="replace"), size, max(0, size - len(data))

    def write_file(self, path: str, content: str) -> int:
        """Write a file (made, or replaced, never through a symlink); the bytes written."""
        data = content.encode()
        if len(data) > self.limits.write_bytes:
            raise PathRefused(
                f"content is {len(data)} bytes, over the {self.limits.write_bytes} byte limit "
                "of write_file; write it in parts with a command"
            )
        if self.usage() + len(data) > self.limits.disk_bytes:
            raise PathRefused(
                f"the working directory would pass its {self.limits.disk_bytes // 2**20} MiB "
                "quota; delete files first"
            )
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with self._open(path, flags) as fd:
            os.write(fd, data)
            if self._uid is not None:
                os.fchown(fd, self._uid, self._uid)
        return len(data)

    def list_dir(self, path: str = ".") -> tuple[list[dict[str, object]], int]:
        """A directory's entries (name, type, size), sorted, at most `list_entries`; and
        how many there are in all."""
        entries: list[dict[str, object]] = []
        with self._open(path, os.O_RDONLY | os.O_DIRECTORY) as fd:
            names = sorted(os.listdir(fd))
            for name in names[: self.limits.list_entries]:
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                entries.append({"name": name, "type": _kind(info.st_mode), "size": info.st_size})
        return entries, len(names)

    @contextlib.contextmanager
    def _open(self, path: str, flags: int) -> Iterator[int]:
        """Open a path inside the directory, never leaving it, never following a symlink,
        never blocking on a FIFO; only regular files and directories."""
        parts = _parts(path)
        if not parts and not flags & os.O_DIRECTORY:
            raise PathRefused(f"{path!r} names the working directory itself, not a file")
        fd = os.open(self.workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                mode = flags if last else os.O_RDONLY | os.O_DIRECTORY
                mode |= os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                try:
                    next_fd = os.open(part, mode, 0o644, dir_fd=fd)
                except OSError as exc:
                    raise PathRefused(_why(path, parts[: i + 1], exc)) from None
                os.close(fd)
                fd = next_fd
            kind = _kind(os.fstat(fd).st_mode)
            wanted = "directory" if flags & os.O_DIRECTORY else "file"
            if kind != wanted:
                shown = "special file (FIFO, socket or device)" if kind == "special" else kind
                raise PathRefused(f"{path!r} is a {shown}, not a {wanted}")
            yield fd
        finally:
            os.close(fd)


class _Output:
    """A command's output as it comes: the first bytes kept, the last bytes kept."""

    def __init__(self, shown: int) -> None:
        self._head_limit = shown * 3 // 4
        self._tail_limit = shown - self._head_limit
        self.head = bytearray()
        self.tail = b""
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail = (self.tail + chunk)[-self._tail_limit :]

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        head = self.head.decode(errors="replace")
        if not self.dropped:
            return head + self.tail.decode(errors="replace")
        marker = f"\n[... {self.dropped} bytes of output not shown ...]\n"
        return head + marker + self.tail.decode(errors="replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the launcher and its process group; the kernel ends the command's namespace."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _parts(path: str) -> list[str]:
    """A path's components below the directory: relative, or absolute under /work; `..`
    refused."""
    if not isinstance(path, str) or "\0" in path:
        raise PathRefused("a path must be text without NUL characters")
    pure = pathlib.PurePosixPath(path)
    if pure.is_absolute():
        try:
            pure = pure.relative_to(WORKDIR)
        except ValueError:
            raise PathRefused(
                f"{path!r} is outside the working directory; use a path relative to it, or "
                f"under {WORKDIR}"
            ) from None
    parts = [part for part in pure.parts if part != "."]
    if ".." in parts:
        raise PathRefused(f"{path!r} goes up with '..'; paths stay inside the working directory")
    return parts


def _why(path: str, reached: Sequence[str], exc: OSError) -> str:
    """What a refused open means for the agent."""
    where = "/".join(reached)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return (
            f"{path!r}: {where!r} is a symbolic link or not a directory (links are never "
            "followed by the file tools; use a command)"
        )
    if exc.errno == errno.ENOENT:
        return f"{path!r}: {where!r} does not exist"
    if exc.errno == errno.EISDIR:
        return f"{path!r} is a directory, not a file"
    if exc.errno == errno.ENXIO:
        return f"{path!r} is a FIFO with no reader; the file tools open regular files only"
    return f"{path!r}: {exc.strerror}"


def _kind(mode: int) -> str:
    """file, directory, symlink or special (FIFOs, sockets, devices)."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    return "special"
