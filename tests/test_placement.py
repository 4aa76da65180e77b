"""Where a client's sub-envs and sessions go: target parsing and the spread by room."""

from __future__ import annotations

import math

import pytest

from openenv_grpc import errors
from openenv_grpc.client.endpoints import split_target
from openenv_grpc.client.placement import spread


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        ("dns:///envs.ns.svc:50051", ("envs.ns.svc", "50051")),
        ("dns://8.8.8.8/envs.ns.svc:50051", ("envs.ns.svc", "50051")),
        ("dns:envs:7000", ("envs", "7000")),
        ("dns:///envs", ("envs", "443")),  # gRPC's default port for dns: targets
        ("dns:///[::1]:50051", ("::1", "50051")),
        ("localhost:50051", None),  # one endpoint: gRPC resolves it
        ("unix:/run/env.sock", None),
        ("ipv4:10.0.0.1:50051,10.0.0.2:50051", None),
    ],
)
def test_only_dns_targets_are_resolved_by_the_client(
    target: str, parts: tuple[str, str] | None
) -> None:
    assert split_target(target) == parts


def test_a_dns_target_needs_a_host() -> None:
    with pytest.raises(ValueError, match="no host name"):
        split_target("dns:///:50051")


def test_sub_envs_go_in_proportion_to_room() -> None:
    rooms = [("a", 8.0, 0), ("b", 16.0, 0), ("c", 0.0, 0)]
    assert spread(12, rooms) == [("a", 4), ("b", 8)]


def test_servers_without_limits_share_equally_and_rounding_goes_to_the_largest_rests() -> None:
    rooms = [("a", math.inf, 0), ("b", math.inf, 0), ("c", math.inf, 0)]
    assert spread(64, rooms) == [("a", 22), ("b", 21), ("c", 21)]
    assert sum(n for _, n in spread(7, [("a", 5.0, 0), ("b", math.inf, 0)])) == 7


def test_no_server_gets_more_than_its_room() -> None:
    placed = dict(spread(10, [("a", 2.0, 0), ("b", math.inf, 0)]))
    assert placed["a"] <= 2
    assert sum(placed.values()) == 10


def test_a_share_larger_than_a_session_may_be_is_split_into_sessions() -> None:
    assert spread(10, [("a", math.inf, 4)]) == [("a", 4), ("a", 4), ("a", 2)]


def test_too_little_room_is_env_limit_with_what_each_server_has() -> None:
    with pytest.raises(errors.ResourceExhausted) as full:
        spread(10, [("a", 3.0, 0), ("b", 0.0, 0)])
    assert full.value.reason == errors.Reason.ENV_LIMIT
    assert "a: 3" in full.value.message
    assert full.value.metadata == {"needed": "10", "room": "3"}
