"""ListTools and CallTool over a real server: unary calls and StepStream, errors, timeouts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from openenv_grpc.codec import encode_value
from openenv_grpc.errors import EnvError, Reason
from openenv_grpc.status import DETAILS_KEY, from_details, from_proto
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import tools_pb2 as tp

from conftest import StartServer
from serverutil import ServerThread
from testenvs import CounterEnv
from toolenvs import FastMcpEnv, NotesEnv


@pytest.fixture
def released() -> Iterator[None]:
    """NotesEnv's `wait` tool held until the test releases it (at teardown at the latest)."""
    NotesEnv.waiting.clear()
    NotesEnv.released.clear()
    yield
    NotesEnv.released.set()


def _stub(server: ServerThread) -> Any:
    return pb_grpc.EnvServiceStub(grpc.insecure_channel(server.address))


def _session(stub: Any) -> str:
    return str(stub.Reset(pb.ResetRequest(new_session=pb.NewSession())).session_id)


def _call(stub: Any, session: str, name: str, arguments: Any = None, **extra: Any) -> Any:
    text = "" if arguments is None else json.dumps(arguments)
    request = tp.CallToolRequest(session_id=session, name=name, arguments_json=text, **extra)
    return stub.CallTool(request)


def _error(err: grpc.RpcError) -> EnvError:
    trailers = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
    return from_details(err.code().value[0], err.details() or "", trailers.get(DETAILS_KEY))  # type: ignore[attr-defined]


def test_describe_lists_the_tools_and_sets_the_capability(start_server: StartServer) -> None:
    described = _stub(start_server(NotesEnv)).Describe(pb.DescribeRequest())
    assert described.capabilities.tools
    names = [tool.name for tool in described.tools]
    assert names == ["add_note", "read_notes", "counter", "fail", "crash", "wait"]
    counter = described.tools[2]
    assert counter.description == "The counter's value: the sum of the actions stepped."
    assert json.loads(counter.input_schema_json) == {
        "properties": {},
        "title": "counter_valueArguments",
        "type": "object",
    }
    assert json.loads(counter.output_schema_json)["properties"]["result"]["type"] == "integer"
    plain = _stub(start_server(CounterEnv)).Describe(pb.DescribeRequest())
    assert not plain.capabilities.tools
    assert len(plain.tools) == 0


