"""deploy/k8s rendered the way `kubectl apply -k` renders it, as Python objects."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {"dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
COMPONENTS = {"hpa-sessions": K8S / "components" / "hpa-sessions"}

Resource = dict[str, Any]


def kubectl() -> str:
    """The machine's kubectl (its built-in kustomize renders the overlays)."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl is missing: it renders deploy/k8s (kubectl kustomize)")
    return found


def render_text(target: Path) -> str:
    done = subprocess.run(
        [kubectl(), "kustomize", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize {target}: {done.stderr}"
    return done.stdout


def render(target: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(render_text(target)) if doc]


def with_components(overlay: Path, components: list[Path], folder: Path) -> Path:
    """A kustomization in `folder` that is `overlay` plus `components`, as a user would add them.

    kustomize takes only relative paths to other kustomizations.
    """
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization"]
    lines += ["resources:", f"  - {os.path.relpath(overlay, folder)}", "components:"]
    lines += [f"  - {os.path.relpath(component, folder)}" for component in components]
    (folder / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return folder


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def named(resources: list[Resource], kind: str, prefix: str) -> Resource:
    """The one `kind` whose name starts with `prefix` (a generated name ends in a hash)."""
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"].startswith(prefix)]
    assert len(found) == 1, f"{len(found)} {kind} named {prefix}*"
    return found[0]
