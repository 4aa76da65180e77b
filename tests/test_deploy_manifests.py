"""deploy/k8s rendered by `kubectl kustomize`, validated against the Kubernetes schemas of
1.29 to 1.33 (`kubernetes-validate --strict`), and checked against the code it deploys.

The schemas say a manifest is well formed; the checks here say it does what
the issue and docs/deploy.md promise: the server's real CLI parses every
container's arguments, the probes ask the health service the server really
answers (readiness on openenv.v1.EnvService, over TLS when the server
serves TLS), the grace period outlasts the drain, the pod runs as the
image's user with a read-only root, and so on. tests/k8s applies the same
overlays to a real API server.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from openenv_grpc.cli import build_parser
from openenv_grpc.server.app import SERVICE_NAME

from dockerfile import Dockerfile
from manifests import (
    COMPONENTS,
    OVERLAYS,
    ROOT,
    Resource,
    named,
    one,
    render,
    render_text,
    with_components,
)

KUBERNETES_VERSIONS = ["1.29", "1.30", "1.31", "1.32", "1.33"]
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
COLLECTOR_CONFIG = ROOT / "deploy" / "otel-collector.yaml"
GRACE_SECONDS = 5.0  # the fixed grace for requests in flight after a drain (server/app.py)
STREAM_WAIT_SECONDS = 1.0  # how long a drain that is over waits for streams in use (app.py)
TRAINER_LABEL = "openenv-grpc/trainer"
OTLP_PORTS = {"grpc": 4317, "http/protobuf": 4318}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Resource]]:
    """Every overlay, and prod with every optional component."""
    out = {name: render(path) for name, path in OVERLAYS.items()}
    folder = tmp_path_factory.mktemp("prod-with-components")
    out["prod+components"] = render(
        with_components(OVERLAYS["prod"], list(COMPONENTS.values()), folder)
    )
    return out


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_overlay_validates_strictly(version: str, tmp_path: Path) -> None:
    files = []
    for name, path in OVERLAYS.items():
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(render_text(path))
    folder = tmp_path / "with-components"
    folder.mkdir()
    files.append(tmp_path / "prod-with-components.yaml")
    files[-1].write_text(
        render_text(with_components(OVERLAYS["prod"], list(COMPONENTS.values()), folder))
    )
    done = subprocess.run(
        [str(VALIDATE), "--strict", "--quiet", "-k", version, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


OVERLAY_NAMES = ["dev", "prod", "prod+components"]


def _server(resources: list[Resource]) -> tuple[Resource, Resource]:
    deployment = one(resources, "Deployment", "openenv-grpc")
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["env"]
    return deployment, containers[0]


def _cli(container: Resource) -> argparse.Namespace:
    """The container's arguments as the real `openenv-grpc` parses them, with its env values."""
    values = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("OPENENV_GRPC_ENV", "OPENENV_GRPC_HOST", "OPENENV_GRPC_PORT"):
            if name in values:
                patch.setenv(name, values[name])
            else:
                patch.delenv(name, raising=False)
        return build_parser().parse_args(container["args"])


