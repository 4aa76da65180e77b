"""The server's malloc settings (server/heap.py), each in a fresh process of its own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the settings are glibc's",
)

# A step of a large observation, as the server's: several buffers of its size, all freed
# at the end. Prints whether the thresholds were set, and the page faults of 20 such steps
# once warm.
STEPS = """
import resource, sys
from openenv_grpc.server.heap import keep_heap
print(keep_heap() if sys.argv[1] == "keep" else None)
def step():
    buffers = [bytearray(4 * 2**20) for _ in range(4)]
    for buffer in buffers:
        buffer[::4096] = bytes(len(buffer[::4096]))
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def run_steps(mode: str, **env: str) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", STEPS, mode],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    kept, faults = done.stdout.split()
    return kept, int(faults)


def test_large_steps_reuse_the_heap_instead_of_faulting_in_new_pages() -> None:
    kept, faults = run_steps("keep")
    assert kept == "True"
    # 20 steps of 16 MiB each: without the settings about 80,000 faults (glibc gives the
    # freed heap back each step); with them, the pages of one step are the next's.
    assert faults < 1000


def test_the_operators_own_malloc_settings_are_kept() -> None:
    kept, _ = run_steps("keep", MALLOC_TRIM_THRESHOLD_="131072")
    assert kept == "False"
    kept, _ = run_steps("keep", GLIBC_TUNABLES="glibc.malloc.trim_threshold=131072")
    assert kept == "False"


def test_glibcs_defaults_give_the_heap_back_every_step() -> None:
    """Why the settings exist: the same steps with glibc's defaults fault every page in."""
    _, faults = run_steps("defaults")
    assert faults > 20 * 2000
