"""Every language's example trainer plays CartPole against a real server, as a user runs it.

`make langs` leaves each trainer runnable as `.tools/examples/<lang>`; each
test runs it for two episodes against `openenv-grpc serve
gymnasium:CartPole-v1` (a subprocess on loopback) and expects exit 0 and one
line per episode. A trainer that is not built fails the test: run `make langs`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest

from processes import ROOT, Served

LANGS = ["go", "ts", "rust", "java", "cpp"]
# "episode 1: return 23, length 23", as every trainer prints it (anything may follow).
EPISODE = re.compile(r"episode (\d+): return (-?\d+(?:\.\d+)?),? length (\d+)\b")


@pytest.fixture(scope="module")
def cartpole() -> Iterator[Served]:
    server = Served("gymnasium:CartPole-v1", "--drain-seconds", "0")
    yield server
    server.kill()


@pytest.mark.parametrize("lang", LANGS)
def test_the_example_trainer_plays_two_episodes(lang: str, cartpole: Served) -> None:
    trainer = ROOT / ".tools" / "examples" / lang
    if not (trainer.is_file() and os.access(trainer, os.X_OK)):
        pytest.fail(f"no {lang} example trainer at {trainer}: run `make langs` first")
    run = subprocess.run(
        [str(trainer), "--address", cartpole.address, "--episodes", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    said = f"{lang} trainer said:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, said
    episodes = [m for line in run.stdout.splitlines() if (m := EPISODE.match(line.strip()))]
    assert len(episodes) == 2, said
    for match in episodes:
        assert int(match[3]) >= 1, said  # CartPole lasts at least one step
        assert float(match[2]) == int(match[3]), said  # and pays 1.0 for each
