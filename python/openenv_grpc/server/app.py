"""Builds and runs the `grpc.aio` server: EnvService, health, reflection, limits, signals.

`EnvServer` is the object tests and embedders use (start on a port, stop);
`serve` is what the CLI runs: start, log one line, stop on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import pathlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import duration_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from openenv_proto.v1 import env_service_pb2 as pb

from .. import spaces
from ..codec import UnencodableValue, encode_map, encode_value
from ..env import EnvFactory, Environment
from ..loader import load_callable
from ..rewards import FunctionHook, RewardHook
from ..runner import EnvThreads
from ..sessions import CloseReason, Session, SessionManager
from ..tasks import tasksets_of
from ..telemetry import Telemetry
from ..version import PROTOCOL_VERSION, __version__
from ..workers import check_source
from .auth import Authenticator, TokensFile
from .exposure import EnvErrors
from .frames import default_render_mode_problem
from .heap import keep_heap
from .rewards import Scorer, ServiceHook
from .servicer import EnvServicer, method_handlers
from .tasks import TaskCatalog
from .tls import ReloadingCredentials, TlsFiles, is_loopback
from .tooling import describe_tools

log = logging.getLogger("openenv_grpc.server")
SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EnvService"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
FORCED_STOP_SECONDS = 2.0  # after a second signal, the most time closing sessions may take


class EnvFactoryFailed(Exception):
    """The env factory raised when the server made its first env (to describe it)."""


@dataclass
class ServerConfig:
    """Everything an operator can set; the CLI flags map one to one."""

    host: str = "127.0.0.1"
    port: int = 50051
    max_sessions: int = 1024
    session_ttl: float = 600.0
    max_message_bytes: int = 64 * 1024 * 1024
    workers: int | None = None
    max_num_envs: int = 1024
    vector_workers: int = 1
    # Worker processes per batched session (0: threads), making envs from `env_spec` (the
    # ENV argument), or from the factory itself when it pickles.
    vector_processes: int = 0
    env_spec: str = ""
    env_calls: str = "thread"
    # Seconds the event loop waits for a quick env call on a worker (0: never; see sessions).
    env_call_wait: float = 0.0005
    drain_seconds: float = 30.0
    grace_seconds: float = 5.0
    unready_at_limit: bool = False
    step_timeout: float = 60.0
    reset_timeout: float = 60.0
    close_timeout: float = 10.0
    max_abandoned: int = 32
    max_envs: int = 4096
    max_options_bytes: int = 1024 * 1024
    check_observations: bool = True
    hide_env_errors: bool = False
    tls: TlsFiles | None = None
    tokens_file: pathlib.Path | None = None
    max_sessions_per_principal: int = 0
    max_envs_per_principal: int = 0
    reflection: bool = True
    render_mode: str = ""  # of sessions whose client asks for none, so watchers see frames
    # The reward hook: a Python callable (`module:function`, `file.py:function`) or a
    # RewardService address; at most one. Each call has reward_timeout seconds.
    reward: str = ""
    reward_service: str = ""
    reward_timeout: float = 10.0

    @property
    def channel_options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            # Let clients keep idle channels alive with pings every 10 s or more.
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ("grpc.http2.max_ping_strikes", 0),
            # A port already in use must fail loudly, not be shared silently.
            ("grpc.so_reuseport", 0),
        ]


def describe_env(env: Environment, config: ServerConfig) -> pb.DescribeResponse:
    """The Describe answer for an env instance and the server's limits."""
    low, high = env.reward_range
    response = pb.DescribeResponse(
        env_name=env.display_name,
        env_version=env.version,
        protocol_version=PROTOCOL_VERSION,
        observation_space=spaces.to_proto(env.observation_space),
        action_space=spaces.to_proto(env.action_space),
        reward_range=pb.RewardRange(low=float(low), high=float(high)),
        capabilities=pb.Capabilities(
            batched=config.max_num_envs >= 1,
            tools=False,
            max_sessions=config.max_sessions,
            session_ttl=_duration(config.session_ttl),
            step_timeout=_duration(config.step_timeout),
            reset_timeout=_duration(config.reset_timeout),
            max_envs=config.max_envs,
            vector_processes=config.vector_processes,
            max_message_bytes=config.max_message_bytes,
            max_num_envs=config.max_num_envs,
            autoreset_modes=[
                pb.AUTORESET_MODE_NEXT_STEP,
                pb.AUTORESET_MODE_SAME_STEP,
                pb.AUTORESET_MODE_DISABLED,
            ],
        ),
        server_version=f"openenv-grpc {__version__}",
    )
    encode_map(_encodable_metadata(env.metadata), out=response.metadata)
    response.tools.extend(describe_tools(env))
    response.capabilities.tools = bool(response.tools)
    TaskCatalog(tasksets_of(env)).describe(response)
    return response


