"""grpc's socket I/O choice (`openenv_grpc.grpc_io`): made before grpc loads, taken back out
of the environment once it has, and never over an operator's own GRPC_EXPERIMENTS.

Each case runs in a fresh interpreter, since grpc reads the variable once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from openenv_grpc.grpc_io import POLLING_IO

# Prints what the environment held at each point, and what a child process sees.
PROGRAM = """
import json, os, subprocess, sys
seen = {}
if sys.argv[1] == "grpc-first":
    import grpc
import openenv_grpc
seen["after package"] = os.environ.get("GRPC_EXPERIMENTS")
seen["grpc loaded by the package"] = "grpc" in sys.modules and sys.argv[1] != "grpc-first"
import openenv_grpc.client
from openenv_grpc import grpc_io
seen["after client"] = os.environ.get("GRPC_EXPERIMENTS")
seen["polling"] = grpc_io.polling()
seen["child"] = subprocess.run(
    [sys.executable, "-c", "import os; print(os.environ.get('GRPC_EXPERIMENTS'))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
print(json.dumps(seen))
"""


def _run(case: str, **environment: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"}
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, case],
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_grpc_is_imported_with_polling_io_and_the_variable_leaves_with_it() -> None:
    seen = _run("package-first")
    assert seen == {
        "after package": POLLING_IO,  # set for grpc's import, which has not happened yet
        "grpc loaded by the package": False,  # an env author's import loads no grpc
        "after client": None,  # grpc has read it: gone from the environment
        "polling": True,
        "child": "None",  # child processes get the environment they were given
    }


@pytest.mark.parametrize("own", ["", "-event_engine_client"])
def test_an_operators_own_setting_wins(own: str) -> None:
    seen = _run("package-first", GRPC_EXPERIMENTS=own)
    assert seen["after package"] == seen["after client"] == own
    assert seen["polling"] is False
    assert seen["child"] == own


def test_grpc_imported_before_openenv_grpc_keeps_its_default() -> None:
    seen = _run("grpc-first")
    assert seen["after package"] is None
    assert seen["after client"] is None
    assert seen["polling"] is False
