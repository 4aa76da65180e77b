"""The server process's malloc settings: large observations reuse the heap instead of new pages.

A step with a large observation allocates several buffers of its size and
frees them once the answer is out (the observation's bytes, the response
message, the serialized bytes, gRPC's copy). glibc's defaults give the heap
back to the system whenever more than twice the largest freed block is free
at its top, which a step's buffers together are: the next step then faults
every page in again (1 MiB observations: about 1,250 page faults a step, a
few ms; 16 MiB: 20,000, most of the step's time). How often it happens
depends on the order in which the buffers happen to be freed, so any change
to a step's code could turn it on or off.

`keep_heap` fixes both thresholds: blocks up to MMAP_THRESHOLD come from the
heap (glibc's own ceiling for the threshold it adapts), and up to
TRIM_THRESHOLD of free heap is kept rather than given back, so the buffers of
one step are the next step's. The cost is that the server's resident memory
does not shrink back by up to TRIM_THRESHOLD after a burst of large steps.
An operator's own MALLOC_* settings win; other C libraries are left alone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger("openenv_grpc.server")

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 128 * 2**20  # a 16 MiB observation's step touches about 80 MiB
# Set by the operator (environment or tunables): then theirs are kept.
OPERATOR_SETTINGS = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


def keep_heap() -> bool:
    """Set the thresholds above on glibc; whether they were set (False elsewhere, or when
    the operator has set malloc's own)."""
    if not sys.platform.startswith("linux") or _operator_set():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # no mallopt in this C library
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    done = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and done
    if not done:
        log.debug("mallopt refused the heap thresholds; glibc's defaults stay")
    return done


def _operator_set() -> bool:
    if any(name in os.environ for name in OPERATOR_SETTINGS):
        return True
    return "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")