def reward_hook(config: ServerConfig) -> RewardHook | None:
    """The hook the config names (--reward, --reward-service), or None."""
    if config.reward and config.reward_service:
        raise ValueError("name one reward hook: --reward or --reward-service, not both")
    if config.reward:
        return FunctionHook(
            load_callable(config.reward), name=config.reward, timeout=config.reward_timeout
        )
    if config.reward_service:
        return ServiceHook(config.reward_service, timeout=config.reward_timeout)
    return None


def _duration(seconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(seconds * 1e9))
    return duration


def _encodable_metadata(metadata: Any) -> dict[str, Any]:
    """Gymnasium metadata with values the protocol cannot carry shown as their repr."""
    out: dict[str, Any] = {}
    for key, value in dict(metadata or {}).items():
        try:
            encode_value(value)
            out[str(key)] = value
        except UnencodableValue:
            out[str(key)] = repr(value)
    return out


def _env_calls(policy: str, env: Environment) -> str:
    """Env code runs on threads unless the env declares itself non-blocking (then the
    adaptive policy may call it on the loop) or the operator chose another policy."""
    if policy == "thread" and getattr(env, "non_blocking", False):
        return "adaptive"
    return policy


class _SessionEvents:
    """Sessions opening and closing, told to telemetry and (optionally) to readiness."""

    def __init__(self, server: EnvServer) -> None:
        self._server = server
        self._ready: bool | None = True

    def session_opened(self, session: Session, open_sessions: int) -> None:
        self._server.telemetry.session_opened(self._server.description.env_name)
        self._update_readiness()

    def session_closed(self, session: Session, reason: CloseReason, open_sessions: int) -> None:
        self._server.telemetry.session_closed(self._server.description.env_name, reason.label)
        self._update_readiness()

    def capacity_changed(self, stuck: int, at_capacity: bool) -> None:
        if at_capacity:
            log.warning(
                "%d env calls are stuck past their timeouts: not ready for new sessions", stuck
            )
        self._update_readiness()

    def _update_readiness(self) -> None:
        server = self._server
        sessions = server.sessions
        if sessions.draining:
            return
        full = server.config.unready_at_limit and sessions.at_limit
        ready = not full and not sessions.at_capacity
        if ready != self._ready:
            self._ready = ready
            status = SERVING if ready else NOT_SERVING
            asyncio.get_running_loop().create_task(server.health.set(SERVICE_NAME, status))


