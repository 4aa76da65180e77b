"""A real OTLP/gRPC receiver for tests: the collector's Trace and Metrics services.

Servers under test export to it over the wire exactly as they would to an
OpenTelemetry Collector; tests wait on its condition for what they expect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any, TypeVar

import grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

T = TypeVar("T")


class OtlpReceiver(
    trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer
):
    """Collects every exported span and metric; `endpoint` is its http://127.0.0.1:PORT."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.trace_requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metric_requests: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{port}"

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self._changed:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                self.trace_requests.append(request)
                reply: Any = trace_service_pb2.ExportTraceServiceResponse()
            else:
                self.metric_requests.append(request)
                reply = metrics_service_pb2.ExportMetricsServiceResponse()
            self._changed.notify_all()
        return reply

    def spans(self) -> list[trace_pb2.Span]:
        with self._changed:
            return [
                span
                for request in self.trace_requests
                for resource_spans in request.resource_spans
                for scope_spans in resource_spans.scope_spans
                for span in scope_spans.spans
            ]

    def metric_names(self) -> set[str]:
        with self._changed:
            return {
                metric.name
                for request in self.metric_requests
                for resource_metrics in request.resource_metrics
                for scope_metrics in resource_metrics.scope_metrics
                for metric in scope_metrics.metrics
            }

    def resource_attributes(self) -> Iterator[dict[str, str]]:
        with self._changed:
            requests = list(self.trace_requests)
        for request in requests:
            for resource_spans in request.resource_spans:
                yield {a.key: a.value.string_value for a in resource_spans.resource.attributes}

    def wait_for(self, probe: Callable[[], T | None], timeout: float = 60) -> T:
        """Until `probe()` returns something truthy (checked on every export), or fail."""
        with self._changed:
            found = self._changed.wait_for(probe, timeout)
        if not found:
            raise AssertionError(f"the receiver never got what the test waited for: {probe}")
        return found

    def stop(self) -> None:
        self._server.stop(grace=None)


def attributes(span: trace_pb2.Span) -> dict[str, Any]:
    """A span's attributes as plain values."""
    out: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        out[attribute.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return out
