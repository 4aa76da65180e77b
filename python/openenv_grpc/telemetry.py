"""OpenTelemetry for the server: traces, metrics, and trace ids in logs.

Configured by the standard variables, read by the OpenTelemetry SDK itself:
OTEL_EXPORTER_OTLP_ENDPOINT (or the _TRACES_ / _METRICS_ variants),
OTEL_EXPORTER_OTLP_PROTOCOL (`grpc`, the default, or `http/protobuf`; also per
signal), OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG,
OTEL_METRIC_EXPORT_INTERVAL, OTEL_BSP_*, OTEL_SDK_DISABLED, and
OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER=none to turn one signal off.
Without an endpoint (and without a Prometheus port) telemetry is off: every
hook returns at its first line, a few microseconds per step in all.

Names follow the RPC semantic conventions (span `{rpc.method}`,
`rpc.server.call.duration` in seconds, `rpc.system.name`, `rpc.method`,
`rpc.response.status_code`); the env's own spans and instruments are
`env.reset` / `env.step` and `openenv.*`. docs/observability.md lists them all.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

log = logging.getLogger("openenv_grpc.telemetry")

RPC_SYSTEM = "grpc"
# Latency buckets in seconds, from 50 µs to 30 s (the SDK's defaults are for milliseconds).
SECONDS_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


GRPC, HTTP_PROTOBUF = "grpc", "http/protobuf"


def otlp_protocol(signal: str, environ: Mapping[str, str] = os.environ) -> str:
    """The OTLP transport of one signal (`TRACES` or `METRICS`): `grpc` or `http/protobuf`.

    OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL wins over OTEL_EXPORTER_OTLP_PROTOCOL;
    without either it is gRPC, as it always was here (the specification's
    default is http/protobuf, but a server set up before this setting counted
    must keep exporting where it did). `http/json`, which the Python exporter
    lacks, becomes http/protobuf: every OTLP/HTTP receiver takes both on the
    same port. Anything else is logged and taken as gRPC.
    """
    name = f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"
    value = environ.get(name) or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or GRPC
    value = value.strip().lower()
    if value in (GRPC, HTTP_PROTOBUF):
        return value
    if value == "http/json":
        log.warning("%s=http/json is not supported here: exporting OTLP as http/protobuf", name)
        return HTTP_PROTOBUF
    log.warning("OTLP protocol %r is unknown (grpc or http/protobuf): exporting over gRPC", value)
    return GRPC


def _span_exporter(protocol: str) -> SpanExporter:
    if protocol == HTTP_PROTOBUF:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _metric_exporter(protocol: str) -> MetricExporter:
    if protocol == HTTP_PROTOBUF:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        return HttpMetricExporter()
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter()


def otlp_signals(environ: Mapping[str, str] = os.environ) -> tuple[bool, bool]:
    """Whether the standard variables ask for OTLP export of (traces, metrics)."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False, False
    common = bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    traces = common or bool(environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    metrics = common or bool(environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
    traces &= environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() != "none"
    metrics &= environ.get("OTEL_METRICS_EXPORTER", "otlp").lower() != "none"
    return traces, metrics


class Telemetry:
    """The server's tracer and instruments; every method is a no-op when off."""

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self.tracing = tracer_provider is not None
        self.metrics = meter_provider is not None
        self.enabled = self.tracing or self.metrics
        self._tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer("openenv_grpc")
        if meter_provider is None:
            return
        meter = meter_provider.get_meter("openenv_grpc")
        self._rpc_duration = meter.create_histogram(
            "rpc.server.call.duration",
            unit="s",
            description="Duration of RPCs served",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self._step_duration = meter.create_histogram(
            "openenv.env.step.duration",
            unit="s",
            description="Time the env's step took",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self._steps = meter.create_counter(
            "openenv.env.steps", unit="{step}", description="Env steps taken (sub-env steps)"
        )
        self._active = meter.create_up_down_counter(
            "openenv.sessions.active", unit="{session}", description="Sessions open now"
        )
        self._created = meter.create_counter(
            "openenv.sessions.created", unit="{session}", description="Sessions created"
        )
        self._closed = meter.create_counter(
            "openenv.sessions.closed", unit="{session}", description="Sessions closed, by reason"
        )
        self._reaped = meter.create_counter(
            "openenv.sessions.reaped", unit="{session}", description="Sessions closed for idling"
        )
        self._errors = meter.create_counter(
            "openenv.rpc.errors", unit="{error}", description="Failed requests, by status code"
        )
        self._reward_hook_duration = meter.create_histogram(
            "openenv.reward.hook.duration",
            unit="s",
            description="Time the reward hook took to score a step (a batch: all its sub-envs)",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )

    # --- traces --------------------------------------------------------------

    @contextlib.contextmanager
    def rpc_span(
        self, method: str, carrier: Mapping[str, str] | None, **attributes: Any
    ) -> Iterator[Span | None]:
        """A SERVER span for one RPC (or one stream message), child of the caller's context."""
        if not self.tracing:
            yield None
            return
        parent = propagate.extract(carrier) if carrier else otel_context.Context()
        with self._tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"rpc.system.name": RPC_SYSTEM, "rpc.method": method, **attributes},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span

    def set_principal(self, principal: str) -> None:
        """Name the caller on the current RPC span (`enduser.id`), when tracing."""
        if self.tracing:
            trace.get_current_span().set_attribute("enduser.id", principal)

    def env_span(
        self, name: str, **attributes: Any
    ) -> contextlib.AbstractContextManager[Span | None]:
        """An INTERNAL span around a call into env code (`env.reset`, `env.step`); when not
        tracing, NO_SPAN (no generator entered)."""
        if not self.tracing:
            return NO_SPAN
        return self._tracer.start_as_current_span(name, attributes=attributes)

    def reward_hook(self, span: Span | None, seconds: float, outcome: str) -> None:
        """The reward hook's latency on the env.step span (`openenv.reward.hook.duration`
        and a `reward.hook` event) and in its histogram; outcome is "ok" or "error"."""
        if span is not None:
            span.set_attribute("openenv.reward.hook.duration", seconds)
            span.add_event(
                "reward.hook",
                {"openenv.reward.hook.duration": seconds, "openenv.reward.hook.outcome": outcome},
            )
        if self.metrics:
            self._reward_hook_duration.record(seconds, {"openenv.reward.hook.outcome": outcome})

    @staticmethod
    def end_rpc_span(span: Span | None, status_code: str, message: str = "") -> None:
        """Record the RPC's status on its span (ERROR for everything but OK)."""
        if span is None:
            return
        span.set_attribute("rpc.response.status_code", status_code)
        if status_code != "OK":
            span.set_status(Status(StatusCode.ERROR, message))

    # --- metrics -------------------------------------------------------------

    def record_rpc(self, method: str, status_code: str, seconds: float) -> None:
        if not self.metrics:
            return
        attributes = {
            "rpc.system.name": RPC_SYSTEM,
            "rpc.method": method,
            "rpc.response.status_code": status_code,
        }
        self._rpc_duration.record(seconds, attributes)
        if status_code != "OK":
            self._errors.add(1, attributes)

    def record_error(self, method: str, status_code: str) -> None:
        """An error answered in-band on a stream (the stream itself goes on)."""
        if not self.metrics:
            return
        self._errors.add(
            1,
            {
                "rpc.system.name": RPC_SYSTEM,
                "rpc.method": method,
                "rpc.response.status_code": status_code,
            },
        )

    def record_step(self, env_name: str, seconds: float, sub_envs: int = 1) -> None:
        if not self.metrics:
            return
        attributes = {"openenv.env.name": env_name}
        self._step_duration.record(seconds, attributes)
        self._steps.add(sub_envs, attributes)

    def session_opened(self, env_name: str) -> None:
        if not self.metrics:
            return
        attributes = {"openenv.env.name": env_name}
        self._created.add(1, attributes)
        self._active.add(1, attributes)

    def session_closed(self, env_name: str, reason: str) -> None:
        if not self.metrics:
            return
        self._active.add(-1, {"openenv.env.name": env_name})
        self._closed.add(1, {"openenv.env.name": env_name, "openenv.close.reason": reason})
        if reason == "idle":
            self._reaped.add(1, {"openenv.env.name": env_name})

    # --- lifecycle -----------------------------------------------------------

    def shutdown(self) -> None:
        """Flush and stop the exporters (at server exit)."""
        if self._tracer_provider is not None:
            self._tracer_provider.shutdown()
        if self._meter_provider is not None:
            self._meter_provider.shutdown()


def setup_telemetry(
    *, prometheus_port: int | None = None, prometheus_host: str = "127.0.0.1"
) -> Telemetry:
    """Telemetry as the OTEL_* variables (and an optional Prometheus port) ask for."""
    traces, metrics = otlp_signals()
    if not traces and not metrics and prometheus_port is None:
        return Telemetry()
    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "openenv-grpc"}))
    tracer_provider = None
    readers: list[MetricReader] = []
    traces_over = otlp_protocol("TRACES") if traces else ""
    metrics_over = otlp_protocol("METRICS") if metrics else ""
    if traces:
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        tracer_provider.add_span_processor(BatchSpanProcessor(_span_exporter(traces_over)))
    if metrics:
        readers.append(PeriodicExportingMetricReader(_metric_exporter(metrics_over)))
    if prometheus_port is not None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server

        start_http_server(prometheus_port, addr=prometheus_host)
        readers.append(PrometheusMetricReader())
    meter_provider = (
        MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
        if readers
        else None
    )
    exporters = [
        name
        for name, on in ((f"OTLP ({metrics_over})", metrics), ("Prometheus", prometheus_port))
        if on
    ]
    log.info(
        "telemetry on: traces %s, metrics %s",
        f"OTLP ({traces_over})" if traces else "off",
        ", ".join(exporters) or "off",
    )
    return Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)


def carrier_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """The W3C trace context headers of a call's metadata."""
    return {
        key: value if isinstance(value, str) else value.decode()
        for key, value in metadata or ()
        if key in ("traceparent", "tracestate", "baggage")
    }


NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()
"""In place of an env span when not tracing (a caller on the hottest path uses it without
calling env_span, so that not even the span's attributes are built)."""


def monotonic() -> float:
    return time.perf_counter()


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span ids when there are any."""

    _SKIP = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        entry.update({k: v for k, v in vars(record).items() if k not in self._SKIP})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, fmt: str) -> None:
    """Plain text (the default) or JSON lines on stderr."""
    handler = logging.StreamHandler()
    if fmt == "json":
        formatter: logging.Formatter = JsonLogFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
