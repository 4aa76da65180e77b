"""The tools half of the servicer: ListTools and CallTool, unary and on streams.

A tool call is env code like a step: it goes through the session table (one
call per session at a time, on the env threads, within the step timeout; a
tool that hangs closes its session with ENV_TIMEOUT and never freezes the
server or reaches another session). It does not touch the episode: no step
count, no reward. What is wire-shaped lives here (JSON text in and out, the
messages of tools.proto); what a tool is lives in `tools.py`.

Retries are safe: the last tool call of a session is kept with its request
id, and a call repeating that id gets the same answer (waiting for it while it
runs) instead of running the tool again. A call that failed is run afresh.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from openenv_proto.v1 import tools_pb2

from ..env import Environment
from ..errors import EnvCodeError, InvalidToolArguments, echo
from ..sessions import Session, SessionManager
from ..telemetry import Telemetry
from ..tools import ToolResult, ToolSpec, call_tool, list_tools, schema_json


def tool_message(spec: ToolSpec, out: tools_pb2.Tool) -> None:
    """A tool's spec as the contract's Tool."""
    out.name = spec.name
    out.description = spec.description
    out.input_schema_json = schema_json(spec.input_schema)
    out.output_schema_json = schema_json(spec.output_schema)


def describe_tools(env: Environment) -> list[tools_pb2.Tool]:
    """The tools of an env instance for Describe (the server's first env, at start)."""
    messages = []
    for spec in list_tools(env):
        message = tools_pb2.Tool()
        tool_message(spec, message)
        messages.append(message)
    return messages


class Tooling:
    """Lists and calls the tools of sessions' envs through the session table."""

    def __init__(self, sessions: SessionManager, telemetry: Telemetry, env_name: str) -> None:
        self._sessions = sessions
        self._telemetry = telemetry
        self._env_name = env_name
        # Per session: the request id of its last tool call and that call's outcome.
        self._last: weakref.WeakKeyDictionary[Session, tuple[str, asyncio.Future[ToolResult]]]
        self._last = weakref.WeakKeyDictionary()

    async def list(self, session: Session, out: tools_pb2.ListToolsResponse) -> None:
        future = self._sessions.start_tool(session, list_tools)
        for spec in await self._sessions.tool_result(session, future):
            tool_message(spec, out.tools.add())

    async def call(
        self, session: Session, request: tools_pb2.CallToolRequest, out: tools_pb2.CallToolResponse
    ) -> None:
        last = self._last.get(session)
        if request.request_id and last is not None and last[0] == request.request_id:
            done = last[1]
            if not (done.done() and (done.cancelled() or done.exception() is not None)):
                _encode(await asyncio.shield(done), out)
                return
        name, arguments = request.name, _arguments(request.name, request.arguments_json)
        attributes = {
            "openenv.session.id": session.id,
            "openenv.env.name": self._env_name,
            "openenv.tool.name": echo(name),
        }
        with self._telemetry.env_span("env.tool", **attributes) as span:
            started = self._sessions.start_tool(
                session, lambda env: call_tool(env, name, arguments)
            )
            outcome = asyncio.ensure_future(self._sessions.tool_result(session, started))
            outcome.add_done_callback(_retrieve)
            self._last[session] = (request.request_id, outcome)
            result = await asyncio.shield(outcome)
            if span is not None:
                span.set_attribute("openenv.tool.is_error", result.is_error)
        _encode(result, out)


def _arguments(name: str, text: str) -> dict[str, Any]:
    """A call's arguments: a JSON object as text ("" is {})."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidToolArguments(name, f"arguments_json is not JSON ({echo(exc)})", []) from None
    if not isinstance(value, dict):
        raise InvalidToolArguments(
            name, f"arguments_json is a JSON {type(value).__name__}, not an object", []
        )
    return value


def _encode(result: ToolResult, out: tools_pb2.CallToolResponse) -> None:
    try:
        structured = (
            "" if result.structured is None else json.dumps(result.structured, allow_nan=False)
        )
    except (TypeError, ValueError) as exc:
        raise EnvCodeError("tool", f"a structured result that is not JSON: {exc}") from exc
    for text in result.content:
        out.content.add(text=text)
    out.structured_content_json = structured
    out.is_error = result.is_error


def _retrieve(done: asyncio.Future[Any]) -> None:
    """Mark an outcome's exception as seen: a call whose caller went away logs nothing."""
    if not done.cancelled():
        done.exception()
