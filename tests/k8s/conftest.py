"""tests/k8s runs only when named (`make test-k8s`), never in the whole suite.

It needs a Kubernetes control plane built from source (`make tools-k8s`, minutes
the first time), so `make test` and a bare `pytest` leave it out, and CI runs
it as a step of its own. Named on the command line, it runs, and fails (never
skips) when the control plane is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _named(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    for arg in config.args:
        path = (base / arg.split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if _named(config):
        return None
    return True
