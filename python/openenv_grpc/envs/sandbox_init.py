"""The first process of a sandboxed command: namespaces, a private root, limits, then bash.

Run by `sandbox.py` as `python -I -S sandbox_init.py` with its configuration as
JSON on stdin (not in argv, which every process of the sandbox could read in
/proc; stdin is then /dev/null for the command), never imported
by the server: it is a separate process so that nothing here runs between fork
and exec of a threaded server (no `preexec_fn`), and it uses the standard
library alone, through raw system calls (ctypes), because `mount(8)` costs tens
of milliseconds a call and a command needs about twenty mounts.

Modes (chosen by the server, which probes them once):

* "root": the server runs as root. New mount, network, PID, IPC and UTS
  namespaces; a private root on a small tmpfs holding read-only binds of
  /usr, /etc and the /bin, /lib links, a fresh /tmp, a few /dev nodes, /proc
  of the new PID namespace, and the session's directory as /work; then the
  command drops to the session's own unprivileged uid (so the process limit
  counts that session alone) with no capabilities and no_new_privs.
* "userns": the same inside a new user namespace, for a server that is not
  root but may create user namespaces; the command is root of that namespace
  only, without capabilities.
* "rlimits": no namespace could be made: the command runs as the server's
  user, in the session's directory, with the limits alone (no network or
  filesystem isolation; Describe says so).

In the namespace modes a small init (this script, forked) is PID 1 of the
namespace and the command its child: when the command ends, or when this
launcher is killed (the server's wall-clock timeout), the init ends and the
kernel kills every process the command started. (The command is not PID 1
itself: PID 1 ignores the signals it has no handler for, SIGXFSZ and SIGXCPU
of the limits included.) The exit status is the command's, or
128 + the signal that ended it, as a shell reports it; the launcher's own
failures exit with SETUP_FAILED and a line on stderr that starts with
"openenv-sandbox:".
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from typing import Any

SETUP_FAILED = 125
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}  # syscall numbers; elsewhere: MS_MOVE + chroot
READ_ONLY_TREES = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
_LIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "memory_bytes": resource.RLIMIT_AS,
    "file_bytes": resource.RLIMIT_FSIZE,
    "processes": resource.RLIMIT_NPROC,
    "open_files": resource.RLIMIT_NOFILE,
}

libc = ctypes.CDLL(None, use_errno=True)


class SetupError(Exception):
    """A step of the sandbox setup failed (the message names it)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _bind_read_only(source: str, target: str) -> None:
    """A read-only bind; the source's locked flags (nosuid, noexec, ...) kept, as the
    kernel demands inside a user namespace."""
    _mount(source, target, None, MS_BIND | MS_REC)
    kept = os.statvfs(source).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    for st, ms in ((8, MS_NOEXEC), (1024, MS_NOATIME), (2048, MS_NODIRATIME)):
        if kept & st:
            flags |= ms
    if not kept & (1024 | 2048):
        flags |= MS_RELATIME
    _mount(None, target, None, flags)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _private_root(config: dict[str, Any]) -> None:
    """Build the command's filesystem on a tmpfs at config["mount_point"] and make it /."""
    root = config["mount_point"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['tmp_bytes']},mode=755")
    for name in READ_ONLY_TREES:
        source = f"/{name}"
        if os.path.islink(source):
            os.symlink(os.readlink(source), f"{root}/{name}")
        elif os.path.isdir(source):
            os.mkdir(f"{root}/{name}")
            _bind_read_only(source, f"{root}/{name}")
    for hidden in config["hide"]:  # e.g. the taskset's files under /usr
        target = f"{root}{hidden}"
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0")
        elif os.path.exists(target):
            _mount("/dev/null", target, None, MS_BIND)
    for name in ("work", "tmp", "proc", "dev", ".old"):
        os.mkdir(f"{root}/{name}")
    os.chmod(f"{root}/tmp", 0o1777)
    _mount(config["workdir"], f"{root}/work", None, MS_BIND)
    for name in DEVICES:
        open(f"{root}/dev/{name}", "w").close()
        _mount(f"/dev/{name}", f"{root}/dev/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink("/proc/self/fd/1", f"{root}/dev/stdout")
    os.symlink("/proc/self/fd/2", f"{root}/dev/stderr")
    with contextlib.suppress(SetupError):  # some containers forbid a new /proc
        _mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    number = PIVOT_ROOT.get(os.uname().machine)
    if number is not None:
        _check(libc.syscall(number, b".", b".old"), "pivot_root")
        _check(libc.umount2(b"/.old", MNT_DETACH), "detach the old root")
        os.rmdir("/.old")
    else:
        os.rmdir(".old")
        _mount(".", "/", None, MS_MOVE)
        os.chroot(".")
    os.chdir("/work")


def _drop_privileges(config: dict[str, Any]) -> None:
    """No way back to the server's powers: bounding set emptied, the session's uid (root
    mode), no capabilities, no_new_privs (setuid binaries stay powerless)."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    uid = config.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _set_limits(config: dict[str, Any]) -> None:
    for key, which in _LIMITS.items():
        value = config["limits"].get(key)
        if value:
            resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _exec(config: dict[str, Any]) -> None:
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; a shell must not
        signal.signal(signum, signal.SIG_DFL)
    os.execve("/bin/bash", ["bash", "-c", config["command"]], config["environment"])


def _sandboxed_child(config: dict[str, Any]) -> None:
    """PID 1 of the new namespace: its filesystem, hostname and limits; then the command
    runs as its child, and this init reaps orphans until the command ends (the kernel then
    ends every other process of the namespace)."""
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _private_root(config)
        hostname = b"sandbox"
        libc.sethostname(hostname, len(hostname))
        _set_limits(config)
        command = os.fork()
        if command == 0:
            _drop_privileges(config)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # a new uid cleared it
            _exec(config)
        _drop_privileges(config)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, SetupError) as exc:
        print(f"openenv-sandbox: {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    os._exit(_reap(command))


def _reap(command: int) -> int:
    """Wait for the command, reaping whatever else ends meanwhile; its exit status."""
    while True:
        pid, status = os.wait()
        if pid == command:
            return _status(status)


def _status(status: int) -> int:
    """An exit status as a shell reports it: the code, or 128 + the ending signal."""
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _enter_user_namespace(flags: int) -> None:
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | flags), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")


def main() -> int:
    config: dict[str, Any] = json.loads(sys.stdin.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # This launcher dies with the server thread that started it, and its command with it.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != config["server_pid"]:
        return SETUP_FAILED  # the server went away before the prctl took effect
    mode = config["mode"]
    try:
        if mode == "rlimits":
            os.chdir(config["workdir"])
            _set_limits(config)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            _exec(config)
        flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        if mode == "userns":
            _enter_user_namespace(flags)
        else:
            _check(libc.unshare(flags), "unshare")
    except (OSError, SetupError) as exc:
        print(f"openenv-sandbox: {exc}", file=sys.stderr, flush=True)
        return SETUP_FAILED
    # SIGTERM (the server's timeout) kills the init; the kernel then kills every process
    # of the namespace, and the init's exit (so this wait) completes once they are gone.
    stopping = [False]
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stopping.__setitem__(0, True))
    child = os.fork()
    if child == 0:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        _sandboxed_child(config)
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: os.kill(child, signal.SIGKILL))
    if stopping[0]:
        os.kill(child, signal.SIGKILL)
    _, status = os.waitpid(child, 0)
    return _status(status)


if __name__ == "__main__":
    sys.exit(main())