class EnvServer:
    """One EnvService server on one port, with health, reflection and telemetry.

    Health: "" (the process) and "openenv.v1.EnvService" (ready for sessions)
    are SERVING while the server serves; with `unready_at_limit` the latter is
    NOT_SERVING while the session limit is reached; both are NOT_SERVING from
    the start of a drain.
    """

    def __init__(
        self,
        factory: EnvFactory,
        config: ServerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        self.telemetry = telemetry or Telemetry()
        try:
            probe = factory()
        except Exception as exc:
            raise EnvFactoryFailed(f"the env factory failed: {type(exc).__name__}: {exc}") from exc
        try:
            try:
                tasksets = tasksets_of(probe)
            except (TypeError, ValueError) as exc:
                raise EnvFactoryFailed(f"the env's tasksets are not valid: {exc}") from exc
            self.description = describe_env(probe, self.config)
            observation_space, action_space = probe.observation_space, probe.action_space
        finally:
            probe.close()
        try:
            hook = reward_hook(self.config)
        except (ImportError, ValueError) as exc:
            raise EnvFactoryFailed(f"the reward hook: {exc}") from exc
        self.scorer = Scorer(hook, self.telemetry, self.description.env_name)
        source = self.config.env_spec or factory
        if self.config.vector_processes:
            try:
                check_source(source)
            except ValueError as exc:
                raise EnvFactoryFailed(str(exc)) from None
        self.sessions = SessionManager(
            factory,
            max_sessions=self.config.max_sessions,
            ttl_seconds=self.config.session_ttl,
            executor=EnvThreads(self.config.workers),
            clock=clock,
            listeners=[_SessionEvents(self)],
            max_num_envs=self.config.max_num_envs,
            vector_workers=self.config.vector_workers,
            vector_processes=self.config.vector_processes,
            worker_source=source if self.config.vector_processes else None,
            vector_space=observation_space,
            env_calls=_env_calls(self.config.env_calls, probe),
            env_call_wait=self.config.env_call_wait,
            step_timeout=self.config.step_timeout,
            reset_timeout=self.config.reset_timeout,
            close_timeout=self.config.close_timeout,
            max_abandoned=self.config.max_abandoned,
            max_envs=self.config.max_envs,
            observation_space=observation_space if self.config.check_observations else None,
            max_sessions_per_principal=self.config.max_sessions_per_principal,
            max_envs_per_principal=self.config.max_envs_per_principal,
        )
        self.health = health_aio.HealthServicer()
        if problem := default_render_mode_problem(self.config.render_mode, self.description):
            raise EnvFactoryFailed(problem)
        self.servicer = EnvServicer(
            self.sessions,
            self.description,
            observation_space,
            action_space,
            self.telemetry,
            EnvErrors(hide=self.config.hide_env_errors),
            max_options_bytes=self.config.max_options_bytes,
            authenticator=Authenticator(
                TokensFile(self.config.tokens_file) if self.config.tokens_file else None,
                client_certificates=bool(self.config.tls and self.config.tls.client_ca),
            ),
            tasks=TaskCatalog(tasksets),
            scorer=self.scorer,
            default_render_mode=self.config.render_mode,
        )
        self._server: grpc.aio.Server | None = None
        self.tls: ReloadingCredentials | None = None
        self._reaper: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def address(self) -> str:
        host = self.config.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    async def start(self) -> int:
        """Bind, start serving and return the bound port (useful with port 0)."""
        server = grpc.aio.server(options=self.config.channel_options)
        server.add_generic_rpc_handlers((method_handlers(self.servicer),))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if self.config.reflection:
            reflection.enable_server_reflection(
                [
                    SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                server,
            )
        host = self.config.host
        bind = f"[{host}]:{self.config.port}" if ":" in host else f"{host}:{self.config.port}"
        if self.config.tls is not None:
            self.tls = ReloadingCredentials(self.config.tls)
            self.port = server.add_secure_port(bind, self.tls.credentials)
        else:
            if not is_loopback(host):
                log.warning(
                    "serving plaintext on %s, which other machines can reach: anyone there can "
                    "read and drive every session; pass --tls-cert and --tls-key (and "
                    "--tls-client-ca for client certificates) to turn TLS on",
                    host,
                )
            self.port = server.add_insecure_port(bind)
        await server.start()
        self._server = server
        for service in ("", SERVICE_NAME):
            await self.health.set(service, SERVING)
        self._reaper = asyncio.get_running_loop().create_task(self.sessions.run_reaper())
        return self.port

    async def drain(self) -> None:
        """Shut down without losing a step, then stop.

        Health turns NOT_SERVING and new sessions are refused (UNAVAILABLE)
        at once; open sessions may go on for up to `drain_seconds` (a stream
        that ends closes its session); then requests still in flight are
        answered (up to `grace_seconds` more), every stream still open ends
        with DRAINING (at its next request, or after STREAM_WAIT_SECONDS
        without one), so its client knows why, and the server stops.
        """
        config = self.config
        self.sessions.start_draining()
        await self.health.enter_graceful_shutdown()
        log.info(
            "openenv-grpc draining: %d sessions open, waiting up to %gs for them to end",
            len(self.sessions),
            config.drain_seconds,
        )
        try:
            await asyncio.wait_for(self.sessions.wait_until_empty(), config.drain_seconds)
        except TimeoutError:
            log.info("drain time is up with %d sessions still open", len(self.sessions))
        self.servicer.closing = True
        try:
            await asyncio.wait_for(self.servicer.inflight.wait_quiet(), config.grace_seconds)
        except TimeoutError:
            log.warning("%d requests were still running at shutdown", self.servicer.inflight.count)
        # Streams in use end at their next request, answered DRAINING; those that send
        # none for a moment are ended so, so every client learns why its session ended.
        if not await self.servicer.streams_ended(min(STREAM_WAIT_SECONDS, config.grace_seconds)):
            ended = self.servicer.end_idle_streams()
            if ended:
                await asyncio.wait(ended, timeout=config.grace_seconds)
        await self.stop(grace=0)

    async def stop(self, grace: float | None = None) -> None:
        """Stop serving at once (in-flight calls get `grace`), close every session."""
        if self._server is None:
            return
        self.sessions.start_draining()
        await self.health.enter_graceful_shutdown()
        await self._server.stop(self.config.grace_seconds if grace is None else grace)
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self.sessions.close_all(CloseReason.SHUTDOWN)
        self.sessions.shutdown()
        await self.scorer.close()
        self._server = None

    async def wait(self) -> None:
        """Until the server stops."""
        if self._server is not None:
            await self._server.wait_for_termination()


STREAM_WAIT_SECONDS = 1.0
"""How long a drain that is over waits for streams in use to send their next request."""


async def serve(
    factory: EnvFactory,
    config: ServerConfig,
    env_label: str = "",
    telemetry: Telemetry | None = None,
) -> int:
    """Run a server until SIGTERM or SIGINT, then drain; returns the exit code.

    The first signal drains (see `EnvServer.drain`) and returns 0; a second
    signal during the drain stops at once and returns 1.
    """
    keep_heap()  # the process is the server's: large steps reuse the heap (see heap.py)
    telemetry = telemetry or Telemetry()
    server = EnvServer(factory, config, telemetry=telemetry)
    await server.start()
    # The signals are ours before the line that says we serve: a SIGTERM sent on seeing
    # it drains, never kills.
    first, second = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: second.set() if first.is_set() else first.set())
    if server.tls is not None:
        loop.add_signal_handler(signal.SIGHUP, server.tls.reload)
    ttl = f"{config.session_ttl:g}s" if config.session_ttl else "off"
    limit = config.max_sessions or "unlimited"
    log.info(
        "openenv-grpc serving %s on %s (max sessions %s, session ttl %s, max message %s MiB)",
        env_label or server.description.env_name,
        server.address,
        limit,
        ttl,
        math.floor(config.max_message_bytes / 2**20),
    )
    await first.wait()
    drain = loop.create_task(server.drain())
    forced = loop.create_task(second.wait())
    await asyncio.wait({drain, forced}, return_when=asyncio.FIRST_COMPLETED)
    if not drain.done():
        # At once: sessions get a bounded moment to close, then nothing (a hung env, a
        # stuck close) may hold the exit.
        log.warning("second signal: stopping at once")
        drain.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(server.stop(grace=0), FORCED_STOP_SECONDS)
        logging.shutdown()
        os._exit(1)
    forced.cancel()
    drain.result()  # a failure of the drain itself is not swallowed
    log.info("openenv-grpc stopped")
    telemetry.shutdown()
    return 0
