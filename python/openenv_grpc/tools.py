"""Tools an env offers to agents, as MCP has them: declared with `@tool`, schemas from type hints.

An agent env (a terminal, a browser, a code sandbox) is driven by tools as much
as by `step`. A method of an `Environment` marked `@tool` is one tool of every
session's env: its name is the method's (or `name=`), its description the
docstring (or `description=`), and the JSON Schemas of its arguments and of its
result come from its type hints, derived by the official MCP SDK's own
`func_metadata`, so a tool here is described, validated and converted exactly
as the same function would be on the SDK's `FastMCP` server:

    class Shell(Environment):
        @tool
        def run(self, command: str, timeout_s: float = 10.0) -> dict[str, object]:
            '''Run a shell command in the session's directory.'''
            if not command.strip():
                raise ToolError("command is empty; send a shell command such as `ls`")
            ...

An env may instead (or as well) hand over a server of the SDK: an instance
attribute `mcp_server` holding an `mcp.server.fastmcp.FastMCP`, as OpenEnv's
MCP environments do; its tools are listed and called through it.

A tool raises `ToolError` for a failure its caller should read and act on (a
file that is missing, a command that failed): the call's result then has
`is_error` set, as MCP has it, and the session goes on. Any other exception is a
bug of the env, reported like a step that raises (ENV_ERROR). An unknown tool is
`ToolNotFound`, arguments that do not match the input schema
`InvalidToolArguments` (both INVALID_ARGUMENT).

The functions here run env code: the server calls them on its env threads,
within a timeout, one call per session at a time, like `step`. This module
imports no grpc, and loads the MCP SDK only when tools are first described or
called, not when `@tool` is applied.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .errors import InvalidToolArguments, ToolNotFound, echo

if TYPE_CHECKING:
    from mcp.server.fastmcp.utilities.func_metadata import FuncMetadata
    from pydantic import ValidationError

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__openenv_tool__"
# MCP's rule for tool names (SEP-986): what every MCP client accepts.
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_PROBLEMS_SHOWN = 8  # validation problems named in one message


class ToolError(Exception):
    """A tool's failure for its caller to read (say what went wrong and what to do): the
    result has `is_error` set and its message as text; the session goes on."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool as ListTools and Describe show it (MCP's Tool)."""

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call (MCP's CallToolResult): text items, the structured
    result (any JSON value; None when the tool has none) and the error flag."""

    content: list[str] = field(default_factory=list)
    structured: Any = None
    is_error: bool = False


@dataclass(frozen=True)
class _Mark:
    name: str | None
    description: str | None


@overload
def tool(fn: F, /) -> F: ...


@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[F], F]: ...


def tool(
    fn: F | None = None, /, *, name: str | None = None, description: str | None = None
) -> F | Callable[[F], F]:
    """Mark an `Environment` method as a tool: `@tool`, or `@tool(name=..., description=...)`.

    The method is left as it is (callable as before); the mark is read when the
    env's tools are listed. A name MCP clients would refuse fails here, at once.
    """
    if name is not None and not _NAME.fullmatch(name):
        raise ValueError(f"tool name {name!r} is not 1-128 of A-Z a-z 0-9 _ . - (MCP's rule)")

    def mark(method: F) -> F:
        if name is None and not _NAME.fullmatch(method.__name__):
            raise ValueError(f"tool name {method.__name__!r} is not valid; pass name=")
        setattr(method, _MARK, _Mark(name, description))
        return method

    return mark if fn is None else mark(fn)


@dataclass(frozen=True)
class _Declared:
    """A `@tool` method of a class: where it lives, its spec, and the SDK's metadata."""

    attribute: str
    spec: ToolSpec
    metadata: FuncMetadata


# _declared's answers, per class while it lives (a race only repeats the work).
_CLASSES: weakref.WeakKeyDictionary[type, dict[str, _Declared]] = weakref.WeakKeyDictionary()


def _declared(cls: type) -> dict[str, _Declared]:
    """The `@tool` methods of a class by tool name, in the order they are defined (a
    subclass's attribute wins; one that overrides a tool without `@tool` is no tool)."""
    known = _CLASSES.get(cls)
    if known is None:
        known = _CLASSES[cls] = _derive(cls)
    return known


def _derive(cls: type) -> dict[str, _Declared]:
    from mcp.server.fastmcp.utilities.func_metadata import func_metadata

    attributes: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        attributes.update(vars(klass))
    tools: dict[str, _Declared] = {}
    for attribute, value in attributes.items():
        mark = getattr(value, _MARK, None)
        if not isinstance(mark, _Mark) or not callable(value):
            continue
        name = mark.name or value.__name__
        if name in tools:
            raise ValueError(f"{cls.__name__} declares two tools named {name!r}")
        metadata = func_metadata(value, skip_names=("self",))
        spec = ToolSpec(
            name=name,
            description=mark.description or inspect.cleandoc(value.__doc__ or ""),
            input_schema=metadata.arg_model.model_json_schema(by_alias=True),
            output_schema=metadata.output_schema,
        )
        tools[name] = _Declared(attribute, spec, metadata)
    return tools


def _server(env: object) -> Any:
    """The env's FastMCP server of the official SDK (`mcp_server`), or None."""
    server = getattr(env, "mcp_server", None)
    if server is None:
        return None
    from mcp.server.fastmcp import FastMCP

    if not isinstance(server, FastMCP):
        raise TypeError(
            f"{type(env).__name__}.mcp_server is a {type(server).__name__}, not an "
            "mcp.server.fastmcp.FastMCP (the official MCP SDK's server)"
        )
    return server


def list_tools(env: object) -> list[ToolSpec]:
    """Every tool of an env instance: its `@tool` methods, then its MCP server's tools."""
    specs = [declared.spec for declared in _declared(type(env)).values()]
    server = _server(env)
    if server is not None:
        for listed in _run(server.list_tools()):
            specs.append(
                ToolSpec(
                    name=listed.name,
                    description=listed.description or "",
                    input_schema=dict(listed.inputSchema),
                    output_schema=listed.outputSchema,
                )
            )
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"{type(env).__name__} offers tools {twice} twice (methods and server)")
    return specs


