"""The OpenTelemetry Collector that `make tools-otelcol` builds, run on loopback.

It runs deploy/otel-collector.yaml itself, merged with a second config the
test writes (the collector merges `--config` files in order: maps merge,
lists are replaced) that moves every endpoint to a free loopback port and
points the trace exporter, and a metrics exporter it adds, at the test's own
OTLP receiver in place of Jaeger. The Prometheus exporter stays as deployed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster import free_port
from watched import Watched

ROOT = Path(__file__).resolve().parent.parent
OTELCOL = ROOT / ".tools" / "otelcol" / "otelcol"
DEPLOY_CONFIG = ROOT / "deploy" / "otel-collector.yaml"
READY = re.compile(r"Everything is ready")


def otelcol() -> str:
    if not os.access(OTELCOL, os.X_OK):
        pytest.fail(f"{OTELCOL} is missing: run `make tools-otelcol` to build the collector")
    return str(OTELCOL)


def validate(*configs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [otelcol(), "validate", *(f"--config={c}" for c in configs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Collector:
    """The deploy config on loopback ports, exporting to `receiver_endpoint` (host:port)."""

    def __init__(self, folder: Path, receiver_endpoint: str) -> None:
        self.grpc_port, self.http_port = free_port(), free_port()
        self.prometheus_port, self.health_port = free_port(), free_port()
        deployed = yaml.safe_load(DEPLOY_CONFIG.read_text())
        pipelines = deployed["service"]["pipelines"]
        overrides: dict[str, Any] = {
            "extensions": {"health_check": {"endpoint": f"127.0.0.1:{self.health_port}"}},
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"127.0.0.1:{self.grpc_port}"},
                        "http": {"endpoint": f"127.0.0.1:{self.http_port}"},
                    }
                }
            },
            # Quicker batches; everything else about the pipelines is as deployed.
            "processors": {"batch": {"timeout": "200ms"}},
            "exporters": {
                "otlp/traces": {"endpoint": receiver_endpoint},
                "otlp/metrics": {"endpoint": receiver_endpoint, "tls": {"insecure": True}},
                "prometheus": {"endpoint": f"127.0.0.1:{self.prometheus_port}"},
            },
            "service": {
                "pipelines": {
                    "metrics": {"exporters": [*pipelines["metrics"]["exporters"], "otlp/metrics"]}
                },
                # The collector's own metrics would bind 0.0.0.0:8888 by default.
                "telemetry": {"metrics": {"level": "none"}},
            },
        }
        self.overrides = folder / "collector-test.yaml"
        self.overrides.write_text(yaml.safe_dump(overrides))
        self.process = Watched(
            [otelcol(), f"--config={DEPLOY_CONFIG}", f"--config={self.overrides}"], READY
        )

    @property
    def log(self) -> str:
        return self.process.log

    def otlp_endpoint(self, protocol: str) -> str:
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://127.0.0.1:{port}"

    def stop(self) -> int:
        return self.process.stop()
