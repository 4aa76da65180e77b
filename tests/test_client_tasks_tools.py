"""The Python clients' tasks and tools over a real server, on both faces: ListTasks pages,
task selectors on resets (unary, stream, batched, RemoteEnv), ListTools and CallTool."""

from __future__ import annotations

import asyncio

import pytest

from openenv_grpc import AsyncEnvClient, EnvClient, RemoteEnv
from openenv_grpc.errors import InvalidArgument, NotFound, Reason
from openenv_grpc.tasks import TaskSelector
from openenv_grpc.tools import ToolResult

from conftest import StartServer
from taskenvs import SECRET, QuizEnv
from toolenvs import NotesEnv


def test_describe_and_list_tasks_page_through_a_split(start_server: StartServer) -> None:
    with EnvClient(start_server(QuizEnv).address) as client:
        [quiz, extra] = client.spec.tasksets
        assert (quiz.name, quiz.default_split) == ("quiz", "train")
        assert [(s.name, s.num_tasks) for s in quiz.splits] == [("train", 7), ("test", 3)]
        assert extra.default_split == "eval"
        pages, start = [], 0
        while True:
            page = client.list_tasks(split="train", start=start, page_size=3)
            pages.append([task.id for task in page.tasks])
            start = page.next_start
            if page.last:
                break
        assert pages == [
            ["train-0", "train-1", "train-2"],
            ["train-3", "train-4", "train-5"],
            ["train-6"],
        ]
        first = client.list_tasks(taskset="extra").tasks[0]
        assert (first.taskset, first.split, first.index) == ("extra", "eval", 0)
        assert first.fields == {"id": "eval-0", "prompt": "question 0 of eval", "level": 0}
        assert SECRET not in repr(client.list_tasks(split="test"))
        with pytest.raises(NotFound):
            client.list_tasks(split="nope")


def test_resets_choose_tasks_by_id_index_seed_or_cursor(start_server: StartServer) -> None:
    with EnvClient(start_server(QuizEnv).address) as client, client.stream() as stream:
        assert stream.reset(task="test-2").info["task_id"] == "test-2"
        assert stream.reset(task={"split": "test", "index": 1}).observation == (
            "question 1 of test"
        )
        assert stream.reset(task=TaskSelector(split="train", seed=23)).info["task_id"] == "train-2"
        cursor = [stream.reset(task=TaskSelector(split="test")).info["task_id"] for _ in range(2)]
        assert cursor == ["test-0", "test-1"]
        assert stream.step(f"{SECRET}-test-1").reward == 1.0
        unary = client.reset(task={"taskset": "extra", "index": 1})
        assert unary.info["task_id"] == "eval-1"
        again = client.reset(session_id=unary.session_id, task="train-6")
        assert again.observation == "question 6 of train"
        with pytest.raises(NotFound) as raised:
            client.reset(task={"split": "test", "index": 3})
        assert raised.value.reason == Reason.TASK_NOT_FOUND
        assert raised.value.metadata["num_tasks"] == "3"
        with pytest.raises(ValueError, match="one of task_id, index and seed"):
            stream.reset(task={"split": "test", "index": 0, "seed": 1})
        with pytest.raises(ValueError, match="has no"):
            stream.reset(task={"level": 2})


def test_batched_resets_take_a_task_for_all_or_one_each(start_server: StartServer) -> None:
    with EnvClient(start_server(QuizEnv).address) as client, client.stream() as stream:
        shared = stream.reset_batch(3, task={"split": "train", "index": 4})
        assert [info["task_id"] for info in shared.infos] == ["train-4", "train-5", "train-6"]
        each = stream.reset_batch(tasks=["test-2", {"split": "train", "seed": 9}, None])
        assert [info["task_id"] for info in each.infos][:2] == ["test-2", "train-2"]
        unary = client.reset_batch(2, tasks=[TaskSelector(taskset="extra", index=1), "test-0"])
        assert [info["task_id"] for info in unary.infos] == ["eval-1", "test-0"]


def test_remote_env_takes_the_task_in_reset_options(start_server: StartServer) -> None:
    env = RemoteEnv(start_server(QuizEnv).address)
    try:
        observation, info = env.reset(options={"task": {"split": "test", "index": 2}})
        assert (observation, info["task_id"]) == ("question 2 of test", "test-2")
        assert env.reset(options={"task": "eval-0"})[1]["task_id"] == "eval-0"
        assert env.step(f"{SECRET}-eval-0")[1] == 1.0
    finally:
        env.close()


def test_the_async_face_lists_tasks_and_chooses_them(start_server: StartServer) -> None:
    address = start_server(QuizEnv).address

    async def scenario() -> tuple[list[str], str, str]:
        async with AsyncEnvClient(address) as client:
            page = await client.list_tasks(split="test")
            async with await client.stream() as stream:
                reply = await stream.reset(task={"split": "test", "seed": 4})
            unary = await client.reset(task=page.tasks[2].id)
            return [task.id for task in page.tasks], reply.info["task_id"], unary.observation

    assert asyncio.run(scenario()) == (
        ["test-0", "test-1", "test-2"],
        "test-1",
        "question 2 of test",
    )


def test_stream_sessions_list_and_call_tools_in_order_with_steps(
    start_server: StartServer,
) -> None:
    with EnvClient(start_server(NotesEnv).address) as client, client.stream() as stream:
        assert [tool.name for tool in client.spec.tools][:3] == [
            "add_note",
            "read_notes",
            "counter",
        ]
        stream.reset()
        tools = stream.list_tools()
        assert tools == list(client.spec.tools)
        assert tools[0].input_schema["properties"]["text"]["type"] == "string"
        added = stream.call_tool("add_note", {"text": "hi", "tags": ["a"]})
        assert isinstance(added, ToolResult)
        assert (added.structured, added.is_error, len(added.content)) == ({"notes": 1}, False, 1)
        stream.step(2)
        assert stream.call_tool("counter").structured == {"result": 2}
        failed = stream.call_tool("fail", {"why": "no such file"})
        assert failed.is_error
        assert failed.content == ["no such file"]
        with pytest.raises(InvalidArgument) as raised:
            stream.call_tool("nope")
        assert raised.value.reason == Reason.TOOL_NOT_FOUND
        assert stream.call_tool("read_notes").structured == {"result": ["hi #a"]}  # goes on


def test_unary_tool_calls_name_the_session_on_both_faces(start_server: StartServer) -> None:
    address = start_server(NotesEnv).address
    with EnvClient(address) as client:
        session = client.reset().session_id
        assert client.call_tool(session, "add_note", {"text": "x"}).structured == {"notes": 1}
        assert [tool.name for tool in client.list_tools(session)] == [
            tool.name for tool in client.spec.tools
        ]
        # the same request id again: the first call's answer, the note not added twice
        first = client.call_tool(session, "add_note", {"text": "y"}, request_id="r1")
        assert client.call_tool(session, "add_note", {"text": "y"}, request_id="r1") == first
        assert client.call_tool(session, "read_notes").structured == {"result": ["x", "y"]}

    async def scenario() -> tuple[object, list[str]]:
        async with AsyncEnvClient(address) as client:
            session = (await client.reset()).session_id
            await client.call_tool(session, "add_note", {"text": "z"})
            notes = await client.call_tool(session, "read_notes", {"order": "newest"})
            return notes.structured, [tool.name for tool in await client.list_tools(session)]

    structured, names = asyncio.run(scenario())
    assert structured == {"result": ["z"]}
    assert "wait" in names