def has_tools(env: object) -> bool:
    """Whether an env instance offers any tool."""
    return bool(_declared(type(env))) or getattr(env, "mcp_server", None) is not None


def call_tool(env: object, name: str, arguments: Mapping[str, Any]) -> ToolResult:
    """Call one tool of an env instance with arguments decoded from JSON.

    Raises ToolNotFound, InvalidToolArguments, or whatever the tool raised other
    than ToolError (a bug of the env); a ToolError is an `is_error` result.
    """
    declared = _declared(type(env)).get(name)
    if declared is not None:
        kwargs = _validated(name, declared.metadata, arguments)
        try:
            value = getattr(env, declared.attribute)(**kwargs)
            if inspect.isawaitable(value):
                value = _run(value)
        except ToolError as exc:
            return ToolResult(content=[str(exc)], is_error=True)
        return _from_sdk(declared.metadata.convert_result(value))
    server = _server(env)
    # The server's own entry for the tool: its argument model, to tell arguments that
    # do not fit (INVALID_TOOL_ARGUMENTS) from a tool that fails (FastMCP wraps both
    # in one ToolError). The SDK has no public lookup of one tool.
    found = server._tool_manager.get_tool(name) if server is not None else None
    if found is None:
        raise ToolNotFound(name, [spec.name for spec in list_tools(env)])
    _validated(name, found.fn_metadata, arguments)
    return _call_server(server, name, arguments)


def _validated(name: str, metadata: FuncMetadata, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a call, validated and converted as the SDK does it."""
    from pydantic import ValidationError

    try:
        model = metadata.arg_model.model_validate(metadata.pre_parse_json(dict(arguments)))
    except ValidationError as exc:
        raise _invalid(name, exc) from None
    return model.model_dump_one_level()


def _call_server(server: Any, name: str, arguments: Mapping[str, Any]) -> ToolResult:
    from mcp.server.fastmcp.exceptions import ToolError as SdkToolError

    try:
        return _from_sdk(_run(server.call_tool(name, dict(arguments))))
    except SdkToolError as exc:  # FastMCP wraps what the tool raised
        cause = exc.__cause__
        if cause is None or isinstance(cause, ToolError | SdkToolError):
            return ToolResult(content=[str(cause or exc)], is_error=True)
        raise cause from None


def _from_sdk(value: Any) -> ToolResult:
    """What the SDK's conversion of a tool's return value gives (a CallToolResult, content
    blocks, or content with a structured result) as ours: text items kept, other content
    as its JSON."""
    from mcp.types import CallToolResult

    if isinstance(value, CallToolResult):
        return ToolResult(_texts(value.content), value.structuredContent, bool(value.isError))
    if isinstance(value, tuple):
        content, structured = value
        return ToolResult(_texts(content), structured)
    if isinstance(value, dict):
        return ToolResult([json.dumps(value)], value)
    return ToolResult(_texts(value))


def _texts(content: Any) -> list[str]:
    from mcp.types import TextContent

    return [
        item.text
        if isinstance(item, TextContent)
        else item.model_dump_json(by_alias=True, exclude_none=True)
        for item in content
    ]


def _invalid(name: str, exc: ValidationError) -> InvalidToolArguments:
    """Name the fields at fault and what is wrong with them, never the values sent."""
    errors = exc.errors(include_url=False, include_input=False)
    fields = [".".join(str(part) for part in error["loc"]) or "(arguments)" for error in errors]
    problems = "; ".join(
        f"{echo(where)}: {error['msg']}"
        for where, error in zip(fields[:_PROBLEMS_SHOWN], errors, strict=False)
    )
    if len(errors) > _PROBLEMS_SHOWN:
        problems += f"; and {len(errors) - _PROBLEMS_SHOWN} more"
    return InvalidToolArguments(name, problems, fields)


def _run(awaitable: Awaitable[Any]) -> Any:
    """The value of an awaitable, from sync code: on an event loop of its own (a thread of
    its own when this thread already runs one, as an env called inline does)."""

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    with concurrent.futures.ThreadPoolExecutor(1, "openenv-tool") as pool:
        return pool.submit(asyncio.run, wait()).result()


def schema_json(schema: Mapping[str, Any] | None) -> str:
    """A JSON Schema as the contract carries it: compact JSON text ("" for none)."""
    return "" if schema is None else json.dumps(schema, separators=(",", ":"), sort_keys=True)
