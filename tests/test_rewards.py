"""External rewards: `--reward module:function` and `--reward-service ADDR`, for real.

Servers run in-process on loopback with a hook from tests/taskenvs.py, or with a
real RewardService (grpc.aio, loopback) started by the test. Checked: the
hook's reward replaces the env's and its components are merged in; the hook
sees the task with its hidden answer; a hook that raises, hangs or returns
garbage fails that step with REWARD_ERROR and nothing else (the server and
other sessions go on, a repeat of the step index scores again without a
second env step); batched steps are scored per sub-env; the hook's latency is
on the env.step span.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openenv_grpc import codec, tensors
from openenv_grpc.cli import main
from openenv_grpc.errors import Code, Reason
from openenv_grpc.server import ServerConfig
from openenv_grpc.telemetry import Telemetry
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import rewards_pb2, rewards_pb2_grpc, tasks_pb2, values_pb2

import taskenvs
from conftest import StartServer
from serverutil import ServerThread
from taskenvs import QuizEnv, call_error

Stub = pb_grpc.EnvServiceStub


@pytest.fixture(autouse=True)
def _fresh_hooks() -> Iterator[None]:
    taskenvs.SEEN.clear()
    taskenvs.FAIL.clear()
    taskenvs.RELEASE.clear()
    yield
    taskenvs.RELEASE.set()  # no hook thread outlives its test


def serve(start_server: StartServer, **config: Any) -> Stub:
    server = start_server(QuizEnv, **config)
    channel = grpc.insecure_channel(server.address)
    return pb_grpc.EnvServiceStub(channel)


def text(value: str) -> values_pb2.Value:
    return values_pb2.Value(string_value=value)


def quiz(stub: Stub, task_id: str = "train-1") -> str:
    reset = pb.ResetRequest(
        new_session=pb.NewSession(), task=tasks_pb2.TaskSelector(task_id=task_id)
    )
    return str(stub.Reset(reset).session_id)


def step(stub: Stub, session: str, action: str, index: int) -> pb.StepResponse:
    return stub.Step(pb.StepRequest(session_id=session, action=text(action), step_index=index))


def test_a_float_hook_replaces_the_reward_and_adds_a_component(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:length")
    session = quiz(stub)
    reply = step(stub, session, "four", 1)
    assert reply.reward == 4.0
    assert dict(reply.reward_components) == {"correct": 0.0, "external": 4.0}
    [event] = taskenvs.SEEN
    assert (event.env_name, event.session_id, event.step_index, event.env_id) == (
        "Quiz",
        session,
        1,
        0,
    )
    assert event.action == "four"
    assert event.observation == "wrong"
    assert (event.reward, event.reward_components) == (0.0, {"correct": 0.0})
    assert event.info == {"task_id": "train-1"}
    assert event.task is not None
    assert event.task.id == "train-1"


@pytest.mark.parametrize("hook", ["taskenvs:graded", "taskenvs:graded_async"])
def test_a_components_hook_sees_the_hidden_answer(start_server: StartServer, hook: str) -> None:
    stub = serve(start_server, reward=hook)
    session = quiz(stub, "test-2")
    wrong = step(stub, session, "a guess", 1)
    assert wrong.reward == 0.5
    assert dict(wrong.reward_components) == {"correct": 0.0, "format": 0.5}
    right = step(stub, session, f"{taskenvs.SECRET}-test-2", 2)
    assert right.reward == 2.5
    assert right.terminated
    assert dict(right.reward_components) == {"correct": 2.0, "format": 0.5}


def test_a_hook_that_raises_fails_the_step_and_a_repeat_scores_it_again(
    start_server: StartServer,
) -> None:
    stub = serve(start_server, reward="taskenvs:flaky")
    session = quiz(stub)
    before = QuizEnv.steps
    taskenvs.FAIL.set()
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, session, "x", 1)
    error = call_error(caught.value)
    assert (error.code, error.reason) == (Code.INTERNAL, Reason.REWARD_ERROR)
    assert error.metadata == {"hook": "taskenvs:flaky", "why": "raised"}
    assert "RuntimeError: the grader is down" in error.message
    assert "repeat its step_index" in error.message
    taskenvs.FAIL.clear()
    assert step(stub, session, "x", 1).reward == 0.25  # the same step, scored now
    assert step(stub, session, "x", 1).reward == 0.25  # and answered from memory
    assert len(taskenvs.SEEN) == 1
    assert QuizEnv.steps == before + 1  # the env stepped once
    assert step(stub, session, "x", 2).reward == 0.25


def test_a_hook_past_its_timeout_fails_only_its_step(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:hangs", reward_timeout=0.3)
    session = quiz(stub)
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, session, "x", 1)
    error = call_error(caught.value)
    assert error.reason == Reason.REWARD_ERROR
    assert error.metadata["why"] == "timeout"
    # The hung call holds a thread of its own: other sessions reset and describe at once.
    assert stub.Describe(pb.DescribeRequest()).env_name == "Quiz"
    other = quiz(stub, "test-0")
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, other, "y", 1)
    assert call_error(caught.value).reason == Reason.REWARD_ERROR
    taskenvs.RELEASE.set()
    assert step(stub, other, "y", 1).reward == 1.0  # the hook answers once released


def test_a_hook_that_returns_no_reward_is_a_reward_error(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:malformed")
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, quiz(stub), "x", 1)
    error = call_error(caught.value)
    assert error.reason == Reason.REWARD_ERROR
    assert error.metadata["why"] == "malformed"
    assert "returned str 'very good'" in error.message


def test_a_stream_gets_the_hooks_reward_and_its_errors_in_band(
    start_server: StartServer,
) -> None:
    stub = serve(start_server, reward="taskenvs:flaky")
    reset = pb.ResetRequest(new_session=pb.NewSession(), task=tasks_pb2.TaskSelector(index=0))
    requests = [
        pb.StepStreamRequest(seq=1, reset_request=reset),
        pb.StepStreamRequest(seq=2, step_request=pb.StepRequest(action=text("a"), step_index=1)),
    ]
    answers = list(stub.StepStream(iter(requests)))
    assert answers[1].step_response.reward == 0.25
    assert dict(answers[1].step_response.reward_components)["external"] == 0.25


def batch_step(stub: Stub, session: str, actions: list[str], index: int) -> pb.StepBatchResponse:
    value = codec.encode_value(tuple(actions))
    return stub.StepBatch(pb.StepBatchRequest(session_id=session, actions=value, step_index=index))


def test_batched_steps_are_scored_per_sub_env(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:graded")
    reset = stub.ResetBatch(
        pb.ResetBatchRequest(
            new_session=pb.NewBatchSession(num_envs=3),
            all=pb.SubEnvReset(task=tasks_pb2.TaskSelector(split="test", index=0)),
        )
    )
    actions = [f"{taskenvs.SECRET}-test-0", "nope", f"{taskenvs.SECRET}-test-2"]
    reply = batch_step(stub, reset.session_id, actions, 1)
    np.testing.assert_array_equal(tensors.decode_tensor(reply.rewards), [2.5, 0.5, 2.5])
    assert tensors.decode_tensor(reply.reward_components["format"]).tolist() == [0.5] * 3
    assert tensors.decode_tensor(reply.reward_components["correct"]).tolist() == [2.0, 0, 2.0]
    assert sorted(e.task.id for e in taskenvs.SEEN if e.task) == ["test-0", "test-1", "test-2"]
    # Sub-envs 0 and 2 ended; the next step resets them (NEXT_STEP), unscored.
    taskenvs.SEEN.clear()
    again = batch_step(stub, reset.session_id, ["a", "b", "c"], 2)
    np.testing.assert_array_equal(tensors.decode_tensor(again.rewards), [0.0, 0.5, 0.0])
    assert [e.env_id for e in taskenvs.SEEN] == [1]


def test_one_sub_envs_hook_failure_is_its_own_error(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:fails_for_sub_env_1")
    reset = stub.ResetBatch(pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=3)))
    reply = batch_step(stub, reset.session_id, ["a", "b", "c"], 1)
    assert list(reply.env_ids) == [0, 2]
    np.testing.assert_array_equal(tensors.decode_tensor(reply.rewards), [10.0, 12.0])
    [failure] = reply.sub_env_errors
    assert failure.env_id == 1
    assert failure.status.code == Code.INTERNAL
    assert "ValueError: no grade for sub-env 1" in failure.status.message


class Grader(rewards_pb2_grpc.RewardServiceServicer):
    """A RewardService: 3 for the right answer, else 1; `fail` turns it into errors."""

    def __init__(self) -> None:
        self.requests: list[rewards_pb2.ScoreStepRequest] = []
        self.fail = False
        self.plain = False  # a reward without components

    async def ScoreStep(
        self, request: rewards_pb2.ScoreStepRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rewards_pb2.ScoreStepResponse:
        if self.fail:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "grader restarting")
        self.requests.append(request)
        hidden = codec.decode_map(request.hidden_fields)
        right = codec.decode_value(request.action) == hidden["answer"]
        if self.plain:
            return rewards_pb2.ScoreStepResponse(reward=7.0)
        return rewards_pb2.ScoreStepResponse(
            reward=3.0 if right else 1.0, components={"judge": 3.0 if right else 1.0}
        )


@pytest.fixture
def grader() -> Iterator[tuple[Grader, str]]:
    """A RewardService on a loopback port, on a loop thread of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servicer = Grader()

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        rewards_pb2_grpc.add_RewardServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    yield servicer, f"127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    loop.close()


