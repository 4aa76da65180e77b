"""Tasksets: loading, OpenEnv's task API shape, and task selection over a real server.

Unit tests cover the TaskSet API (JSONL, rows, Parquet and `datasets` when
installed) and the selection rules; the rest drives a real server with the
generated stubs: Describe lists the tasksets, ListTasks pages through public
parts, resets pick tasks by id, index, seed or cursor (the cursor never moves
on a step), batched resets take a task per sub-env, and no hidden answer ever
reaches a client.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import grpc
import pytest

from openenv_grpc import codec, tasks
from openenv_grpc.errors import Code, Reason, TaskNotFound
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import tasks_pb2, values_pb2

from conftest import StartServer
from taskenvs import QUIZ, SECRET, QuizEnv, call_error
from testenvs import CounterEnv

Stub = pb_grpc.EnvServiceStub


# --- the TaskSet API -----------------------------------------------------------


def write_jsonl(path: pathlib.Path, rows: list[dict[str, object]]) -> pathlib.Path:
    path.write_text("".join(json.dumps(row) + "\n\n" for row in rows))  # blank lines skipped
    return path


def test_a_taskset_from_jsonl_has_openenvs_task_api(tmp_path: pathlib.Path) -> None:
    train = write_jsonl(
        tmp_path / "train.jsonl",
        [{"id": "a", "prompt": "p-a", "answer": 1}, {"prompt": "p-b", "answer": 2}],
    )
    dev = write_jsonl(tmp_path / "dev.jsonl", [{"prompt": "p-c", "answer": 3}])
    taskset = tasks.TaskSet.from_jsonl("mini", {"train": train, "dev": dev})
    assert taskset.list_splits() == [
        tasks.SplitInfo("train", "train", 2, True),
        tasks.SplitInfo("dev", "validation", 1, False),
    ]
    assert taskset.num_tasks("train") == 2
    assert taskset.num_tasks("dev") == 1
    second = taskset.get_task("train", 1)
    assert second.id == "mini/train/1"  # rows without ids get one from their place
    assert (second.taskset, second.split, second.index, second.prompt) == (
        "mini",
        "train",
        1,
        "p-b",
    )
    assert second.public == {"prompt": "p-b"}
    assert second.secret == {"answer": 2}
    assert [t.id for t in taskset.get_task_range("train", 0, 5)] == ["a", "mini/train/1"]
    assert taskset.get_task_range("train", 1) == [second]
    assert taskset.find("a") is taskset.get_task("train", 0)
    assert taskset.find("nope") is None
    assert taskset.sources == (str(train.resolve()), str(dev.resolve()))
    with pytest.raises(TaskNotFound) as caught:
        taskset.get_task("train", 2)
    assert caught.value.reason == Reason.TASK_NOT_FOUND
    assert caught.value.metadata == {
        "taskset": "mini",
        "split": "train",
        "index": "2",
        "num_tasks": "2",
    }
    with pytest.raises(TaskNotFound, match="no split 'test'"):
        taskset.num_tasks("test")


def test_a_taskset_refuses_what_it_cannot_serve(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="two tasks with id 'x'"):
        tasks.TaskSet("t", {"train": [{"id": "x"}], "test": [{"id": "x"}]})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n{not json\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not JSON"):
        tasks.TaskSet.from_jsonl("t", {"train": bad})
    bad.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="a task is a JSON object"):
        tasks.TaskSet.from_jsonl("t", {"train": bad})
    with pytest.raises(ValueError, match="has no split 'dev'"):
        tasks.TaskSet("t", {"train": []}, default_split="dev")
    twice = type(
        "Twice", (), {"tasksets": (QUIZ, tasks.TaskSet("again", {"x": [{"id": "train-0"}]}))}
    )
    with pytest.raises(ValueError, match="task id 'train-0' is in tasksets 'quiz' and 'again'"):
        tasks.tasksets_of(twice)


def test_a_taskset_from_parquet(tmp_path: pathlib.Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "p1", "prompt": "x", "answer": "y"}]), path)
    taskset = tasks.TaskSet.from_parquet("pq", {"train": path})
    assert taskset.get_task("train", 0).public == {"id": "p1", "prompt": "x"}


def test_a_taskset_from_a_local_datasets_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    rows = {"prompt": ["a", "b"], "answer": ["1", "2"]}
    both = datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict(rows), "test": datasets.Dataset.from_dict(rows)}
    )
    taskset = tasks.TaskSet.from_dataset("hf", both)
    assert [s.name for s in taskset.list_splits()] == ["train", "test"]
    assert taskset.get_task("test", 1).public == {"prompt": "b"}
    single = tasks.TaskSet.from_dataset("one", datasets.Dataset.from_dict(rows), split="eval")
    assert single.default_split == "eval"
    assert single.num_tasks() == 2


def test_selection_by_id_index_seed_and_cursor() -> None:
    env = QuizEnv()
    assert tasks.select(env, tasks.TaskSelector(task_id="test-2")).id == "test-2"
    assert tasks.select(env, tasks.TaskSelector(split="test", index=1)).id == "test-1"
    assert tasks.select(env, tasks.TaskSelector(split="train", seed=23)).id == "train-2"  # 23 % 7
    assert tasks.select(env, tasks.TaskSelector(taskset="extra")).id == "eval-0"
    picked = [tasks.select(env, tasks.TaskSelector(split="test")).id for _ in range(4)]
    assert picked == ["test-0", "test-1", "test-2", "test-0"]  # wraps around
    assert [tasks.pick(env).id for _ in range(2)] == ["train-0", "train-1"]  # the default split
    assert tasks.current(env) == QUIZ.get_task("train", 1)
    assert tasks.TaskSelector(split="s", index=2, seed=5).shifted(3) == tasks.TaskSelector(
        split="s", index=5, seed=8
    )
    for selector, facts in (
        (tasks.TaskSelector(task_id="nope"), {"task_id": "nope"}),
        (tasks.TaskSelector(taskset="nope"), {"taskset": "nope"}),
        (tasks.TaskSelector(taskset="quiz", task_id="eval-0"), {"taskset": "quiz"}),
        (tasks.TaskSelector(split="test", index=3), {"index": "3", "num_tasks": "3"}),
    ):
        with pytest.raises(TaskNotFound) as caught:
            tasks.select(env, selector)
        assert facts.items() <= caught.value.metadata.items()
    with pytest.raises(TaskNotFound, match="declares no tasksets"):
        tasks.pick(CounterEnv(), "x")


# --- over a real server ----------------------------------------------------------


@pytest.fixture
def stub(start_server: StartServer) -> Iterator[Stub]:
    server = start_server(QuizEnv)
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.EnvServiceStub(channel)


def text(value: str) -> values_pb2.Value:
    return values_pb2.Value(string_value=value)


def new_reset(**selector: object) -> pb.ResetRequest:
    return pb.ResetRequest(new_session=pb.NewSession(), task=tasks_pb2.TaskSelector(**selector))


def test_describe_lists_the_tasksets_with_their_splits_and_sizes(stub: Stub) -> None:
    described = stub.Describe(pb.DescribeRequest())
    assert [(t.name, t.description, t.default_split) for t in described.tasksets] == [
        ("quiz", "Questions whose answers are secrets.", "train"),
        ("extra", "", "eval"),
    ]
    assert [(s.name, s.type, s.num_tasks) for s in described.tasksets[0].splits] == [
        ("train", "train", 7),
        ("test", "test", 3),
    ]


def test_list_tasks_pages_through_a_split_public_parts_only(stub: Stub) -> None:
    seen: list[str] = []
    start = 0
    while True:
        page = stub.ListTasks(tasks_pb2.ListTasksRequest(split="train", start=start, page_size=3))
        assert page.num_tasks == 7
        seen += [task.id for task in page.tasks]
        first = page.tasks[0]
        assert (first.taskset, first.split, first.index) == ("quiz", "train", start)
        assert codec.decode_map(first.fields) == {
            "id": f"train-{start}",
            "prompt": f"question {start} of train",
            "level": start % 3,
        }
        start = page.next_start
        if start == page.num_tasks:
            break
    assert seen == [f"train-{i}" for i in range(7)]
    default = stub.ListTasks(tasks_pb2.ListTasksRequest(taskset="extra"))
    assert [t.id for t in default.tasks] == ["eval-0", "eval-1"]
    assert default.next_start == 2
    past = stub.ListTasks(tasks_pb2.ListTasksRequest(split="test", start=9))
    assert not past.tasks
    assert past.next_start == 3
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListTasks(tasks_pb2.ListTasksRequest(split="nope"))
    error = call_error(caught.value)
    assert (error.code, error.reason) == (Code.NOT_FOUND, Reason.TASK_NOT_FOUND)
    assert error.metadata == {"taskset": "quiz", "split": "nope"}
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListTasks(tasks_pb2.ListTasksRequest(start=-1))
    assert call_error(caught.value).reason == Reason.INVALID_REQUEST


def started(reply: pb.ResetResponse) -> str:
    return str(codec.decode_map(reply.info)["task_id"])


def test_resets_pick_tasks_by_id_index_seed_or_cursor(stub: Stub) -> None:
    assert started(stub.Reset(new_reset(task_id="test-1"))) == "test-1"
    assert started(stub.Reset(new_reset(split="test", index=2))) == "test-2"
    assert started(stub.Reset(new_reset(split="train", seed=10))) == "train-3"
    assert started(stub.Reset(new_reset(taskset="extra", index=1))) == "eval-1"
    legacy = stub.Reset(pb.ResetRequest(new_session=pb.NewSession(), task_id="train-4"))
    assert started(legacy) == "train-4"
    # The cursor: one per env instance and split, moved by resets, never by steps.
    first = stub.Reset(new_reset(split="test"))
    session = first.session_id
    order = [started(first)]
    for _ in range(3):
        for index in (1, 2):
            step = pb.StepRequest(session_id=session, action=text("no idea"), step_index=index)
            assert stub.Step(step).observation.string_value == "wrong"
        reset = pb.ResetRequest(session_id=session, task=tasks_pb2.TaskSelector(split="test"))
        order.append(started(stub.Reset(reset)))
    assert order == ["test-0", "test-1", "test-2", "test-0"]
    # A reset that names no task lets the env choose: the next of its default split.
    plain = [started(stub.Reset(pb.ResetRequest(session_id=session))) for _ in range(2)]
    assert plain == ["train-0", "train-1"]
    # A repeated reset (same request id) is answered from memory: the cursor stays.
    again = pb.ResetRequest(
        session_id=session, request_id="r1", task=tasks_pb2.TaskSelector(split="train")
    )
    assert started(stub.Reset(again)) == "train-2"
    assert started(stub.Reset(again)) == "train-2"
    assert started(stub.Reset(pb.ResetRequest(session_id=session))) == "train-3"


def test_a_task_the_env_does_not_have_is_task_not_found(stub: Stub) -> None:
    for request in (
        new_reset(task_id="nope"),
        new_reset(split="valid"),
        new_reset(split="test", index=3),
        new_reset(taskset="nope"),
        pb.ResetRequest(new_session=pb.NewSession(), task_id="nope"),  # the env's own pick
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.Reset(request)
        error = call_error(caught.value)
        assert (error.code, error.reason) == (Code.NOT_FOUND, Reason.TASK_NOT_FOUND), request
    both = new_reset(task_id="test-1")
    both.task_id = "test-2"
    with pytest.raises(grpc.RpcError) as caught:
        stub.Reset(both)
    assert call_error(caught.value).reason == Reason.INVALID_REQUEST
    # On a stream the same failure comes in-band, and the stream goes on.
    answers = list(
        stub.StepStream(
            iter(
                [
                    pb.StepStreamRequest(seq=1, reset_request=new_reset(split="nope")),
                    pb.StepStreamRequest(seq=2, reset_request=new_reset(split="test", index=0)),
                ]
            )
        )
    )
    assert answers[0].error.code == Code.NOT_FOUND
    assert started(answers[1].reset_response) == "test-0"


def test_a_batched_reset_takes_a_task_per_sub_env(stub: Stub) -> None:
    own = stub.ResetBatch(
        pb.ResetBatchRequest(
            new_session=pb.NewBatchSession(num_envs=3),
            sub_envs=[
                pb.SubEnvReset(task=tasks_pb2.TaskSelector(task_id="test-2")),
                pb.SubEnvReset(task=tasks_pb2.TaskSelector(split="train", seed=9)),
                pb.SubEnvReset(task_id="eval-1"),
            ],
        )
    )
    assert [codec.decode_map(info)["task_id"] for info in own.infos] == [
        "test-2",
        "train-2",
        "eval-1",
    ]
    shared = stub.ResetBatch(
        pb.ResetBatchRequest(
            session_id=own.session_id,
            all=pb.SubEnvReset(task=tasks_pb2.TaskSelector(split="train", index=4)),
        )
    )
    assert [codec.decode_map(i)["task_id"] for i in shared.infos] == [
        "train-4",
        "train-5",
        "train-6",
    ]
    cursors = stub.ResetBatch(
        pb.ResetBatchRequest(
            session_id=own.session_id,
            env_ids=[0, 2],
            all=pb.SubEnvReset(task=tasks_pb2.TaskSelector(split="test")),
        )
    )
    assert [codec.decode_map(i)["task_id"] for i in cursors.infos] == ["test-0", "test-0"]
    with pytest.raises(grpc.RpcError) as caught:
        stub.ResetBatch(
            pb.ResetBatchRequest(
                session_id=own.session_id,
                all=pb.SubEnvReset(task=tasks_pb2.TaskSelector(split="train", index=5)),
            )
        )
    assert call_error(caught.value).reason == Reason.TASK_NOT_FOUND  # sub-env 2 needs index 7


def test_no_answer_ever_reaches_a_client(stub: Stub) -> None:
    received: list[bytes] = [stub.Describe(pb.DescribeRequest()).SerializeToString()]
    for taskset, split in (("quiz", "train"), ("quiz", "test"), ("extra", "eval")):
        page = stub.ListTasks(tasks_pb2.ListTasksRequest(taskset=taskset, split=split))
        received.append(page.SerializeToString())
    for task in QUIZ.get_task_range("train"):
        reply = stub.Reset(new_reset(task_id=task.id))
        received.append(reply.SerializeToString())
        step = pb.StepRequest(session_id=reply.session_id, action=text("a guess"), step_index=1)
        received.append(stub.Step(step).SerializeToString())
        state = stub.State(pb.StateRequest(session_id=reply.session_id))
        received.append(state.SerializeToString())
        # The env itself reads the answer: the right one scores.
        right = pb.StepRequest(
            session_id=reply.session_id, action=text(str(task.get("answer"))), step_index=2
        )
        assert stub.Step(right).reward == 1.0
    assert received
    assert not [data for data in received if SECRET.encode() in data]


def test_an_env_without_tasksets_gets_task_ids_as_they_are(start_server: StartServer) -> None:
    server = start_server(CounterEnv)
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        assert not stub.Describe(pb.DescribeRequest()).tasksets
        reply = stub.Reset(new_reset(task_id="hard"))
        assert codec.decode_map(reply.info)["task_id"] == "hard"
        with pytest.raises(grpc.RpcError) as caught:
            stub.Reset(new_reset(split="train", index=0))
        assert call_error(caught.value).reason == Reason.TASK_NOT_FOUND
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListTasks(tasks_pb2.ListTasksRequest())
        assert call_error(caught.value).reason == Reason.TASK_NOT_FOUND
