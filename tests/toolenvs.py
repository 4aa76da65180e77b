"""Environments with MCP tools, whose behaviour the tool tests control and can predict."""

from __future__ import annotations

import threading
from typing import Any, Literal

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError as SdkToolError

from openenv_grpc.tools import ToolError, tool

from testenvs import CounterEnv


class NotesEnv(CounterEnv):
    """A CounterEnv with tools: notes kept per session, the counter, failures on demand.

    `wait` blocks until the test sets `released` (it sets `waiting` first, so
    the test knows the tool is running without sleeping).
    """

    name = "Notes"
    waiting = threading.Event()
    released = threading.Event()

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    @tool
    def add_note(self, text: str, tags: list[str] | None = None) -> dict[str, int]:
        """Keep a note in this session; returns how many notes it holds."""
        self.notes.append(text + "".join(f" #{tag}" for tag in tags or ()))
        return {"notes": len(self.notes)}

    @tool
    def read_notes(self, order: Literal["oldest", "newest"] = "oldest") -> list[str]:
        """The notes of this session."""
        return list(reversed(self.notes)) if order == "newest" else list(self.notes)

    @tool(name="counter", description="The counter's value: the sum of the actions stepped.")
    def counter_value(self) -> int:
        return self.count

    @tool
    def fail(self, why: str) -> str:
        """Fail the way a tool's caller should read: an is_error result."""
        raise ToolError(why)

    @tool
    def crash(self) -> str:
        """Fail as a bug of the env would."""
        raise RuntimeError("the crash tool crashed")

    @tool
    def wait(self) -> str:
        """Block until the test releases it."""
        type(self).waiting.set()
        if not type(self).released.wait(timeout=60):
            raise TimeoutError("the test never released the wait tool")
        return "released"


class FastMcpEnv(CounterEnv):
    """A CounterEnv that hands over a FastMCP server of the official MCP SDK (a server
    per env, so its tools reach the session's own env) and declares one tool itself."""

    name = "FastMcp"

    def __init__(self) -> None:
        super().__init__()
        self.mcp_server = FastMCP("counter-tools")
        server: Any = self.mcp_server

        @server.tool()
        def bump(by: int) -> int:
            """Add to the counter without a step."""
            self.count += by
            return self.count

        @server.tool()
        def refuse(why: str) -> str:
            """Refuse the way FastMCP tools do."""
            raise SdkToolError(why)

        @server.tool()
        async def later(text: str) -> str:
            """An async tool."""
            return text.upper()

    @tool
    def peek(self) -> int:
        """The counter, from a declared tool beside the server's."""
        return self.count
