"""How grpcio moves bytes in this process: its sockets polled by the completion queue's
thread, as grpcio did up to 1.79, rather than on EventEngine threads.

Since grpcio 1.80 Python channels and servers run their sockets on EventEngine
threads, so every message crosses one thread more between its socket and the
asyncio loop (a wake-up each way, costly on small VMs). With the two grpc
experiments `event_engine_client` and `event_engine_listener` turned off, the
completion queue's own poller thread reads and writes the sockets. On the
bench machine a bare grpc.aio stream then does about 40 % more round trips per
second, when both ends run so (docs/benchmarks.md). grpcio 1.85.1 (the pinned
version) has both experiments; a later grpcio without them logs "Unknown
experiment" once and runs as it does by default.

grpc reads GRPC_EXPERIMENTS once, when it is first imported. `prefer_polling`
(run when `openenv_grpc` is imported, before any of its modules imports grpc)
sets the variable for that import, and `settle` (run by the modules that
import grpc) takes it out of the environment again once grpc is loaded, so
child processes get the environment they were given. Nothing changes when the
variable is already set, even to "" (an operator's choice), or when grpc was
imported before `openenv_grpc`.
"""

from __future__ import annotations

import os
import sys

POLLING_IO = "-event_engine_client,-event_engine_listener"
"""The GRPC_EXPERIMENTS value that keeps sockets on the completion queue's thread."""

_VARIABLE = "GRPC_EXPERIMENTS"
_in_environment = False  # set by prefer_polling and not yet taken out by settle
_chosen = False  # prefer_polling set it before grpc was imported


def prefer_polling() -> None:
    """Have grpc, when it is imported, poll its sockets itself (see the module docstring)."""
    global _in_environment, _chosen
    if "grpc" in sys.modules or _VARIABLE in os.environ:
        return
    os.environ[_VARIABLE] = POLLING_IO
    _in_environment = _chosen = True


def settle() -> None:
    """Once grpc is imported: our GRPC_EXPERIMENTS leaves the environment (grpc has read it)."""
    global _in_environment
    if _in_environment and "grpc" in sys.modules:
        _in_environment = False
        if os.environ.get(_VARIABLE) == POLLING_IO:
            del os.environ[_VARIABLE]


def polling() -> bool:
    """Whether this process's grpc was imported with the polling I/O set here."""
    return _chosen and "grpc" in sys.modules


def child_environment() -> dict[str, str]:
    """The environment a child process needs to make the same choice as this one (for a
    child that imports grpc before openenv_grpc, such as the bench's bare grpc server)."""
    return {_VARIABLE: POLLING_IO} if polling() else {}
