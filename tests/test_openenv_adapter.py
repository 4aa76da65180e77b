"""Envs written for OpenEnv, served by `openenv-grpc serve openenv:...` and driven over gRPC.

Each test starts the real CLI in a subprocess with an env from
`tests/openenvenvs.py` (plain OpenEnv code) and talks to it with our client,
or with the generated stubs for the tool calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import numpy as np
import pytest
from gymnasium import spaces as gs

from openenv_grpc import errors
from openenv_grpc.client import EnvClient
from openenv_grpc.loader import EnvSpecError, load_env_factory
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import tools_pb2

from processes import Served

ENVS = "tests/openenvenvs.py"
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def walk() -> Iterator[Served]:
    served = Served(f"openenv:{ENVS}:Walk")
    yield served
    assert served.stop() == 0


@pytest.fixture(scope="module")
def echo() -> Iterator[Served]:
    served = Served(f"openenv:{ENVS}:Echo")
    yield served
    assert served.stop() == 0


def test_the_spaces_come_from_the_pydantic_types(walk: Served) -> None:
    with EnvClient(walk.address) as client:
        spec = client.describe()
    assert spec.env_name == "walk"
    assert spec.env_version == "2.1"
    action, observation = spec.action_space, spec.observation_space
    assert isinstance(action, gs.Dict)
    assert list(action.spaces) == ["direction", "cells", "note"]  # metadata travels apart
    assert action["direction"] == gs.Discrete(2)  # Literal["left", "right"]
    assert action["cells"] == gs.Discrete(3, start=1)  # int, ge=1, le=3
    assert isinstance(action["note"], gs.Text)
    assert action["note"].max_length == 40
    assert isinstance(observation, gs.Dict)
    assert list(observation.spaces) == ["position", "light", "trail", "offset", "last_note"]
    assert observation["light"] == gs.Discrete(3)  # an Enum
    assert observation["offset"] == gs.Box(-np.inf, np.inf, (2,), np.float64)  # fixed length
    assert isinstance(observation["trail"], gs.Text)  # a list of any length: JSON text
    about = spec.metadata["openenv"]
    assert about["action_type"].endswith(":Move")
    assert about["action_schema"]["properties"]["direction"]["enum"] == ["left", "right"]
    assert about["observation_schema"]["title"] == "Where"
    assert spec.metadata["author"] == "tests"


def test_an_episode_keeps_reward_done_and_metadata(walk: Served) -> None:
    with EnvClient(walk.address) as client, client.stream() as env:
        spec = client.spec
        first = env.reset(seed=7, options={"start": 1})
        assert first.observation["position"] == 1
        assert first.info == {"distance": 3, "seed": 7}  # OpenEnv's metadata is the info
        step = env.step({"direction": 1, "cells": 3, "note": "straight there"})
        assert spec.observation_space.contains(step.observation)
        assert step.reward == pytest.approx(1.0)
        assert step.terminated
        assert not step.truncated
        assert step.observation["light"] == 2  # Light.GREEN, by its index
        assert json.loads(step.observation["trail"]) == [1, 4]
        assert step.observation["last_note"] == "straight there"
        state = env.state()
        assert state.state["step_count"] == 1  # OpenEnv's State, as JSON
        assert len(state.state["episode_id"]) == 32


def test_an_action_the_model_refuses_is_out_of_space(walk: Served) -> None:
    with EnvClient(walk.address) as client, client.stream() as env:
        env.reset()
        with pytest.raises(errors.InvalidArgument, match="capitals") as caught:
            env.step({"direction": 0, "cells": 1, "note": "SHOUT"})
        assert caught.value.reason == errors.Reason.ACTION_OUT_OF_SPACE
        with pytest.raises(errors.InvalidArgument) as outside:
            env.step({"direction": 0, "cells": 4, "note": ""})  # the space says 1..3
        assert outside.value.reason == errors.Reason.ACTION_OUT_OF_SPACE
        step = env.step({"direction": 0, "cells": 1, "note": "fine"})  # the session goes on
        assert step.observation["position"] == -1


def test_an_async_env_is_awaited_on_one_loop_per_session() -> None:
    served = Served(f"openenv:{ENVS}:Countdown")
    try:
        with EnvClient(served.address) as client, client.stream() as env:
            env.reset(seed=1)
            for _ in range(3):
                step = env.step({"direction": 1, "cells": 1, "note": ""})
            assert step.info["loops"] == 1
            assert step.reward == pytest.approx(-0.1)
            # Its reset_async takes no **kwargs: what it does not take is refused, by name.
            with pytest.raises(errors.InvalidArgument, match="takes no start"):
                client.reset(options={"start": 2})
            with pytest.raises(errors.InvalidArgument, match="takes no task_id"):
                client.reset(task_id="t1")
    finally:
        assert served.stop() == 0


def test_mcp_tools_are_listed_and_called_over_grpc(echo: Served) -> None:
    with EnvClient(echo.address) as client:
        spec = client.describe()
        assert spec.capabilities.tools
        session = client.reset().session_id
        with grpc.insecure_channel(echo.address) as channel:
            stub = pb_grpc.EnvServiceStub(channel)
            listed = stub.ListTools(tools_pb2.ListToolsRequest(session_id=session))
            names = [tool.name for tool in listed.tools]
            assert names == ["echo_message", "echo_with_length"]
            schema = json.loads(listed.tools[0].input_schema_json)
            assert schema["properties"]["message"]["type"] == "string"
            arguments = json.dumps({"message": "hello world"})
            call = tools_pb2.CallToolRequest(
                session_id=session, name="echo_with_length", arguments_json=arguments
            )
            result = stub.CallTool(call)
            assert not result.is_error
            assert json.loads(result.structured_content_json) == {
                "message": "hello world",
                "length": 11,
            }
            with pytest.raises(grpc.RpcError) as caught:
                stub.CallTool(tools_pb2.CallToolRequest(session_id=session, name="nope"))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert client.state(session).state["step_count"] == 1  # the env's own tool ran


def test_a_task_id_goes_to_an_env_whose_reset_takes_no_such_argument(echo: Served) -> None:
    with EnvClient(echo.address) as client:
        reply = client.reset(task_id="t1")  # Echo.reset takes **kw: passed on, ignored
        assert reply.info == {"status": "ready"}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("openenv:tests/openenvenvs.py", "not of the form"),
        ("openenv:tests/openenvenvs.py:Walk:Move", "not of the form"),
        ("openenv:tests/openenvenvs.py:Nowhere", "no attribute 'Nowhere'"),
        ("openenv:no_such_module_here:Walk", "cannot import"),
    ],
)
def test_bad_openenv_specs_say_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(EnvSpecError, match=problem):
        load_env_factory(spec)


def test_types_can_be_named_in_the_spec() -> None:
    factory = load_env_factory(f"openenv:{ENVS}:Echo:Move:Where")
    env = factory()
    try:
        assert list(env.action_space.spaces) == ["direction", "cells", "note"]  # type: ignore[attr-defined]
    finally:
        env.close()