def test_list_tools_of_a_session_matches_describe(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    listed = stub.ListTools(tp.ListToolsRequest(session_id=_session(stub))).tools
    assert list(listed) == list(stub.Describe(pb.DescribeRequest()).tools)


def test_call_tool_returns_content_and_structured_result(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    session = _session(stub)
    added = _call(stub, session, "add_note", {"text": "hello", "tags": ["a", "b"]})
    assert json.loads(added.structured_content_json) == {"notes": 1}
    assert json.loads(added.content[0].text) == {"notes": 1}
    assert not added.is_error
    notes = _call(stub, session, "read_notes", {"order": "newest"})
    assert [item.text for item in notes.content] == ["hello #a #b"]
    assert json.loads(notes.structured_content_json) == {"result": ["hello #a #b"]}


def test_tools_see_steps_and_sessions_stay_apart(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    first, second = _session(stub), _session(stub)
    stub.Step(pb.StepRequest(session_id=first, action=_discrete(2)))
    _call(stub, first, "add_note", {"text": "only in the first"})
    assert json.loads(_call(stub, first, "counter").structured_content_json) == {"result": 2}
    assert json.loads(_call(stub, second, "counter").structured_content_json) == {"result": 0}
    assert _call(stub, second, "read_notes").structured_content_json == '{"result": []}'


def test_a_tool_error_is_an_is_error_result_and_the_session_goes_on(
    start_server: StartServer,
) -> None:
    stub = _stub(start_server(NotesEnv))
    session = _session(stub)
    failed = _call(stub, session, "fail", {"why": "no such file; list the directory first"})
    assert failed.is_error
    assert [item.text for item in failed.content] == ["no such file; list the directory first"]
    assert failed.structured_content_json == ""
    stub.Step(pb.StepRequest(session_id=session, action=_discrete(1)))


@pytest.mark.parametrize(
    ("name", "arguments", "reason", "metadata"),
    [
        ("nope", {}, Reason.TOOL_NOT_FOUND, {"tool": "nope"}),
        ("add_note", {}, Reason.INVALID_TOOL_ARGUMENTS, {"tool": "add_note", "fields": "text"}),
        (
            "read_notes",
            {"order": "sideways"},
            Reason.INVALID_TOOL_ARGUMENTS,
            {"tool": "read_notes", "fields": "order"},
        ),
        ("add_note", [1], Reason.INVALID_TOOL_ARGUMENTS, {"tool": "add_note", "fields": ""}),
    ],
)
def test_unknown_tools_and_bad_arguments_are_invalid_argument(
    start_server: StartServer, name: str, arguments: Any, reason: str, metadata: dict[str, str]
) -> None:
    stub = _stub(start_server(NotesEnv))
    session = _session(stub)
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, session, name, arguments)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    error = _error(caught.value)
    assert error.reason == reason
    assert error.metadata == metadata
    assert _call(stub, session, "counter").structured_content_json == '{"result": 0}'


def test_arguments_that_are_not_json_are_invalid_tool_arguments(
    start_server: StartServer,
) -> None:
    stub = _stub(start_server(NotesEnv))
    request = tp.CallToolRequest(session_id=_session(stub), name="add_note", arguments_json="{")
    with pytest.raises(grpc.RpcError) as caught:
        stub.CallTool(request)
    assert _error(caught.value).reason == Reason.INVALID_TOOL_ARGUMENTS


def test_a_crashing_tool_is_env_error_and_harms_no_session(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    session = _session(stub)
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, session, "crash")
    assert caught.value.code() == grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    error = _error(caught.value)
    assert error.reason == Reason.ENV_ERROR
    assert error.metadata["where"] == "tool"
    assert error.metadata["exception"] == "RuntimeError"
    stub.Step(pb.StepRequest(session_id=session, action=_discrete(1)))
    assert _call(stub, session, "counter").structured_content_json == '{"result": 1}'


def test_a_retried_call_with_its_request_id_runs_once(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    session = _session(stub)
    first = _call(stub, session, "add_note", {"text": "once"}, request_id="r1")
    again = _call(stub, session, "add_note", {"text": "once"}, request_id="r1")
    assert again == first
    assert json.loads(_call(stub, session, "read_notes").structured_content_json) == {
        "result": ["once"]
    }
    third = _call(stub, session, "add_note", {"text": "twice"}, request_id="r2")
    assert json.loads(third.structured_content_json) == {"notes": 2}


def test_another_principals_session_and_a_batched_session_are_refused(
    start_server: StartServer,
) -> None:
    stub = _stub(start_server(NotesEnv))
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, "no-such-session", "counter")
    assert _error(caught.value).reason == Reason.SESSION_NOT_FOUND
    batched = stub.ResetBatch(
        pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=2))
    ).session_id
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, batched, "counter")
    assert _error(caught.value).reason == Reason.WRONG_SESSION_KIND


