"""`openenv-grpc mcp ADDR`: an MCP server in front of a running env server.

Any MCP client (an agent, an IDE, an inspector) gets the tools of an env
served over gRPC. Each MCP client connection gets an env session of its own,
held by a StepStream of its own: the stream's first request creates the
session (a reset with `new_session`), listing and calling tools are requests
on that stream, and the session closes with the stream when the connection
ends, also when this process dies (the server closes a stream's session when
the stream breaks). Over stdio a process is one connection; over streamable
HTTP the SDK's session manager runs the MCP server once per MCP session, and
each run's lifespan is one env session.

Errors: a tool that fails for its caller (`is_error`) is an MCP result with
`isError`; a gRPC error (unknown tool, bad arguments, a crash, a timeout) is an
MCP error whose message starts with the contract's reason (`TOOL_NOT_FOUND: ...`),
with the reason, the gRPC code and the ErrorInfo metadata in its data;
INVALID_ARGUMENT is JSON-RPC's invalid params, anything else an internal error.

The gRPC side uses the generated stubs directly, so this front depends on the
contract only, not on the Python client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import mcp.types as mt
from grpc.aio import EOF  # type: ignore[attr-defined]  # (missing from grpc-stubs)
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import McpError

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import tools_pb2

from ..errors import Code, EnvError, Unavailable
from ..status import DETAILS_KEY, from_details, from_proto
from ..version import PROTOCOL_HEADER, PROTOCOL_VERSION, __version__

log = logging.getLogger("openenv_grpc.mcp")
CLOSE_SECONDS = 10.0  # the most a connection's end waits for its env session to close


@dataclass(frozen=True)
class Peer:
    """Where the env server is and how to reach it."""

    address: str
    credentials: grpc.ChannelCredentials | None = None
    token: str = ""
    max_message_bytes: int = 64 * 2**20

    def channel(self) -> grpc.aio.Channel:
        options = [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
        ]
        if self.credentials is None:
            return grpc.aio.insecure_channel(self.address, options=options)
        return grpc.aio.secure_channel(self.address, self.credentials, options=options)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        headers = [(PROTOCOL_HEADER, PROTOCOL_VERSION)]
        if self.token:
            headers.append(("authorization", f"Bearer {self.token}"))
        return tuple(headers)


class EnvSession:
    """One env session on a StepStream of its own; one request at a time, in order."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer
        self._channel = peer.channel()
        self._call: Any = None
        self._seq = 0
        self._lock = asyncio.Lock()
        self.session_id = ""

    async def open(self) -> None:
        """Open the stream and create its session (the env's first reset)."""
        stub: Any = pb_grpc.EnvServiceStub(self._channel)  # grpc-stubs types the sync stub only
        self._call = stub.StepStream(metadata=self._peer.metadata())
        new = pb.NewSession(request_id=uuid.uuid4().hex)
        response = await self.ask(
            pb.StepStreamRequest(reset_request=pb.ResetRequest(new_session=new))
        )
        self.session_id = response.reset_response.session_id
        log.info("env session %s… opened on %s", self.session_id[:8], self._peer.address)

    async def ask(self, request: pb.StepStreamRequest) -> pb.StepStreamResponse:
        """Send one request and read its answer; its error (in-band, or the stream's own
        failure) raised as the EnvError it stands for."""
        async with self._lock:
            self._seq += 1
            request.seq = self._seq
            try:
                await self._call.write(request)
                response = await self._call.read()
            except grpc.aio.AioRpcError as err:
                raise _rpc_error(err) from None
            if response is EOF:
                raise Unavailable(
                    "the env server ended this connection's stream, and with it the env "
                    "session; connect again for a new session"
                )
        if response.HasField("error"):
            raise from_proto(response.error)
        return response  # type: ignore[no-any-return]

    async def list_tools(self) -> list[tools_pb2.Tool]:
        request = pb.StepStreamRequest(list_tools_request=tools_pb2.ListToolsRequest())
        return list((await self.ask(request)).list_tools_response.tools)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tools_pb2.CallToolResponse:
        call = tools_pb2.CallToolRequest(
            name=name, arguments_json=json.dumps(arguments), request_id=uuid.uuid4().hex
        )
        response = await self.ask(pb.StepStreamRequest(call_tool_request=call))
        return response.call_tool_response

    async def close(self) -> None:
        """End the stream (the server then closes its session) and the channel."""
        try:
            if self._call is not None and not self._call.done():
                with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    await self._call.done_writing()
                with contextlib.suppress(grpc.aio.AioRpcError, TimeoutError):
                    await asyncio.wait_for(self._call.wait_for_connection(), CLOSE_SECONDS)
                    await asyncio.wait_for(self._call.code(), CLOSE_SECONDS)
        finally:
            await self._channel.close(grace=None)
            if self.session_id:
                log.info("env session %s… closed", self.session_id[:8])


