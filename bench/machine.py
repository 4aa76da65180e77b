"""The machine and the code a run measured, for the JSON report and docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from openenv_grpc import grpc_io

PACKAGES = (
    "openenv",
    "openenv-grpc",
    "grpcio",
    "protobuf",
    "websockets",
    "uvicorn",
    "fastapi",
    "pydantic",
    "httpx",
    "numpy",
    "gymnasium",
    "uvloop",
    "httptools",
)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "grpc_io": "polling (openenv_grpc.grpc_io)" if grpc_io.polling() else "grpc default",
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def revision(root: Path) -> str:
    """The commit measured, marked "+ uncommitted" when python/ differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout

    dirty = git("status", "--porcelain", "--", "python", "gen").strip()
    return git("rev-parse", "--short", "HEAD").strip() + (" + uncommitted" if dirty else "")