def test_tool_calls_on_a_stream_keep_their_order_with_steps(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    requests = [
        pb.StepStreamRequest(reset_request=pb.ResetRequest(new_session=pb.NewSession())),
        pb.StepStreamRequest(step_request=pb.StepRequest(action=_discrete(2), step_index=1)),
        pb.StepStreamRequest(call_tool_request=tp.CallToolRequest(name="counter")),
        pb.StepStreamRequest(step_request=pb.StepRequest(action=_discrete(1), step_index=2)),
        pb.StepStreamRequest(call_tool_request=tp.CallToolRequest(name="counter")),
        pb.StepStreamRequest(list_tools_request=tp.ListToolsRequest()),
        pb.StepStreamRequest(call_tool_request=tp.CallToolRequest(name="nope")),
        pb.StepStreamRequest(
            call_tool_request=tp.CallToolRequest(name="fail", arguments_json='{"why": "w"}')
        ),
        pb.StepStreamRequest(step_request=pb.StepRequest(action=_discrete(1), step_index=3)),
        pb.StepStreamRequest(call_tool_request=tp.CallToolRequest(name="counter")),
    ]
    for seq, request in enumerate(requests, start=1):
        request.seq = seq
    responses = list(stub.StepStream(iter(requests)))
    assert [r.seq for r in responses] == list(range(1, len(requests) + 1))
    kinds = [r.WhichOneof("response") for r in responses]
    assert kinds == [
        "reset_response",
        "step_response",
        "call_tool_response",
        "step_response",
        "call_tool_response",
        "list_tools_response",
        "error",
        "call_tool_response",
        "step_response",
        "call_tool_response",
    ]
    counts = [
        json.loads(responses[i].call_tool_response.structured_content_json)["result"]
        for i in (2, 4, 9)
    ]
    assert counts == [2, 3, 4]
    assert len(responses[5].list_tools_response.tools) == 6
    assert from_proto(responses[6].error).reason == Reason.TOOL_NOT_FOUND
    assert responses[7].call_tool_response.is_error


def test_a_stream_names_only_its_own_session(start_server: StartServer) -> None:
    stub = _stub(start_server(NotesEnv))
    other = _session(stub)
    requests = [
        pb.StepStreamRequest(call_tool_request=tp.CallToolRequest(name="counter")),
        pb.StepStreamRequest(reset_request=pb.ResetRequest(new_session=pb.NewSession())),
        pb.StepStreamRequest(
            call_tool_request=tp.CallToolRequest(session_id=other, name="counter")
        ),
    ]
    responses = list(stub.StepStream(iter(requests)))
    assert from_proto(responses[0].error).reason == Reason.STREAM_NOT_BOUND
    assert from_proto(responses[2].error).reason == Reason.INVALID_REQUEST


def test_a_hanging_tool_holds_only_its_own_session(
    start_server: StartServer, released: None
) -> None:
    server = start_server(NotesEnv)
    stub = _stub(server)
    held = _session(stub)
    outcome: list[Any] = []
    caller = threading.Thread(target=lambda: outcome.append(_call(stub, held, "wait")))
    caller.start()
    assert NotesEnv.waiting.wait(timeout=30)
    # The server answers everyone else while the tool hangs.
    other = _session(stub)
    stub.Step(pb.StepRequest(session_id=other, action=_discrete(1)))
    assert _call(stub, other, "counter").structured_content_json == '{"result": 1}'
    assert stub.Describe(pb.DescribeRequest()).capabilities.tools
    # Its own session takes one call at a time.
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, held, "counter")
    assert _error(caught.value).reason == Reason.SESSION_BUSY
    NotesEnv.released.set()
    caller.join(timeout=30)
    assert [item.text for item in outcome[0].content] == ["released"]


def test_a_tool_past_the_step_timeout_closes_its_session_only(
    start_server: StartServer, released: None
) -> None:
    server = start_server(NotesEnv, step_timeout=0.2)
    stub = _stub(server)
    held, other = _session(stub), _session(stub)
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, held, "wait")
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
    error = _error(caught.value)
    assert error.reason == Reason.ENV_TIMEOUT
    assert error.metadata["where"] == "tool"
    with pytest.raises(grpc.RpcError) as caught:
        _call(stub, held, "counter")
    assert _error(caught.value).reason == Reason.SESSION_NOT_FOUND
    assert _call(stub, other, "counter").structured_content_json == '{"result": 0}'
    assert server.call(lambda: len(server.server.sessions)) == 1


def test_a_fastmcp_servers_tools_are_served_too(start_server: StartServer) -> None:
    stub = _stub(start_server(FastMcpEnv))
    described = stub.Describe(pb.DescribeRequest())
    assert [tool.name for tool in described.tools] == ["peek", "bump", "refuse", "later"]
    session = _session(stub)
    assert _call(stub, session, "bump", {"by": 3}).structured_content_json == '{"result": 3}'
    assert _call(stub, session, "peek").structured_content_json == '{"result": 3}'
    refused = _call(stub, session, "refuse", {"why": "no"})
    assert refused.is_error
    assert [item.text for item in refused.content] == ["no"]


def _discrete(value: int) -> pb.Value:
    return encode_value(value)
