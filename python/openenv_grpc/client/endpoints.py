"""Where a client's calls go when its target names several servers (pods).

A target is one address (`"host:50051"`, `"unix:/run/env.sock"`: one
endpoint, resolved by gRPC as usual), a list of addresses (one endpoint
each), or a DNS name that resolves to many pods, such as a headless Service
(`"dns:///envs.ns.svc:50051"`: one endpoint per A/AAAA record, looked up
again every `refresh_seconds` and whenever no endpoint answers). Every
endpoint has a channel of its own, so the client, not a load balancer inside
gRPC, chooses where each session goes, and keeps it there:

- a new session (a reset without a session id, a new stream) goes to the
  next endpoint in turn that looks alive; one that is unreachable, draining
  or full is skipped and the call goes to the next;
- a stream is pinned to its endpoint (an HTTP/2 stream cannot move);
- a unary call that names a session goes to the endpoint that made it, as
  this client recorded it; a session made elsewhere is looked up on each
  endpoint in turn until one knows it, and then remembered.

So session ids carry nothing about their pod, every language can do the
same, and no L7 proxy is needed (`docs/deploy.md`).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc

from ..errors import Code, EnvError, Reason, Unavailable

T = TypeVar("T")

DEFAULT_REFRESH_SECONDS = 10.0
RETRY_AFTER_SECONDS = 2.0
"""How long an endpoint that failed a call is tried only after the others."""

ChannelFactory = Callable[[str, str], grpc.aio.Channel]
"""Makes the channel of an endpoint: (its address, the name its certificate is for)."""

_DOWN = (grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN)


@dataclass(eq=False)
class Endpoint:
    """One server: its address and the channel and stub that reach it."""

    address: str
    channel: grpc.aio.Channel
    stub: Any = field(init=False)
    failed_at: float = float("-inf")

    def __post_init__(self) -> None:
        self.stub = pb_grpc.EnvServiceStub(self.channel)

    def alive(self, now: float) -> bool:
        """Whether the endpoint looks reachable: not failing to connect, and no call to it
        failed in the last RETRY_AFTER_SECONDS. Asking starts a connection attempt, so an
        endpoint that comes back (a restarted pod) is seen as alive again."""
        if self.channel.get_state(try_to_connect=True) in _DOWN:
            return False
        return now - self.failed_at >= RETRY_AFTER_SECONDS

    def failed(self) -> None:
        self.failed_at = time.monotonic()


def is_unreachable(error: EnvError) -> bool:
    """Whether a call failed before any server took it: UNAVAILABLE from the transport
    (a server's own errors carry a reason)."""
    return error.code == Code.UNAVAILABLE and not error.reason


_MOVE_ON = frozenset(
    {Reason.DRAINING, Reason.CAPACITY_EXHAUSTED, Reason.SESSION_LIMIT, Reason.ENV_LIMIT}
)


def elsewhere(error: EnvError) -> bool:
    """Whether a new session refused with `error` may be made on another endpoint: this
    one is unreachable, draining or full."""
    return is_unreachable(error) or error.reason in _MOVE_ON


def is_unknown_session(error: EnvError) -> bool:
    return error.reason in (Reason.SESSION_NOT_FOUND, Reason.SESSION_EXPIRED)


async def in_turn(
    tried: Sequence[Endpoint],
    attempt: Callable[[Endpoint], Awaitable[T]],
    *,
    creating: bool,
) -> tuple[Endpoint, T]:
    """The first endpoint of `tried` that answers `attempt`, and its answer. A call goes
    on to the next endpoint when this one is unreachable (marked failed), or, making a
    session, draining or full, or, naming one, does not know it; the last error is
    raised."""
    for n, endpoint in enumerate(tried, 1):
        try:
            return endpoint, await attempt(endpoint)
        except EnvError as error:
            unreachable = is_unreachable(error)
            if unreachable:
                endpoint.failed()
            moves_on = unreachable or (elsewhere(error) if creating else is_unknown_session(error))
            if n == len(tried) or not moves_on:
                raise
    raise AssertionError("unreachable: tried is never empty")


def split_target(target: str) -> tuple[str, str] | None:
    """(host, port) of a `dns:` target, which this module resolves itself; None for
    every other address (gRPC resolves it, as one endpoint)."""
    if not target.startswith("dns:"):
        return None
    rest = target[len("dns:") :]
    if rest.startswith("//"):  # dns://[authority]/host:port; the authority is the system's
        rest = rest[2:].partition("/")[2]
    if rest.startswith("["):
        host, _, port = rest[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if not host:
        raise ValueError(f"no host name in the target {target!r}")
    return host, port or "443"


def _address(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class Endpoints:
    """The endpoints of one client's target, their channels, and which owns which session."""

    def __init__(
        self,
        target: str | Sequence[str],
        make_channel: ChannelFactory,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
    ) -> None:
        self._make_channel = make_channel
        self._refresh_seconds = refresh_seconds
        self._dns = split_target(target) if isinstance(target, str) else None
        self._known: dict[str, Endpoint] = {}  # every endpoint seen, by address
        self._turn: list[Endpoint] = []  # the endpoints new sessions go to, in turn
        self._next = 0
        self._owners: dict[str, Endpoint] = {}
        self._resolved_at = float("-inf")
        self._resolving: asyncio.Lock | None = None
        if self._dns is None:
            addresses = [target] if isinstance(target, str) else list(dict.fromkeys(target))
            if not addresses:
                raise ValueError("give at least one server address")
            self._turn = [self._endpoint(address) for address in addresses]
        self.single = self._dns is None and len(self._turn) == 1
        """One fixed endpoint: every call goes to it, and nothing is looked up."""

    @classmethod
    def of_channel(cls, channel: grpc.aio.Channel, address: str = "") -> Endpoints:
        """One endpoint on a channel of the caller's making."""
        return cls(address or "channel", lambda _address, _host: channel)

    @property
    def first(self) -> Endpoint:
        """The only endpoint of a single-endpoint target."""
        return self._turn[0]

    def owner(self, session_id: str) -> Endpoint | None:
        return self._turn[0] if self.single else self._owners.get(session_id)

    def own(self, session_id: str, endpoint: Endpoint) -> None:
        if not self.single and session_id:
            self._owners[session_id] = endpoint

    def forget(self, session_id: str) -> None:
        self._owners.pop(session_id, None)

    def get(self, address: str) -> Endpoint:
        """The endpoint at `address` (one of this target's, or a new one beside them)."""
        return self._known.get(address) or self._endpoint(address)

    async def current(self) -> list[Endpoint]:
        """Every endpoint of the target now (its DNS records looked up when due)."""
        await self._refresh()
        return list(self._turn)

    async def candidates(self) -> list[Endpoint]:
        """The endpoints to try for a new session, in order: the next in turn first,
        those that look alive before those that do not."""
        if self.single:
            return self._turn
        now = time.monotonic()
        turn = await self.current()
        alive = {endpoint: endpoint.alive(now) for endpoint in turn}
        if not any(alive.values()) and await self._refresh(force=True):
            turn = await self.current()
            alive = {endpoint: endpoint.alive(now) for endpoint in turn}
        if not turn:
            raise Unavailable(f"no server behind {self._dns}: its DNS name has no address now")
        start, self._next = self._next % len(turn), self._next + 1
        return sorted(turn[start:] + turn[:start], key=lambda endpoint: not alive[endpoint])

    async def for_session(self, session_id: str) -> list[Endpoint]:
        """The endpoint that owns a session, or every endpoint to look for it on."""
        owner = self.owner(session_id)
        return [owner] if owner is not None else await self.candidates()

    async def close(self) -> None:
        channels = {id(e.channel): e.channel for e in self._known.values()}
        await asyncio.gather(*(channel.close(grace=None) for channel in channels.values()))

    def _endpoint(self, address: str, host: str = "") -> Endpoint:
        endpoint = Endpoint(address, self._make_channel(address, host))
        self._known[address] = endpoint
        return endpoint

    async def _refresh(self, *, force: bool = False) -> bool:
        """Look the DNS name up again when due (or forced); whether the endpoints changed."""
        if self._dns is None:
            return False
        if not force and time.monotonic() - self._resolved_at < self._refresh_seconds:
            return False
        self._resolving = self._resolving or asyncio.Lock()
        async with self._resolving:
            if time.monotonic() - self._resolved_at < min(1.0, self._refresh_seconds):
                return False  # another call just looked it up
            host, port = self._dns
            try:
                records = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                if self._turn:
                    return False  # keep the last answer while DNS is down
                raise _unresolved(host, exc) from None
            self._resolved_at = time.monotonic()
            addresses = list(dict.fromkeys(_address(str(r[4][0]), port) for r in records))
            if [endpoint.address for endpoint in self._turn] == addresses:
                return False
            self._turn = [
                self._known.get(address) or self._endpoint(address, host) for address in addresses
            ]
            return True


def _unresolved(host: str, exc: OSError) -> EnvError:
    return Unavailable(f"the name {host!r} does not resolve ({exc}); check the target's DNS name")
