"""A program written for OpenEnv's client, as its users write one: a typed client of the
Walk env, used sync, async and through `.sync()`, and OpenEnv's GenericEnvClient.

    python tests/openenv_client_program.py http://127.0.0.1:8000

It prints one JSON line per thing it saw. The tests run it unchanged against
OpenEnv's own server, and against openenv-grpc with its first import changed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from openenv.core import EnvClient, GenericEnvClient
from openenv.core.client_types import StepResult
from openenv.core.env_server.types import State

from openenvenvs import Move, Where


class WalkClient(EnvClient[Move, Where, State]):
    """A typed client, the way OpenEnv's env packages write theirs."""

    def _step_payload(self, action: Move) -> dict[str, Any]:
        return action.model_dump()

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Where]:
        observation = Where(
            **payload["observation"], reward=payload.get("reward"), done=payload["done"]
        )
        return StepResult(
            observation=observation, reward=payload.get("reward"), done=payload["done"]
        )

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)


def show(tag: str, result: StepResult[Any]) -> None:
    observation = result.observation
    if hasattr(observation, "model_dump"):
        observation = observation.model_dump(mode="json")
    print(json.dumps({"at": tag, "obs": observation, "reward": result.reward, "done": result.done}))


def sync_walk(url: str) -> None:
    with WalkClient(base_url=url) as env:
        show("sync reset", env.reset(seed=7, start=1))
        show("sync step", env.step(Move(direction="left", cells=2, note="back")))
        result = env.step(Move(direction="right", cells=3))
        while not result.done:
            result = env.step(Move(direction="right", cells=1))
        show("sync last", result)
        print(json.dumps({"at": "sync state", "steps": env.state().step_count}))


async def async_walk(url: str) -> None:
    async with WalkClient(base_url=url) as env:
        show("async reset", await env.reset())
        show("async step", await env.step(Move(direction="right", cells=3, note="go")))
        state = await env.state()
        print(json.dumps({"at": "async state", "steps": state.step_count}))


def wrapped_walk(url: str) -> None:
    env = WalkClient(base_url=url).sync()
    with env:
        env.reset(seed=1)
        show("wrapped step", env.step(Move(direction="right", cells=1)))


def generic_walk(url: str) -> None:
    with GenericEnvClient(base_url=url) as env:
        result = env.reset(seed=3)
        show("generic reset", result)
        show("generic step", env.step({"direction": "right", "cells": 2, "note": "two"}))
        last = env.step({"direction": "right", "cells": 2})  # the note takes its default
        print(json.dumps({"at": "generic metadata", "metadata": last.metadata}))


if __name__ == "__main__":
    sync_walk(sys.argv[1])
    asyncio.run(async_walk(sys.argv[1]))
    wrapped_walk(sys.argv[1])
    generic_walk(sys.argv[1])