def test_a_reward_service_scores_steps(
    start_server: StartServer, grader: tuple[Grader, str]
) -> None:
    servicer, address = grader
    stub = serve(start_server, reward_service=address)
    session = quiz(stub, "train-5")
    assert step(stub, session, "guess", 1).reward == 1.0
    right = step(stub, session, f"{taskenvs.SECRET}-train-5", 2)
    assert right.reward == 3.0
    assert dict(right.reward_components) == {"correct": 1.0, "judge": 3.0}
    request = servicer.requests[-1]
    assert (request.env_name, request.session_id, request.step_index) == ("Quiz", session, 2)
    assert request.task.id == "train-5"
    assert request.task.split == "train"
    assert "answer" not in codec.decode_map(request.task.fields)  # the public part ...
    assert codec.decode_map(request.hidden_fields) == {"answer": f"{taskenvs.SECRET}-train-5"}
    assert (request.reward, dict(request.reward_components)) == (1.0, {"correct": 1.0})
    assert request.terminated
    assert codec.decode_map(request.info) == {"task_id": "train-5"}
    servicer.plain = True
    plain = step(stub, quiz(stub), "x", 1)
    assert plain.reward == 7.0
    assert dict(plain.reward_components) == {"correct": 0, "external": 7}
    servicer.fail = True
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, quiz(stub), "x", 1)
    error = call_error(caught.value)
    assert error.reason == Reason.REWARD_ERROR
    assert error.metadata["why"] == "failed"
    assert "UNAVAILABLE: grader restarting" in error.message


