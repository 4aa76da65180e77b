"""Standard gRPC health checking and server reflection, as a probe or grpcurl sees them."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from serverutil import ServerThread


def test_health_is_serving_overall_and_for_the_env_service(counter_server: ServerThread) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "openenv.v1.EnvService"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as caught:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_and_describes_the_env_service(counter_server: ServerThread) -> None:
    with grpc.insecure_channel(counter_server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="openenv.v1.EnvService"),
        ]
        listed, described = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
    names = {s.name for s in listed.list_services_response.service}
    assert {"openenv.v1.EnvService", "grpc.health.v1.Health"} <= names
    files = described.file_descriptor_response.file_descriptor_proto
    assert files, "reflection returned no descriptor for openenv.v1.EnvService"