def _rpc_error(err: grpc.aio.AioRpcError) -> EnvError:
    details = None
    trailers: Any = err.trailing_metadata() or ()  # (key, value) pairs at run time
    for key, value in trailers:
        if key == DETAILS_KEY and isinstance(value, bytes):
            details = value
    return from_details(err.code().value[0], err.details() or "", details)


def first_env_error(exc: BaseException) -> EnvError | None:
    """The EnvError behind an exception, found inside (nested) exception groups too."""
    if isinstance(exc, EnvError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = first_env_error(inner)
            if found is not None:
                return found
    return None


def mcp_error(error: EnvError) -> McpError:
    """An EnvError as an MCP error: the reason first in the message, the facts in data."""
    code = Code(error.code)
    reason = error.reason or code.name
    return McpError(
        mt.ErrorData(
            code=mt.INVALID_PARAMS if code is Code.INVALID_ARGUMENT else mt.INTERNAL_ERROR,
            message=f"{reason}: {error.message}",
            data={"reason": reason, "grpc_code": code.name, "metadata": error.metadata},
        )
    )


def mcp_tool(tool: tools_pb2.Tool) -> mt.Tool:
    """A contract Tool as MCP's."""
    return mt.Tool(
        name=tool.name,
        description=tool.description or None,
        inputSchema=json.loads(tool.input_schema_json or '{"type": "object"}'),
        outputSchema=json.loads(tool.output_schema_json) if tool.output_schema_json else None,
    )


def mcp_result(response: tools_pb2.CallToolResponse) -> mt.CallToolResult:
    """A contract CallToolResponse as MCP's CallToolResult."""
    structured = (
        json.loads(response.structured_content_json) if response.structured_content_json else None
    )
    return mt.CallToolResult(
        content=[mt.TextContent(type="text", text=item.text) for item in response.content],
        structuredContent=structured if isinstance(structured, dict) else None,
        isError=response.is_error,
    )


def build_server(peer: Peer) -> Server[EnvSession, Any]:
    """The MCP server: each run (one connection) holds one env session for its lifespan."""

    @contextlib.asynccontextmanager
    async def connection(_: Server[EnvSession, Any]) -> AsyncIterator[EnvSession]:
        session = EnvSession(peer)
        try:
            await session.open()
        except BaseException:
            await session.close()
            raise
        try:
            yield session
        finally:
            await session.close()

    server: Server[EnvSession, Any] = Server(
        "openenv-grpc", version=__version__, lifespan=connection
    )

    def current() -> EnvSession:
        return server.request_context.lifespan_context

    async def list_tools(request: mt.ListToolsRequest) -> mt.ServerResult:
        try:
            tools = await current().list_tools()
        except EnvError as exc:
            raise mcp_error(exc) from None
        return mt.ServerResult(mt.ListToolsResult(tools=[mcp_tool(tool) for tool in tools]))

    async def call_tool(request: mt.CallToolRequest) -> mt.ServerResult:
        params = request.params
        try:
            response = await current().call_tool(params.name, dict(params.arguments or {}))
        except EnvError as exc:
            raise mcp_error(exc) from None
        return mt.ServerResult(mcp_result(response))

    # Handlers of our own rather than the SDK's decorators: its call_tool handler turns
    # every exception into an isError result, and gRPC errors must stay MCP errors.
    server.request_handlers[mt.ListToolsRequest] = list_tools
    server.request_handlers[mt.CallToolRequest] = call_tool
    return server


async def run_stdio(peer: Peer) -> None:
    """Serve one MCP connection over this process's stdin and stdout."""
    server = build_server(peer)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def bind(host: str, port: int) -> socket.socket:
    """A listening socket for the HTTP front (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def run_http(peer: Peer, sock: socket.socket) -> None:
    """Serve MCP over streamable HTTP at /mcp on a bound socket, one env session per MCP
    session (stateful mode), until SIGINT or SIGTERM."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    server = build_server(peer)
    manager = StreamableHTTPSessionManager(app=server)

    class Endpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = Starlette(routes=[Route("/mcp", endpoint=Endpoint())], lifespan=lifespan)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
