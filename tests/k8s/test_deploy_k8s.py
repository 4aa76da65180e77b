"""deploy/k8s on a real API server (`make test-k8s`).

etcd, kube-apiserver, kube-controller-manager and kube-scheduler run on
loopback (tests/cluster.py), and kwok plays three nodes in two zones. Each
overlay is applied as docs/deploy.md says: namespace and Secrets, a
server-side dry run (which must create nothing), then for real; both
Deployments must roll out, their pods pass admission under the restricted
Pod Security profile, spread over nodes, fill the headless Service's
endpoints, and an image change must roll through. kwok marks pods Running and
Ready without running a container, so the probes themselves are not run here
(tests/test_deploy_image.py runs the image's probe against the server).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from certs import issue
from cluster import ControlPlane, control_plane, wait_until
from manifests import COMPONENTS, OVERLAYS, render_text, with_components

pytestmark = pytest.mark.timeout(900)
NODES, ZONES = 3, 2
NEW_TAG = "0.2.1-test"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with control_plane(tmp_path_factory.mktemp("cluster")) as plane:
        plane.fake_nodes(NODES, ZONES)
        yield plane


def _resources(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _namespace_object(text: str) -> dict[str, Any]:
    (namespace,) = [r for r in _resources(text) if r["kind"] == "Namespace"]
    return namespace


def _namespace(text: str) -> str:
    name: str = _namespace_object(text)["metadata"]["name"]
    return name


def _create_secrets(cluster: ControlPlane, namespace: str, folder: Path) -> None:
    """The Secrets of the prod overlay, made with the commands docs/deploy.md gives."""
    cert, key = issue("openenv-grpc", cluster.ca, server=True).write(folder, "tls")
    tokens = folder / "tokens.txt"
    tokens.write_text("trainer-a 0123456789abcdef0123456789abcdef\n")
    cluster.kubectl(
        "create", "secret", "tls", "openenv-grpc-tls", f"--cert={cert}", f"--key={key}",
        "-n", namespace,
    )  # fmt: skip
    cluster.kubectl(
        "create", "secret", "generic", "openenv-grpc-tokens", f"--from-file=tokens={tokens}",
        "-n", namespace,
    )  # fmt: skip


def _deployment(cluster: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = cluster.get("deployment", name, "-n", namespace)
    return found


def _pods(cluster: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    pods = cluster.get("pods", "-n", namespace, "-l", f"app.kubernetes.io/name={name}")["items"]
    return [pod for pod in pods if "deletionTimestamp" not in pod["metadata"]]


def _ready_addresses(cluster: ControlPlane, namespace: str, service: str) -> set[str]:
    slices = cluster.get(
        "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={service}"
    )["items"]
    return {
        address
        for piece in slices
        for endpoint in piece.get("endpoints") or []
        if endpoint["conditions"].get("ready")
        for address in endpoint["addresses"]
    }


def _rollout(cluster: ControlPlane, namespace: str, name: str) -> None:
    cluster.kubectl(
        "rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=240s", timeout=300
    )


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_an_overlay_dry_runs_applies_and_rolls_out(
    cluster: ControlPlane, overlay: str, tmp_path: Path
) -> None:
    text = render_text(OVERLAYS[overlay])
    namespace = _namespace(text)
    # The namespace first: a dry run cannot place objects in a namespace it did not keep.
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(_namespace_object(text)))
    if overlay == "prod":
        _create_secrets(cluster, namespace, tmp_path)

    # A server-side dry run: admission, defaulting and validation of every object, nothing kept.
    dry = cluster.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=text)
    assert "serverside-applied (server dry run)" in dry.stdout
    assert cluster.get("deployments", "-n", namespace)["items"] == []

    cluster.kubectl("apply", "--server-side", "-f", "-", stdin=text)
    for name in ("openenv-grpc", "otel-collector"):
        _rollout(cluster, namespace, name)
    server = _deployment(cluster, namespace, "openenv-grpc")
    replicas = server["spec"]["replicas"]
    assert server["status"]["readyReplicas"] == replicas
    pods = _pods(cluster, namespace, "openenv-grpc")
    assert len(pods) == replicas
    for pod in pods:
        # No service-account token was mounted by admission (automountServiceAccountToken).
        volumes = [v["name"] for v in pod["spec"]["volumes"]]
        assert not [v for v in volumes if v.startswith("kube-api-access")], volumes
        assert pod["status"]["phase"] == "Running"
    nodes = {pod["spec"]["nodeName"] for pod in pods}
    assert len(nodes) == min(replicas, NODES), "topology spread puts pods on distinct nodes"

    # The headless Service lists every ready pod, for dns:/// clients (the endpoint
    # slice controller catches up with the pods on its own time).
    pod_ips = {pod["status"]["podIP"] for pod in pods}
    wait_until(
        lambda: _ready_addresses(cluster, namespace, "openenv-grpc-pods") == pod_ips,
        "the headless Service's endpoints",
    )

    # The disruption controller and the HPA controller took their objects up.
    wait_until(
        lambda: (
            cluster.get("pdb", "openenv-grpc", "-n", namespace)
            .get("status", {})
            .get("expectedPods")
            == replicas
        ),
        "the PodDisruptionBudget's status",
    )
    wait_until(
        lambda: any(
            c["type"] == "AbleToScale" and c["status"] == "True"
            for c in cluster.get("hpa", "openenv-grpc", "-n", namespace)
            .get("status", {})
            .get("conditions", [])
        ),
        "the HPA to find its Deployment",
    )

    # An image change rolls through: every pod ends on the new image.
    image = server["spec"]["template"]["spec"]["containers"][0]["image"]
    new_image = f"{image.rsplit(':', 1)[0]}:{NEW_TAG}"
    cluster.kubectl("set", "image", "deployment/openenv-grpc", f"env={new_image}", "-n", namespace)
    _rollout(cluster, namespace, "openenv-grpc")
    wait_until(
        lambda: (
            sorted(
                p["spec"]["containers"][0]["image"]
                for p in _pods(cluster, namespace, "openenv-grpc")
            )
            == [new_image] * replicas
        ),
        "the old pods to go",
    )
    rolled = _deployment(cluster, namespace, "openenv-grpc")
    assert rolled["status"]["updatedReplicas"] == replicas
    assert rolled["status"]["readyReplicas"] == replicas


def test_the_restricted_profile_is_enforced_where_the_servers_run(cluster: ControlPlane) -> None:
    """The pods above passed Pod Security admission; a root pod in the same namespace does not."""
    text = render_text(OVERLAYS["dev"])
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(_namespace_object(text)))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "root", "namespace": _namespace(text)},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    refused = cluster.kubectl(
        "create", "--dry-run=server", "-f", "-", stdin=json.dumps(pod), check=False
    )
    assert refused.returncode != 0
    assert "violates PodSecurity" in refused.stderr


def test_the_sessions_component_is_accepted(cluster: ControlPlane, tmp_path: Path) -> None:
    """prod with the hpa-sessions component: the API server takes the HPA's Pods metric."""
    text = render_text(with_components(OVERLAYS["prod"], list(COMPONENTS.values()), tmp_path))
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(_namespace_object(text)))
    (hpa,) = [r for r in _resources(text) if r["kind"] == "HorizontalPodAutoscaler"]
    accepted = cluster.kubectl(
        "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-",
        stdin=json.dumps(hpa),
    )  # fmt: skip
    metrics = json.loads(accepted.stdout)["spec"]["metrics"]
    assert [m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"] == [
        "openenv_sessions_active"
    ]
