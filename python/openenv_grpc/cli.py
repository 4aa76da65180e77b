"""`openenv-grpc`: serve an environment, or describe or validate a running server."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
from collections.abc import Sequence

import grpc

from .client import wire
from .client.client import tls_credentials
from .loader import DEFAULT_ENV, EnvSpecError, load_env_factory
from .server.app import EnvFactoryFailed, ServerConfig, serve
from .server.tls import TlsFiles
from .telemetry import configure_logging, setup_telemetry
from .validate import describe, describe_json, validate


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openenv-grpc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    defaults = ServerConfig()
    serve_cmd = commands.add_parser("serve", help="serve an environment over gRPC")
    serve_cmd.add_argument(
        "env",
        nargs="?",
        default=os.environ.get("OPENENV_GRPC_ENV", DEFAULT_ENV),
        help="gymnasium:ID, package.module:factory, path/to/file.py:factory, or a shipped env "
        "name (conformance, terminal) "
        f"(default $OPENENV_GRPC_ENV, else {DEFAULT_ENV})",
    )
    # A container image sets these three variables, so one `-e` changes the env or the
    # port for the server and the image's HEALTHCHECK alike (deploy/docker/Dockerfile).
    serve_cmd.add_argument(
        "--host",
        default=os.environ.get("OPENENV_GRPC_HOST", defaults.host),
        help=f"address to bind (default $OPENENV_GRPC_HOST, else {defaults.host})",
    )
    serve_cmd.add_argument(
        "--port",
        type=_positive_int,
        default=os.environ.get("OPENENV_GRPC_PORT", defaults.port),
        help=f"port to bind, 0 for any free one (default $OPENENV_GRPC_PORT, else {defaults.port})",
    )
    serve_cmd.add_argument(
        "--max-sessions",
        type=_positive_int,
        default=defaults.max_sessions,
        help="most sessions at once, 0 for no limit (default %(default)s)",
    )
    serve_cmd.add_argument(
        "--session-ttl",
        type=_seconds,
        default=defaults.session_ttl,
        help="seconds before an idle session is closed, 0 never (default %(default)s)",
    )
    serve_cmd.add_argument(
        "--max-message-mb",
        type=_positive_int,
        default=defaults.max_message_bytes // 2**20,
        help="largest message in MiB either way (default %(default)s)",
    )
    serve_cmd.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="threads that run env code (default: Python's thread pool default)",
    )
    serve_cmd.add_argument(
        "--log-level", default="INFO", help="logging level (default %(default)s)"
    )
    serve_cmd.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="log lines (default text)"
    )
    serve_cmd.add_argument(
        "--max-num-envs",
        type=_positive_int,
        default=defaults.max_num_envs,
        help="most sub-environments in one batched session; 0 turns batched sessions off "
        "(default %(default)s)",
    )
    serve_cmd.add_argument(
        "--vector-workers",
        type=_positive_int,
        default=defaults.vector_workers,
        help="threads that step the sub-envs of one batched step together; more than 1 "
        "helps envs that release the GIL (default %(default)s)",
    )
    serve_cmd.add_argument(
        "--vector-processes",
        type=_positive_int,
        default=defaults.vector_processes,
        help="worker processes that step the sub-envs of each batched session, each "
        "holding a slice made from ENV, so pure-Python envs use every core; 0 steps them "
        "on threads (default %(default)s)",
    )
    serve_cmd.add_argument(
        "--env-calls",
        choices=["adaptive", "thread", "inline"],
        default=defaults.env_calls,
        help="where env code runs: on worker threads with timeouts, so a slow or hung env "
        "never stalls other sessions (thread, the default; an env class that sets "
        "non_blocking = True gets adaptive); on the event loop (inline, for envs known never "
        "to block); or on the loop once an env has shown itself cheap, back to threads at "
        "its first slow call (adaptive)",
    )
    serve_cmd.add_argument(
        "--env-call-wait",
        type=_seconds,
        default=defaults.env_call_wait,
        help="seconds the event loop waits for a quick env call on a worker thread before "
        "serving others meanwhile (the loop is never held longer; a session whose call takes "
        "longer is waited for less and less often); saves most of a thread hop for quick "
        "pure-Python envs; 0 for envs that release the GIL to run side by side "
        "(default %(default)s)",
    )
    tls = serve_cmd.add_argument_group(
        "TLS", "plaintext is for loopback; files are re-read when they change and on SIGHUP"
    )
    tls.add_argument("--tls-cert", help="the server's certificate chain (PEM): serve TLS")
    tls.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    tls.add_argument(
        "--tls-client-ca",
        help="require client certificates signed by this CA (PEM): mutual TLS",
    )
    who = serve_cmd.add_argument_group("callers", "tokens, ownership, reflection")
    who.add_argument(
        "--tokens-file",
        help="`PRINCIPAL TOKEN` per line (# comments), re-read when it changes: every "
        "EnvService call needs `authorization: Bearer TOKEN`; health stays open",
    )
    who.add_argument(
        "--max-sessions-per-principal",
        type=_positive_int,
        default=defaults.max_sessions_per_principal,
        help="most sessions one principal holds at once; 0 for no limit (default %(default)s)",
    )
    who.add_argument(
        "--max-envs-per-principal",
        type=_positive_int,
        default=defaults.max_envs_per_principal,
        help="sub-environments of one principal's batched sessions together; 0 for no limit "
        "(default %(default)s)",
    )
    who.add_argument(
        "--no-reflection",
        dest="reflection",
        action="store_false",
        help="do not serve gRPC reflection (turn it off in production)",
    )
    limits = serve_cmd.add_argument_group(
        "limits", "env code is untrusted: every call is bounded, and so is every request"
    )
    limits.add_argument(
        "--step-timeout",
        type=_seconds,
        default=defaults.step_timeout,
        help="seconds an env step (or state) may run; past it the caller gets ENV_TIMEOUT "
        "and the session is closed, its env abandoned; 0 for none (default %(default)s)",
    )
    limits.add_argument(
        "--reset-timeout",
        type=_seconds,
        default=defaults.reset_timeout,
        help="seconds making an env and resetting it may run (default %(default)s)",
    )
    limits.add_argument(
        "--close-timeout",
        type=_seconds,
        default=defaults.close_timeout,
        help="seconds an env's close may run before it is abandoned (default %(default)s)",
    )
    limits.add_argument(
        "--max-abandoned",
        type=_positive_int,
        default=defaults.max_abandoned,
        help="env calls stuck past their timeouts before the server reports NOT_SERVING "
        "and refuses new sessions (CAPACITY_EXHAUSTED); 0 for no limit (default %(default)s)",
    )
    limits.add_argument(
        "--max-envs",
        type=_positive_int,
        default=defaults.max_envs,
        help="sub-environments of all batched sessions together; 0 for no limit "
        "(default %(default)s)",
    )
    limits.add_argument(
        "--max-options-bytes",
        type=_positive_int,
        default=defaults.max_options_bytes,
        help="largest reset options, encoded; beyond it REQUEST_TOO_LARGE (default %(default)s)",
    )
    limits.add_argument(
        "--no-check-observations",
        dest="check_observations",
        action="store_false",
        help="send observations without checking them against the observation space "
        "(for trusted envs; by default one outside it is ENV_ERROR and ends the episode)",
    )
    limits.add_argument(
        "--hide-env-errors",
        action="store_true",
        help="send clients only the type of an env exception and an error id; the log "
        "keeps the message and traceback under that id",
    )
    serve_cmd.add_argument(
        "--drain-seconds",
        type=_seconds,
        default=defaults.drain_seconds,
        help="on SIGTERM/SIGINT, how long open sessions may go on (default %(default)s)",
    )
    rewards = serve_cmd.add_argument_group(
        "rewards", "score every step outside the env (the hook's reward replaces the env's)"
    )
    rewards.add_argument(
        "--reward",
        metavar="MODULE:FUNCTION",
        default=defaults.reward,
        help="a Python function (package.module:function or path/to/file.py:function) "
        "called with each step's RewardEvent, returning a float or a dict of components",
    )
    rewards.add_argument(
        "--reward-service",
        metavar="ADDR",
        default=defaults.reward_service,
        help="host:port of a RewardService (openenv.v1, plaintext) to score each step",
    )
    rewards.add_argument(
        "--reward-timeout",
        type=_positive_seconds,
        default=defaults.reward_timeout,
        help="seconds the hook may take per step; past it the step fails with REWARD_ERROR "
        "(default %(default)s)",
    )
    serve_cmd.add_argument(
        "--render-mode",
        default=defaults.render_mode,
        help="render mode of the sessions whose client asks for none (e.g. rgb_array), so "
        "WatchSession can show their frames; by default they render nothing",
    )
    serve_cmd.add_argument(
        "--unready-at-limit",
        action="store_true",
        help="report openenv.v1.EnvService NOT_SERVING (readiness) while at --max-sessions",
    )
    serve_cmd.add_argument(
        "--metrics-port",
        type=_positive_int,
        default=None,
        help="serve Prometheus metrics on this port; OTLP export is set by the OTEL_* variables",
    )
    serve_cmd.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address of --metrics-port (default %(default)s)",
    )

    describe_cmd = commands.add_parser(
        "describe",
        help="print the spec of a running server as JSON",
        description="Print a running server's Describe answer as strict JSON. JSON has no "
        "infinities or NaN, so every non-finite number (an unbounded reward range, a NaN in "
        "metadata) is printed as null; spaces are printed as Gymnasium shows them.",
    )
    describe_cmd.add_argument("address", help="host:port of the server")
    describe_cmd.add_argument(
        "--timeout", type=_positive_seconds, default=10.0, help="seconds to wait (default 10)"
    )

    _peer_arguments(describe_cmd)
    validate_cmd = commands.add_parser(
        "validate",
        help="check that a running server (any language) keeps the openenv.v1 contract",
        description="Check a running server against the openenv.v1 contract: health, "
        "reflection, Describe, observations of seeded episodes in their space, determinism "
        "under a seed, error codes and reasons, stream ordering, step indices. Exits 0 when "
        "every check passes, 1 when one fails, 2 on bad arguments.",
    )
    validate_cmd.add_argument("address", help="host:port of the server")
    _peer_arguments(validate_cmd)
    validate_cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    validate_cmd.add_argument(
        "--episodes",
        type=_at_least_one,
        default=3,
        help="seeded episodes whose observations are checked (default %(default)s)",
    )
    validate_cmd.add_argument(
        "--seed",
        type=_positive_int,
        default=0,
        help="first episode seed, and seed of the random actions (default %(default)s)",
    )
    validate_cmd.add_argument(
        "--max-steps",
        type=_at_least_one,
        default=50,
        help="most steps of one episode (default %(default)s)",
    )
    validate_cmd.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=10.0,
        help="deadline of each call, in seconds (default %(default)s)",
    )
    _mcp_arguments(commands.add_parser("mcp", help="serve a running env server's tools over MCP"))
    playground_cmd = commands.add_parser(
        "playground",
        help="a web page to play, inspect and watch a running env server",
        description="Serve a web page (a client of the env server like any other) that shows "
        "the env's spec, a form for actions, each step's results, the live frame and the "
        "env's tools, and a tab that watches any session by id.",
    )
    playground_cmd.add_argument("address", help="host:port of the env server")
    playground_cmd.add_argument(
        "--port", type=_positive_int, default=8000, help="HTTP port (default %(default)s)"
    )
    playground_cmd.add_argument(
        "--host", default="127.0.0.1", help="address the page is served on (default %(default)s)"
    )
    _peer_arguments(playground_cmd)
    return parser


def _mcp_arguments(command: argparse.ArgumentParser) -> None:
    command.description = (
        "Serve the tools of a running env server to MCP clients: over stdio (for a client "
        "that spawns this command), or over streamable HTTP at http://HOST:PORT/mcp with "
        "--http. Each MCP connection gets an env session of its own, closed when it ends."
    )
    command.add_argument("address", help="host:port of the env server")
    command.add_argument(
        "--http",
        type=_positive_int,
        metavar="PORT",
        help="serve streamable HTTP on this port (0: any free one) instead of stdio",
    )
    command.add_argument(
        "--host", default="127.0.0.1", help="address --http binds (default %(default)s)"
    )
    _peer_arguments(command)


def _mcp(args: argparse.Namespace) -> int:
    """The MCP front (the SDK loads only for this command); logs go to stderr, since
    stdout carries the stdio protocol."""
    import logging

    from .adapters import mcp as front

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    credentials, token = _peer(args)
    peer = front.Peer(args.address, credentials, token)
    try:
        if args.http is None:
            asyncio.run(front.run_stdio(peer))
            return 0
        sock = front.bind(args.host, args.http)
        host, port = sock.getsockname()[:2]
        where = f"[{host}]" if ":" in host else host
        print(
            f"openenv-grpc mcp: serving {args.address} on http://{where}:{port}/mcp",
            file=sys.stderr,
            flush=True,
        )
        asyncio.run(front.run_http(peer, sock))
    except OSError as exc:
        print(f"openenv-grpc mcp: cannot serve on {args.host}:{args.http}: {exc}", file=sys.stderr)
        return 1
    except BaseException as exc:  # the env server's refusal, maybe inside task groups
        error = front.first_env_error(exc)
        if error is None:
            raise
        print(f"openenv-grpc mcp: {args.address}: {error.message}", file=sys.stderr)
        return 1
    return 0


def _peer_arguments(command: argparse.ArgumentParser) -> None:
    """TLS and token options of a command that calls a server."""
    command.add_argument("--ca-file", help="the CA of the server's certificate (PEM): use TLS")
    command.add_argument("--cert-file", help="this client's certificate (PEM), for mutual TLS")
    command.add_argument("--key-file", help="the key of --cert-file (PEM)")
    command.add_argument(
        "--token", help=f"a bearer token (default ${wire.TOKEN_VARIABLE}); send it over TLS"
    )


def _peer(args: argparse.Namespace) -> tuple[grpc.ChannelCredentials | None, str]:
    credentials = tls_credentials(args.ca_file, args.cert_file, args.key_file)
    return credentials, wire.token_or_environment(args.token)


def _describe(args: argparse.Namespace) -> int:
    address = args.address
    try:
        reply = describe(address, args.timeout, *_peer(args))
    except grpc.RpcError as err:
        print(f"openenv-grpc: {address}: {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    print(json.dumps(describe_json(reply), indent=2, allow_nan=False))
    return 0


def _validate(args: argparse.Namespace) -> int:
    credentials, token = _peer(args)
    report = validate(
        args.address,
        episodes=args.episodes,
        seed=args.seed,
        timeout=args.timeout,
        max_steps=args.max_steps,
        credentials=credentials,
        token=token,
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2, allow_nan=False))
    else:
        print(f"openenv-grpc validate {args.address}")
        print(report.table())
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "describe":
        return _describe(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "mcp":
        return _mcp(args)
    if args.command == "playground":
        try:
            from .playground import run  # starlette and uvicorn load for this command only
        except ImportError as exc:
            print(
                f"openenv-grpc playground needs starlette, uvicorn and websockets ({exc}): "
                "pip install 'openenv-grpc[playground]'",
                file=sys.stderr,
            )
            return 2
        credentials, token = _peer(args)
        return run(
            args.address, host=args.host, port=args.port, token=token, credentials=credentials
        )

    configure_logging(args.log_level, args.log_format)
    try:
        factory = load_env_factory(args.env)
    except EnvSpecError as exc:
        print(f"openenv-grpc: {exc}", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key) or (args.tls_client_ca and not args.tls_cert):
        print(
            "openenv-grpc: --tls-cert and --tls-key go together (and --tls-client-ca needs them)",
            file=sys.stderr,
        )
        return 2
    tls_files = (
        TlsFiles(
            pathlib.Path(args.tls_cert),
            pathlib.Path(args.tls_key),
            pathlib.Path(args.tls_client_ca) if args.tls_client_ca else None,
        )
        if args.tls_cert
        else None
    )
    config = ServerConfig(
        tls=tls_files,
        tokens_file=pathlib.Path(args.tokens_file) if args.tokens_file else None,
        max_sessions_per_principal=args.max_sessions_per_principal,
        max_envs_per_principal=args.max_envs_per_principal,
        reflection=args.reflection,
        host=args.host,
        port=args.port,
        max_sessions=args.max_sessions,
        session_ttl=args.session_ttl,
        max_message_bytes=args.max_message_mb * 2**20,
        workers=args.workers or None,
        max_num_envs=args.max_num_envs,
        vector_workers=max(1, args.vector_workers),
        vector_processes=args.vector_processes,
        env_spec=args.env,
        env_calls=args.env_calls,
        env_call_wait=args.env_call_wait,
        drain_seconds=args.drain_seconds,
        unready_at_limit=args.unready_at_limit,
        step_timeout=args.step_timeout,
        reset_timeout=args.reset_timeout,
        close_timeout=args.close_timeout,
        max_abandoned=args.max_abandoned,
        max_envs=args.max_envs,
        max_options_bytes=args.max_options_bytes,
        check_observations=args.check_observations,
        hide_env_errors=args.hide_env_errors,
        reward=args.reward,
        reward_service=args.reward_service,
        reward_timeout=args.reward_timeout,
        render_mode=args.render_mode,
    )
    telemetry = setup_telemetry(
        prometheus_port=args.metrics_port, prometheus_host=args.metrics_host
    )
    try:
        return asyncio.run(serve(factory, config, env_label=args.env, telemetry=telemetry))
    except EnvFactoryFailed as exc:
        print(f"openenv-grpc: {args.env}: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # grpc: the address could not be bound
        print(f"openenv-grpc: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
