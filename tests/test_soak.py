"""A bounded soak of a real `openenv-grpc serve`: sessions come and go, nothing grows.

One subprocess server (`tests/faultenvs.py:FaultEnv`, well-behaved actions
plus some env errors and refused actions, so the error paths are soaked
too) is driven by one client thread: sessions are created, stepped and
closed in a loop, alternately unary and on a StepStream, on a channel that
is replaced every few sessions (so connections come and go as well). Every
step must be answered with the count it should observe.

After a warm-up (a fifth of the steps: thread pools and caches fill up),
the server's resident memory (VmRSS), thread count (/proc/<pid>/status)
and open file descriptors (/proc/<pid>/fd) are sampled at regular
intervals and must stay flat: RSS within RSS_SLACK of its first sample,
threads and fds within THREAD_SLACK and FD_SLACK of theirs.

The default of 20,000 steps keeps the run near 30 s on 2 cores; the full
soak is `OPENENV_SOAK_STEPS=100000 .venv/bin/pytest tests/test_soak.py`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

import pytest

from openenv_grpc import errors
from openenv_grpc.client import EnvClient

from processes import Served

STEPS = int(os.environ.get("OPENENV_SOAK_STEPS", "20000"))
STEPS_PER_SESSION = 40
SESSIONS_PER_CHANNEL = 10
FAULTY_EVERY = 7  # every 7th session also hits an env error and a refused action
WARM_UP = 0.2  # of the steps, before the first sample
SAMPLES = 8  # after the warm-up, at even intervals
RSS_SLACK = 6 * 2**20  # bytes: noise is under 1 MiB; a leak of 16 KiB per session is 6+ MiB
THREAD_SLACK = 2  # gRPC's own pollers may come and go
FD_SLACK = 4  # a connection being torn down while another is made

RAISE, OUT_OF_SPACE = 2, 99


@dataclass(frozen=True)
class Sample:
    steps: int
    rss: int  # bytes
    threads: int
    fds: int


def sample(pid: int, steps: int) -> Sample:
    """The server's resident memory, thread count and open fds, read from /proc."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return Sample(
        steps=steps,
        rss=int(fields["VmRSS"][0]) * 1024,
        threads=int(fields["Threads"][0]),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
    )


def unary_session(client: EnvClient, steps: int, faulty: bool) -> int:
    """One unary session: reset, `steps` steps of +1, close. The steps answered."""
    session = client.reset().session_id
    if faulty:
        with pytest.raises(errors.InvalidArgument):
            client.step(session, OUT_OF_SPACE)
        with pytest.raises(errors.Internal):
            client.step(session, RAISE)
        client.reset(session_id=session)
    for k in range(1, steps + 1):
        assert int(client.step(session, 1).observation[0]) == k
    client.close_session(session)
    return steps


def stream_session(client: EnvClient, steps: int, faulty: bool) -> int:
    """One session on a stream: the same as unary_session."""
    with client.stream() as stream:
        stream.reset()
        if faulty:
            with pytest.raises(errors.InvalidArgument):
                stream.step(OUT_OF_SPACE)
            with pytest.raises(errors.Internal):
                stream.step(RAISE)
            stream.reset()
        for k in range(1, steps + 1):
            assert int(stream.step(1).observation[0]) == k
    return steps


def test_a_soak_of_sessions_and_steps_leaves_memory_threads_and_fds_flat() -> None:
    server = Served("tests/faultenvs.py:FaultEnv", "--drain-seconds", "0")
    pid = server.proc.pid
    samples: list[Sample] = []
    warm_up = int(STEPS * WARM_UP)
    interval = max(1, (STEPS - warm_up) // SAMPLES)
    next_sample = warm_up
    answered = sessions = 0
    start = time.monotonic()
    try:
        while answered < STEPS:
            with EnvClient(server.address, timeout=30) as client:
                for _ in range(SESSIONS_PER_CHANNEL):
                    if answered >= STEPS:
                        break
                    steps = min(STEPS_PER_SESSION, STEPS - answered)
                    run = stream_session if sessions % 2 else unary_session
                    answered += run(client, steps, faulty=sessions % FAULTY_EVERY == 0)
                    sessions += 1
                    if answered >= next_sample:
                        samples.append(sample(pid, answered))
                        next_sample += interval
        took = time.monotonic() - start
        assert server.stop() == 0
    finally:
        server.kill()
    assert answered == STEPS
    last_session_line = [line for line in server.lines if re.search(r"session \w+… ", line)][-1]
    assert "(0 open)" in last_session_line, last_session_line  # every session was closed

    first = samples[0]
    report = "\n".join(
        f"  {s.steps:>7} steps: rss {s.rss / 2**20:7.1f} MiB, {s.threads} threads, {s.fds} fds"
        for s in samples
    )
    print(f"soak: {answered} steps in {sessions} sessions, {took:.1f} s\n{report}")
    assert len(samples) >= SAMPLES
    for s in samples[1:]:
        assert s.rss - first.rss <= RSS_SLACK, f"RSS grew by {s.rss - first.rss} bytes:\n{report}"
        assert abs(s.threads - first.threads) <= THREAD_SLACK, f"threads changed:\n{report}"
        assert abs(s.fds - first.fds) <= FD_SLACK, f"open fds changed:\n{report}"
