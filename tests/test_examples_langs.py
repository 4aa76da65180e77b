"""Every language's example trainer plays CartPole against a real server, as a user runs it.

`make langs` leaves each trainer runnable as `.tools/examples/<lang>`; each
test runs it for two episodes against `openenv-grpc serve
gymnasium:CartPole-v1` (a subprocess on loopback) and expects exit 0 and one
line per episode. A trainer that is not built fails the test: run `make langs`.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
from collections.abc import Iterator

import pytest

from certs import issue
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


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, pathlib.Path]]:
    """CartPole over TLS with a tokens file; the CA file the trainers must trust."""
    folder = tmp_path_factory.mktemp("pki")
    ca = issue("examples CA")
    ca_file, _ = ca.write(folder, "ca")
    cert, key = issue("server", ca, server=True).write(folder, "server")
    tokens = folder / "tokens"
    tokens.write_text(f"trainer {TOKEN}\n")
    server = Served(
        "gymnasium:CartPole-v1",
        *("--tls-cert", str(cert), "--tls-key", str(key), "--tokens-file", str(tokens)),
        "--drain-seconds",
        "0",
    )
    yield server, ca_file
    server.stop()


TOKEN = "examples-token-5f0c2a"


@pytest.mark.parametrize("lang", LANGS)
def test_the_example_trainer_speaks_tls_with_a_token(
    lang: str, secured: tuple[Served, pathlib.Path]
) -> None:
    server, ca_file = secured
    trainer = ROOT / ".tools" / "examples" / lang
    if not (trainer.is_file() and os.access(trainer, os.X_OK)):
        pytest.fail(f"no {lang} example trainer at {trainer}: run `make langs` first")
    command = [str(trainer), "--address", server.address, "--episodes", "1"]
    ok = subprocess.run(
        [*command, "--ca-file", str(ca_file), "--token", TOKEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    said = f"{lang} trainer said:\n{ok.stdout}\nstderr:\n{ok.stderr}"
    assert ok.returncode == 0, said
    assert [line for line in ok.stdout.splitlines() if EPISODE.match(line.strip())], said
    refused = subprocess.run(
        [*command, "--ca-file", str(ca_file), "--token", "not-" + TOKEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert refused.returncode != 0, f"a wrong token was accepted:\n{refused.stdout}"
    assert "UNAUTHENTICATED" in (refused.stdout + refused.stderr).upper()
    assert TOKEN not in server.log