def _image_uid() -> int:
    final = Dockerfile.parse(ROOT / "deploy" / "docker" / "Dockerfile").final
    user = [step.args for step in final.instructions if step.keyword == "USER"][-1]
    return int(user.split(":")[0])


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_the_container_runs_the_cli_as_the_image_user_with_a_read_only_root(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    deployment, container = _server(rendered[overlay])
    pod = deployment["spec"]["template"]["spec"]
    args = _cli(container)
    assert args.command == "serve"
    assert args.host == "0.0.0.0", "the kubelet and the Services reach the pod's IP"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": args.port}
    uid = _image_uid()
    assert pod["securityContext"]["runAsUser"] == uid
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    scratch = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert len(scratch) == 1, "/tmp (the image's WORKDIR) is the one writable place"
    assert "emptyDir" in volumes[scratch[0]["name"]]
    assert pod["automountServiceAccountToken"] is False
    account = one(rendered[overlay], "ServiceAccount", pod["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_probes_ask_the_health_service_what_the_server_answers(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    """Liveness and startup on "" (the process); readiness on EnvService, which turns
    NOT_SERVING when draining, stuck, or (with --unready-at-limit) full."""
    _, container = _server(rendered[overlay])
    args = _cli(container)
    assert args.unready_at_limit, "readiness must follow the session limit"
    tls = args.tls_cert is not None
    for probe_name, service in (
        ("startupProbe", ""),
        ("livenessProbe", ""),
        ("readinessProbe", SERVICE_NAME),
    ):
        probe = container[probe_name]
        if tls:
            # The kubelet's grpc probes speak plaintext only.
            assert "grpc" not in probe, f"{probe_name}: a plaintext grpc probe cannot reach TLS"
            command = probe["exec"]["command"]
            assert command[0] == "grpc-health-probe"
            flags = dict(flag.partition("=")[::2] for flag in command[1:])
            assert flags["-addr"] == f"127.0.0.1:{args.port}"
            assert "-tls" in flags
            assert flags.get("-service", "") == service, probe_name
        else:
            assert probe["grpc"]["port"] == args.port
            assert probe["grpc"].get("service", "") == service, probe_name
    assert container["readinessProbe"]["failureThreshold"] == 1, "leave endpoints at once"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_the_grace_period_outlasts_the_drain(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    deployment, container = _server(rendered[overlay])
    otel = _otel_config_map(rendered[overlay], container)
    flush = float(otel.get("OTEL_EXPORTER_OTLP_TIMEOUT", 10))
    drain = _cli(container).drain_seconds
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # The drain, requests in flight, streams still open ended with DRAINING, the exporters.
    assert grace > drain + GRACE_SECONDS + STREAM_WAIT_SECONDS + GRACE_SECONDS + flush


def _otel_config_map(resources: list[Resource], container: Resource) -> dict[str, str]:
    refs = [e["configMapRef"]["name"] for e in container["envFrom"]]
    assert len(refs) == 1
    data: dict[str, str] = one(resources, "ConfigMap", refs[0])["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_otel_settings_come_from_a_config_map_and_reach_the_collector(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    _, container = _server(resources)
    otel = _otel_config_map(resources, container)
    assert otel, "the OTEL ConfigMap is empty"
    assert all(key.startswith("OTEL_") for key in otel)
    match = re.fullmatch(r"http://([\w-]+):(\d+)", otel["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert match, otel["OTEL_EXPORTER_OTLP_ENDPOINT"]
    service = one(resources, "Service", match[1])
    port = int(match[2])
    assert port in [p["port"] for p in service["spec"]["ports"]]
    assert OTLP_PORTS[otel.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")] == port
    collector = one(resources, "Deployment", "otel-collector")
    pod_labels = collector["spec"]["template"]["metadata"]["labels"]
    assert _selects(service["spec"]["selector"], pod_labels)
    attributes = next(
        e["value"] for e in container["env"] if e["name"] == "OTEL_RESOURCE_ATTRIBUTES"
    )
    assert "k8s.pod.name=$(POD_NAME)" in attributes, "one series per pod for the HPA"


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_the_collector_runs_the_deploy_config(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    collector = one(resources, "Deployment", "otel-collector")
    pod = collector["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    config_map = one(resources, "ConfigMap", volume["configMap"]["name"])
    assert config_map["data"]["config.yaml"] == COLLECTOR_CONFIG.read_text()
    (container,) = pod["containers"]
    assert container["image"].startswith("otel/opentelemetry-collector:")
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert f"--config={mount['mountPath']}/config.yaml" in container["args"]
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    listening = {
        int(config["receivers"]["otlp"]["protocols"][p]["endpoint"].rsplit(":", 1)[1])
        for p in ("grpc", "http")
    }
    assert listening <= {p["containerPort"] for p in container["ports"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_services_pdb_and_hpa_select_the_server_pods(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    deployment, container = _server(resources)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    port_names = {p["name"] for p in container["ports"]}
    cluster_ip = one(resources, "Service", "openenv-grpc")
    headless = one(resources, "Service", "openenv-grpc-pods")
    assert cluster_ip["spec"].get("clusterIP") is None
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is False
    for service in (cluster_ip, headless):
        assert _selects(service["spec"]["selector"], labels)
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    pdb = one(resources, "PodDisruptionBudget", "openenv-grpc")
    assert _selects(pdb["spec"]["selector"]["matchLabels"], labels)
    hpa = one(resources, "HorizontalPodAutoscaler", "openenv-grpc")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "openenv-grpc",
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    if overlay.endswith("+components"):
        assert metrics["Pods"]["pods"]["metric"]["name"] == "openenv_sessions_active"
    else:
        assert "Pods" not in metrics, "without a metrics adapter the HPA would never scale down"
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    by_key = {c["topologyKey"]: c for c in spread}
    assert _selects(by_key["kubernetes.io/hostname"]["labelSelector"]["matchLabels"], labels)


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_only_trainers_reach_the_servers(rendered: dict[str, list[Resource]], overlay: str) -> None:
    resources = rendered[overlay]
    deployment, _ = _server(resources)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    policy = one(resources, "NetworkPolicy", "openenv-grpc")
    assert _selects(policy["spec"]["podSelector"]["matchLabels"], labels)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    for rule in policy["spec"]["ingress"]:
        assert [p["port"] for p in rule["ports"]] == ["grpc"]
        for peer in rule["from"]:
            assert peer["podSelector"]["matchLabels"] == {TRAINER_LABEL: "true"}
    collector_policy = one(resources, "NetworkPolicy", "otel-collector")
    peers = [peer for rule in collector_policy["spec"]["ingress"] for peer in rule["from"]]
    assert any(_selects(p["podSelector"]["matchLabels"], labels) for p in peers)


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_namespaces_enforce_the_restricted_pod_security_profile(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    (namespace,) = [r for r in rendered[overlay] if r["kind"] == "Namespace"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(
        r["metadata"].get("namespace") == namespace["metadata"]["name"]
        for r in rendered[overlay]
        if r["kind"] != "Namespace"
    )


@pytest.mark.parametrize("overlay", ["prod", "prod+components"])
def test_prod_serves_tls_and_tokens_from_secrets_without_reflection(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    deployment, container = _server(resources)
    args = _cli(container)
    assert not args.reflection
    assert args.hide_env_errors
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    expected = {
        args.tls_cert: ("openenv-grpc-tls", "tls.crt"),
        args.tls_key: ("openenv-grpc-tls", "tls.key"),
        args.tokens_file: ("openenv-grpc-tokens", "tokens"),
    }
    for path, (secret, key) in expected.items():
        assert path is not None
        folder, _, file = path.rpartition("/")
        mount = mounts[folder]
        assert mount["readOnly"] is True
        assert volumes[mount["name"]]["secret"]["secretName"] == secret
        assert file == key
    assert [r for r in resources if r["kind"] == "Secret"] == [], "no secret in the repository"
    assert not container["image"].endswith(":latest")


def test_dev_keeps_plaintext_and_the_kubelet_grpc_probes(
    rendered: dict[str, list[Resource]],
) -> None:
    _, container = _server(rendered["dev"])
    args = _cli(container)
    assert args.tls_cert is None
    assert "grpc" in container["readinessProbe"]
    named(rendered["dev"], "ConfigMap", "openenv-grpc-otel")