def test_a_reward_service_that_is_down_is_a_reward_error(start_server: StartServer) -> None:
    stub = serve(start_server, reward_service="127.0.0.1:1", reward_timeout=2.0)
    with pytest.raises(grpc.RpcError) as caught:
        step(stub, quiz(stub), "x", 1)
    assert call_error(caught.value).reason == Reason.REWARD_ERROR


def test_the_hooks_latency_is_on_the_env_step_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = ServerThread(
        QuizEnv,
        ServerConfig(host="127.0.0.1", port=0, reward="taskenvs:length"),
        telemetry=Telemetry(tracer_provider=provider),
    )
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = pb_grpc.EnvServiceStub(channel)
            step(stub, quiz(stub), "abc", 1)
    finally:
        server.stop()
    [span] = [s for s in exporter.get_finished_spans() if s.name == "env.step"]
    assert span.attributes is not None
    latency = span.attributes["openenv.reward.hook.duration"]
    assert isinstance(latency, float)
    assert latency >= 0
    assert span.attributes["openenv.reward"] == 3.0  # the hook's reward
    [event] = [e for e in span.events if e.name == "reward.hook"]
    assert event.attributes is not None
    assert event.attributes["openenv.reward.hook.outcome"] == "ok"


def test_the_cli_refuses_two_hooks_or_one_it_cannot_load(
    capsys: pytest.CaptureFixture[str],
) -> None:
    both = ["serve", "conformance", "--port", "0", "--reward", "taskenvs:length"]
    assert main([*both, "--reward-service", "127.0.0.1:1"]) == 2
    assert "--reward or --reward-service, not both" in capsys.readouterr().err
    assert main(["serve", "conformance", "--port", "0", "--reward", "nowhere:nothing"]) == 2
    assert "cannot import module 'nowhere'" in capsys.readouterr().err


def test_sent_sub_env_steps_are_scored_when_received(start_server: StartServer) -> None:
    stub = serve(start_server, reward="taskenvs:length")
    reset = pb.ResetBatchRequest(new_session=pb.NewBatchSession(num_envs=2))
    send = pb.SendRequest(env_ids=[1, 0], actions=codec.encode_value(("abc", "abcdefg")))
    requests = [
        pb.StepStreamRequest(seq=1, reset_batch_request=reset),
        pb.StepStreamRequest(seq=2, send_request=send),
        pb.StepStreamRequest(seq=3, recv_request=pb.RecvRequest()),
    ]
    answers = list(stub.StepStream(iter(requests)))
    received = answers[2].recv_response
    rewards = dict(zip(received.env_ids, tensors.decode_tensor(received.rewards), strict=True))
    assert rewards == {1: 3.0, 0: 7.0}  # each sub-env scored with the action it was sent
    assert sorted((e.env_id, e.action) for e in taskenvs.SEEN) == [(0, "abcdefg"), (1, "abc")]
