"""deploy/otel-collector.yaml in a real OpenTelemetry Collector (`make tools-otelcol`).

`otelcol validate` checks the file the way the collector reads it at start;
then our server sends its spans and metrics through the deployed pipelines,
over OTLP/gRPC and over OTLP/HTTP (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf),
and they are seen at the end: traces at the test's OTLP receiver standing in
for Jaeger, metrics both there and on the collector's Prometheus endpoint
with the labels the HPA's sessions metric relies on.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from openenv_grpc.client import EnvClient
from openenv_grpc.telemetry import otlp_protocol

from cluster import wait_until
from collector import DEPLOY_CONFIG, Collector, validate
from otlp_receiver import OtlpReceiver
from processes import ROOT, Served

BUILDER = ROOT / "tests" / "otelcol" / "builder.yaml"
SERVICE = "openenv.v1.EnvService"
POD, NAMESPACE = "openenv-grpc-7d4b9-abcde", "openenv"
# The modules of the official core `otelcol` distribution (opentelemetry-collector-
# releases, distributions/otelcol/manifest.yaml) that the deploy config may use: the
# Kubernetes manifests run that image, so a component outside it would not start there.
CORE_DISTRIBUTION = {
    "go.opentelemetry.io/collector/receiver/otlpreceiver",
    "go.opentelemetry.io/collector/processor/batchprocessor",
    "go.opentelemetry.io/collector/processor/memorylimiterprocessor",
    "go.opentelemetry.io/collector/exporter/debugexporter",
    "go.opentelemetry.io/collector/exporter/otlpexporter",
    "go.opentelemetry.io/collector/exporter/otlphttpexporter",
    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor",
    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor",
    "github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor",
    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter",
    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter",
    "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension",
    "github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension",
    "go.opentelemetry.io/collector/extension/zpagesextension",
}


# --- the config ----------------------------------------------------------------


def test_the_deploy_config_validates() -> None:
    done = validate(DEPLOY_CONFIG)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validate_rejects_what_the_collector_would_refuse(tmp_path: Path) -> None:
    """The check is real: a pipeline naming an exporter nobody defined fails it."""
    config = yaml.safe_load(DEPLOY_CONFIG.read_text())
    config["service"]["pipelines"]["traces"]["exporters"].append("otlp/nowhere")
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(config))
    done = validate(broken)
    assert done.returncode != 0
    assert "otlp/nowhere" in done.stdout + done.stderr


def test_the_built_collector_is_the_core_distributions_components() -> None:
    builder = yaml.safe_load(BUILDER.read_text())
    modules = {
        entry["gomod"].split()[0]
        for kind in ("receivers", "processors", "exporters", "extensions")
        for entry in builder.get(kind) or []
    }
    assert modules <= CORE_DISTRIBUTION, modules - CORE_DISTRIBUTION


# --- which OTLP transport --------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "traces", "metrics"),
    [
        ({}, "grpc", "grpc"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "http/protobuf", "http/protobuf"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": " GRPC "}, "grpc", "grpc"),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
            },
            "grpc",
            "http/protobuf",
        ),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "http/protobuf", "grpc"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}, "grpc", "grpc"),
    ],
)
def test_the_protocol_of_each_signal(
    environ: dict[str, str], traces: str, metrics: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert otlp_protocol("TRACES", environ) == traces
    assert otlp_protocol("METRICS", environ) == metrics
    known = ("grpc", "http/protobuf")
    unsupported = any(v.strip().lower() not in known for v in environ.values())
    assert bool(caplog.records) == unsupported


# --- end to end ----------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def collector(receiver: OtlpReceiver, tmp_path: Path) -> Iterator[Collector]:
    running = Collector(tmp_path, receiver.endpoint.removeprefix("http://"))
    yield running
    running.stop()


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text: str = reply.read().decode()
        return text


def _series(text: str, name: str) -> list[dict[str, str]]:
    found = []
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} ", line)
        if match:
            found.append(dict(re.findall(r'(\w+)="([^"]*)"', match[1])))
    return found


def _resource(request: Any) -> dict[str, str]:
    return {a.key: a.value.string_value for a in request.resource.attributes}


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_and_metrics_pass_through_the_deployed_pipelines(
    protocol: str, receiver: OtlpReceiver, collector: Collector
) -> None:
    server = Served(
        "--drain-seconds",
        "0",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.otlp_endpoint(protocol),
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_SERVICE_NAME": "openenv-e2e",
            "OTEL_RESOURCE_ATTRIBUTES": (
                f"service.instance.id={POD},k8s.pod.name={POD},k8s.namespace.name={NAMESPACE}"
            ),
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_METRIC_EXPORT_INTERVAL": "200",
        },
    )
    try:
        assert f"traces OTLP ({protocol}), metrics OTLP ({protocol})" in server.log
        with EnvClient(server.address) as client:
            session = client.reset(seed=3).session_id
            client.step(session, 1)
            with client.stream() as stream:
                stream.reset(seed=4)
                stream.step(0)

        def complete() -> bool:
            names = [span.name for span in receiver.spans()]
            return {f"{SERVICE}/Reset", f"{SERVICE}/Step", "env.step"} <= set(names) and (
                "openenv.sessions.active" in receiver.metric_names()
            )

        receiver.wait_for(complete)
        resources = list(receiver.resource_attributes())
        metrics = list(receiver.metric_requests)
        resources += [_resource(r) for q in metrics for r in q.resource_metrics]
        assert resources
        for resource in resources:
            assert resource["service.name"] == "openenv-e2e"
            assert resource["k8s.pod.name"] == POD

        # The Prometheus exporter as deployed: one series per pod, labelled as the
        # metrics adapter of deploy/k8s/components/hpa-sessions expects.
        def active_sessions() -> list[dict[str, str]]:
            return _series(_scrape(collector.prometheus_port), "openenv_sessions_active")

        wait_until(lambda: bool(active_sessions()), "openenv_sessions_active on :8889", 60)
        (series,) = active_sessions()
        assert series["k8s_pod_name"] == POD
        assert series["k8s_namespace_name"] == NAMESPACE
        assert series["job"] == "openenv-e2e"
        assert series["instance"] == POD
    finally:
        assert server.stop() == 0
    assert "error" not in collector.log.lower().replace("errors", ""), collector.log
