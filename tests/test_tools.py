"""`tools.py`: tools declared with `@tool` or handed over as a FastMCP server, no transport."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, Literal

import pytest

from openenv_grpc.errors import Code, InvalidToolArguments, Reason, ToolNotFound
from openenv_grpc.tools import ToolError, ToolResult, call_tool, has_tools, list_tools, tool

from testenvs import CounterEnv
from toolenvs import FastMcpEnv, NotesEnv


class Hints(CounterEnv):
    """Every kind of hint a tool may use."""

    @tool
    def kinds(
        self,
        text: str,
        count: int,
        ratio: float = 0.5,
        flag: bool = False,
        tags: list[str] | None = None,
        weights: dict[str, float] | None = None,
        mode: Literal["fast", "slow"] = "fast",
    ) -> dict[str, object]:
        """Echo the arguments back.

        A second paragraph that stays in the description.
        """
        return {"text": text, "count": count, "mode": mode, "tags": tags or []}

    @tool(name="renamed.tool-1", description="Said here, not in a docstring.")
    def plain(self) -> str:
        return "plain"

    @tool
    def nothing_declared(self, value):  # type: ignore[no-untyped-def]  # no hints at all
        return value

    def not_a_tool(self) -> str:
        return "never listed"


def _spec(env: object, name: str) -> Any:
    return next(spec for spec in list_tools(env) if spec.name == name)


def test_input_schema_comes_from_the_hints() -> None:
    schema = _spec(Hints(), "kinds").input_schema
    props = schema["properties"]
    assert schema["type"] == "object"
    assert schema["required"] == ["text", "count"]
    assert props["text"]["type"] == "string"
    assert props["count"]["type"] == "integer"
    assert props["ratio"] == {"default": 0.5, "title": "Ratio", "type": "number"}
    assert props["flag"]["type"] == "boolean"
    assert props["flag"]["default"] is False
    assert {"items": {"type": "string"}, "type": "array"} in props["tags"]["anyOf"]
    assert {"type": "null"} in props["tags"]["anyOf"]
    assert props["tags"]["default"] is None
    dict_arm = {"additionalProperties": {"type": "number"}, "type": "object"}
    assert dict_arm in props["weights"]["anyOf"]
    assert props["mode"]["enum"] == ["fast", "slow"]
    assert props["mode"]["default"] == "fast"


def test_output_schema_comes_from_the_return_hint() -> None:
    env = Hints()
    assert _spec(env, "kinds").output_schema["type"] == "object"
    # A value that is not an object is wrapped as {"result": ...}, as MCP's SDK does.
    wrapped = _spec(env, "renamed.tool-1").output_schema
    assert wrapped["properties"]["result"]["type"] == "string"
    assert wrapped["required"] == ["result"]
    assert _spec(env, "nothing_declared").output_schema is None


def test_description_is_the_docstring_or_the_one_given() -> None:
    env = Hints()
    assert _spec(env, "kinds").description == (
        "Echo the arguments back.\n\nA second paragraph that stays in the description."
    )
    assert _spec(env, "renamed.tool-1").description == "Said here, not in a docstring."


def test_only_marked_methods_are_tools_in_their_order() -> None:
    assert [spec.name for spec in list_tools(Hints())] == [
        "kinds",
        "renamed.tool-1",
        "nothing_declared",
    ]
    assert has_tools(Hints())
    assert not has_tools(CounterEnv())
    assert list_tools(CounterEnv()) == []


def test_a_call_validates_and_converts_its_arguments() -> None:
    result = call_tool(Hints(), "kinds", {"text": "hi", "count": 3.0, "tags": ["a"]})
    assert result.structured == {"text": "hi", "count": 3, "mode": "fast", "tags": ["a"]}
    assert not result.is_error
    assert call_tool(Hints(), "renamed.tool-1", {}) == ToolResult(
        content=["plain"], structured={"result": "plain"}
    )


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({"count": 1}, "text"),
        ({"text": "x", "count": "many"}, "count"),
        ({"text": "x", "count": 1, "mode": "medium"}, "mode"),
        ({"text": "x", "count": 1, "tags": "a"}, "tags"),
        ({}, "text,count"),
    ],
)
def test_arguments_outside_the_schema_are_invalid_tool_arguments(
    arguments: dict[str, Any], fields: str
) -> None:
    with pytest.raises(InvalidToolArguments) as caught:
        call_tool(Hints(), "kinds", arguments)
    assert caught.value.code is Code.INVALID_ARGUMENT
    assert caught.value.reason == Reason.INVALID_TOOL_ARGUMENTS
    assert caught.value.metadata == {"tool": "kinds", "fields": fields}
    assert "ListTools" in caught.value.message


def test_a_message_names_fields_but_never_echoes_the_values_sent() -> None:
    with pytest.raises(InvalidToolArguments) as caught:
        call_tool(Hints(), "kinds", {"text": "x", "count": "secret-value-123"})
    assert "secret-value-123" not in caught.value.message
    assert "count" in caught.value.message


def test_an_unknown_tool_is_tool_not_found_listing_the_tools() -> None:
    with pytest.raises(ToolNotFound) as caught:
        call_tool(Hints(), "kind", {})
    assert caught.value.reason == Reason.TOOL_NOT_FOUND
    assert caught.value.metadata == {"tool": "kind"}
    assert "kinds, renamed.tool-1, nothing_declared" in caught.value.message


def test_tool_error_is_an_is_error_result_and_other_exceptions_propagate() -> None:
    env = NotesEnv()
    assert call_tool(env, "fail", {"why": "the file is missing; create it"}) == ToolResult(
        content=["the file is missing; create it"], is_error=True
    )
    with pytest.raises(RuntimeError, match="the crash tool crashed"):
        call_tool(env, "crash", {})


def test_tools_act_on_their_own_env_instance() -> None:
    first, second = NotesEnv(), NotesEnv()
    call_tool(first, "add_note", {"text": "one", "tags": ["x"]})
    assert call_tool(first, "read_notes", {}).structured == {"result": ["one #x"]}
    assert call_tool(second, "read_notes", {}).structured == {"result": []}


def test_an_async_tool_is_awaited_also_from_inside_a_running_loop() -> None:
    class Async(CounterEnv):
        @tool
        async def later(self, n: int) -> int:
            await asyncio.sleep(0)
            return n * 2

    assert call_tool(Async(), "later", {"n": 4}).structured == {"result": 8}

    async def on_a_loop() -> ToolResult:  # an env the operator runs inline
        return call_tool(Async(), "later", {"n": 5})

    assert asyncio.run(on_a_loop()).structured == {"result": 10}


def test_a_subclass_inherits_tools_and_may_override_them() -> None:
    class Child(NotesEnv):
        @tool
        def fail(self, why: str) -> str:
            """Never fails."""
            return why

        def crash(self) -> str:  # no longer a tool
            return "fine"

    names = [spec.name for spec in list_tools(Child())]
    assert "crash" not in names
    assert "add_note" in names
    assert call_tool(Child(), "fail", {"why": "ok"}).structured == {"result": "ok"}


def test_names_mcp_clients_would_refuse_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="MCP"):
        tool(name="has space")
    with pytest.raises(ValueError, match="MCP"):
        tool(name="x" * 129)


def test_two_tools_of_one_name_are_refused() -> None:
    class Twice(CounterEnv):
        @tool(name="same")
        def one(self) -> int:
            return 1

        @tool(name="same")
        def two(self) -> int:
            return 2

    with pytest.raises(ValueError, match="two tools named 'same'"):
        list_tools(Twice())


def test_a_fastmcp_server_hands_over_its_tools() -> None:
    env = FastMcpEnv()
    specs = {spec.name: spec for spec in list_tools(env)}
    assert list(specs) == ["peek", "bump", "refuse", "later"]
    assert specs["bump"].description == "Add to the counter without a step."
    assert specs["bump"].input_schema["required"] == ["by"]
    assert call_tool(env, "bump", {"by": 2}).structured == {"result": 2}
    assert call_tool(env, "peek", {}).structured == {"result": 2}
    assert call_tool(env, "later", {"text": "hi"}).structured == {"result": "HI"}
    refused = call_tool(env, "refuse", {"why": "not now"})
    assert refused.is_error
    assert refused.content == ["not now"]
    with pytest.raises(InvalidToolArguments):
        call_tool(env, "bump", {"by": "two"})
    with pytest.raises(ToolNotFound):
        call_tool(env, "nope", {})


def test_a_fastmcp_tool_that_crashes_raises_its_own_exception() -> None:
    env = FastMcpEnv()
    server: Any = env.mcp_server

    @server.tool()
    def broken() -> str:
        raise KeyError("inside the server")

    @server.tool()
    def ours() -> str:
        raise ToolError("our ToolError inside a FastMCP tool")

    with pytest.raises(KeyError, match="inside the server"):
        call_tool(env, "broken", {})
    assert call_tool(env, "ours", {}) == ToolResult(
        content=["our ToolError inside a FastMCP tool"], is_error=True
    )


def test_an_mcp_server_of_another_kind_is_refused() -> None:
    env = CounterEnv()
    env.mcp_server = object()  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="FastMCP"):
        list_tools(env)


def test_tools_py_loads_no_grpc_and_no_mcp_until_tools_are_described() -> None:
    code = (
        "import sys\n"
        "from openenv_grpc.tools import tool, ToolError\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('grpc', 'mcp')], 'loaded'\n"
        "import openenv_grpc.tools as t\n"
        "class E:\n"
        "    @tool\n"
        "    def f(self, x: int) -> int:\n"
        "        return x\n"
        "t.list_tools(E())\n"
        "assert 'mcp' in sys.modules and not [m for m in sys.modules if m.startswith('grpc')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
