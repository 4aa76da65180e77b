"""`openenv-grpc mcp ADDR` driven by the MCP SDK's own clients, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import re
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, TextContent

from conftest import StartServer
from processes import CLI, ROOT, Served
from serverutil import ServerThread
from toolenvs import NotesEnv

URL = re.compile(r"on (?P<url>http://\S+/mcp)")


@pytest.fixture
def env_server(start_server: StartServer) -> ServerThread:
    return start_server(NotesEnv)


@contextlib.asynccontextmanager
async def stdio_connection(address: str) -> AsyncIterator[ClientSession]:
    """An MCP connection to `openenv-grpc mcp ADDR`, spawned by the SDK's stdio client."""
    params = StdioServerParameters(
        command=CLI[0], args=[*CLI[1:], "mcp", address], env=dict(os.environ), cwd=ROOT
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@contextlib.asynccontextmanager
async def http_connection(url: str) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def start_http_front(address: str) -> tuple[subprocess.Popen[str], str]:
    """`openenv-grpc mcp ADDR --http 0` started, and its URL (from its first line); the rest
    of its log is read on, so it never blocks on a full pipe."""
    proc = subprocess.Popen(
        [*CLI, "mcp", address, "--http", "0"], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = URL.search(line)
    if not match:
        proc.kill()
        raise AssertionError(f"no URL in the front's first line: {line!r}")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, match["url"]


@pytest.fixture
def http_front(env_server: ServerThread) -> Iterator[str]:
    proc, url = start_http_front(env_server.address)
    assert url.startswith("http://127.0.0.1:")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def _open_sessions(server: ServerThread) -> int:
    return server.call(lambda: len(server.server.sessions))


def _wait_until_no_session(server: ServerThread) -> None:
    server.run(server.server.sessions.wait_until_empty(), timeout=60)


async def _check_tools(session: ClientSession) -> None:
    """Tools listed and called, results and errors mapped as the front promises."""
    listed = await session.list_tools()
    names = [tool.name for tool in listed.tools]
    assert names == ["add_note", "read_notes", "counter", "fail", "crash", "wait"]
    add_note = listed.tools[0]
    assert add_note.description == "Keep a note in this session; returns how many notes it holds."
    assert add_note.inputSchema["required"] == ["text"]
    assert add_note.outputSchema is not None

    added = await session.call_tool("add_note", {"text": "hello", "tags": ["x"]})
    assert not added.isError
    assert added.structuredContent == {"notes": 1}
    assert isinstance(added.content[0], TextContent)

    failed = await session.call_tool("fail", {"why": "the file is missing"})
    assert failed.isError
    assert failed.content == [TextContent(type="text", text="the file is missing")]

    with pytest.raises(McpError) as caught:
        await session.call_tool("nope", {})
    _check_error(caught.value, INVALID_PARAMS, "TOOL_NOT_FOUND")
    assert caught.value.error.data["metadata"] == {"tool": "nope"}

    with pytest.raises(McpError) as caught:
        await session.call_tool("add_note", {"tags": "not a list"})
    _check_error(caught.value, INVALID_PARAMS, "INVALID_TOOL_ARGUMENTS")

    with pytest.raises(McpError) as caught:
        await session.call_tool("crash", {})
    _check_error(caught.value, INTERNAL_ERROR, "ENV_ERROR")
    assert "RuntimeError" in caught.value.error.message

    # The session went on through every failure.
    notes = await session.call_tool("read_notes", {})
    assert notes.structuredContent == {"result": ["hello #x"]}


def _check_error(error: McpError, code: int, reason: str) -> None:
    assert error.error.code == code
    assert error.error.message.startswith(f"{reason}: ")
    assert isinstance(error.error.data, dict)
    assert error.error.data["reason"] == reason


def test_stdio_front_lists_and_calls_tools_and_maps_errors(env_server: ServerThread) -> None:
    async def run() -> None:
        async with stdio_connection(env_server.address) as session:
            await _check_tools(session)

    asyncio.run(run())
    _wait_until_no_session(env_server)  # the connection's end closed its env session


def test_two_stdio_connections_get_two_env_sessions(env_server: ServerThread) -> None:
    async def run() -> None:
        async with (
            stdio_connection(env_server.address) as first,
            stdio_connection(env_server.address) as second,
        ):
            assert _open_sessions(env_server) == 2
            await first.call_tool("add_note", {"text": "first's"})
            assert (await second.call_tool("read_notes", {})).structuredContent == {"result": []}
            assert (await first.call_tool("read_notes", {})).structuredContent == {
                "result": ["first's"]
            }

    asyncio.run(run())
    _wait_until_no_session(env_server)


def test_http_front_lists_and_calls_tools_and_maps_errors(
    env_server: ServerThread, http_front: str
) -> None:
    async def run() -> None:
        async with http_connection(http_front) as session:
            await _check_tools(session)

    asyncio.run(run())
    _wait_until_no_session(env_server)  # the client's DELETE ended the env session


def test_two_http_connections_get_two_env_sessions(
    env_server: ServerThread, http_front: str
) -> None:
    async def run() -> None:
        async with http_connection(http_front) as first, http_connection(http_front) as second:
            assert _open_sessions(env_server) == 2
            await second.call_tool("add_note", {"text": "second's"})
            assert (await first.call_tool("read_notes", {})).structuredContent == {"result": []}

    asyncio.run(run())
    _wait_until_no_session(env_server)


def test_env_sessions_end_when_the_front_is_killed(env_server: ServerThread) -> None:
    """A front that dies leaves no env session behind: its streams break."""
    proc, url = start_http_front(env_server.address)
    open_while_connected: list[int] = []

    async def run() -> None:
        async with http_connection(url) as session:
            await session.call_tool("add_note", {"text": "x"})
            open_while_connected.append(_open_sessions(env_server))
            proc.kill()
            proc.wait(timeout=30)

    with contextlib.suppress(BaseException):  # the client's own end fails: its server is gone
        asyncio.run(run())
    assert open_while_connected == [1]
    _wait_until_no_session(env_server)


def test_an_unreachable_env_server_is_a_clear_failure() -> None:
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{bound.getsockname()[1]}"
        result = subprocess.run(
            [*CLI, "mcp", address], cwd=ROOT, input="", capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert f"openenv-grpc mcp: {address}: " in result.stderr
    assert result.stdout == ""


def test_the_tools_example_of_the_agents_doc_runs_as_shown(tmp_path: pathlib.Path) -> None:
    section = (ROOT / "docs" / "agents.md").read_text().split("## Tools", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "notes_env.py").write_text(example)
    served = Served(f"{tmp_path / 'notes_env.py'}:Notes")
    try:
        described = subprocess.run(
            [*CLI, "describe", served.address], capture_output=True, text=True, check=True
        )
        spec = json.loads(described.stdout)
        assert spec["capabilities"]["tools"]
        assert [tool["name"] for tool in spec["tools"]] == ["write", "read"]
        assert spec["tools"][1]["description"] == "Read the note of a title."

        async def run() -> None:
            async with stdio_connection(served.address) as session:
                written = await session.call_tool("write", {"title": "a", "text": "hi"})
                assert written.structuredContent == {"notes": 1}
                assert (await session.call_tool("read", {"title": "a"})).structuredContent == {
                    "result": "hi"
                }
                missing = await session.call_tool("read", {"title": "b"})
                assert missing.isError
                assert missing.content == [
                    TextContent(type="text", text="no note titled 'b'; the titles are ['a']")
                ]

        asyncio.run(run())
    finally:
        assert served.stop() == 0
