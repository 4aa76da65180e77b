"""Environments shipped with openenv-grpc, served by short name (`openenv-grpc serve NAME`).

`SHIPPED` maps each short name to the `module:attr` the loader imports, so
naming an env here costs nothing until it is served.
"""

from __future__ import annotations

SHIPPED: dict[str, str] = {
    "conformance": "openenv_grpc.envs.conformance:ConformanceEnv",
    # A sandboxed shell per session with the `shell` taskset (envs/terminal.py).
    "terminal": "openenv_grpc.envs.terminal:TerminalEnv",
}
