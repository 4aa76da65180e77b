"""Serve an OpenEnv env: wrap an `openenv` `Environment` as an `Environment` of ours.

`openenv-grpc serve openenv:package.module:EnvClass` serves an env written for
OpenEnv (PyPI `openenv`, or the older `openenv-core`: the same import paths)
with no change to it. Its pydantic Action and Observation become spaces
derived from their JSON Schemas (`schema_spaces` has the mapping); the
Observation's `reward` and `done` become the step's reward and `terminated`,
its `metadata` (and any field the declared Observation type lacks) the
step's info. The schemas themselves go into Describe's metadata under
`openenv`, so any client can map values back to the env's own JSON, as the
OpenEnv-shaped client (`openenv_grpc.compat.openenv`) does.

Which Action and Observation: those named in the ENV argument
(`openenv:pkg.mod:EnvClass:ActionClass:ObservationClass`, all in the
module), else the env's `Environment[Action, Observation, State]`
parameters, else the annotations of its `step`, else OpenEnv's bases.

As OpenEnv's own server does, an env that overrides `reset_async` or
`step_async` is awaited (on an event loop thread of its session) and one that
does not is called as it is; an env with an MCP session (`mcp_session`) holds
it open for its whole session. The tools of an OpenEnv `MCPEnvironment` are
the session's tools (`openenv_grpc.tools`): listed and called over gRPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from ..env import EnvFactory, Environment, ResetResult, StepResult
from ..errors import ActionOutOfSpace, EnvCodeError, InvalidArgument, echo
from .schema_spaces import Converter, SchemaValueError, converter

# Fields of OpenEnv's base types that travel outside the action or observation value.
ACTION_OUTSIDE = frozenset({"metadata"})
OBSERVATION_OUTSIDE = frozenset({"reward", "done", "metadata"})
LOOP_JOIN_SECONDS = 5.0


def openenv_factory(
    target: Any, action_type: Any = None, observation_type: Any = None
) -> EnvFactory:
    """A factory of our Environments, each wrapping a fresh `target()` (an OpenEnv
    Environment class, or a callable that returns an instance of one)."""
    from openenv.core.env_server.interfaces import Environment as OpenEnvBase

    def make() -> Environment:
        env = target()
        if not isinstance(env, OpenEnvBase):
            raise TypeError(f"{target!r} made a {type(env).__name__}, not an openenv Environment")
        return OpenEnvEnvironment(env, action_type, observation_type)

    return make


class OpenEnvEnvironment(Environment):
    """One OpenEnv env instance behind the Environment API."""

    def __init__(self, env: Any, action_type: Any = None, observation_type: Any = None) -> None:
        from openenv.core.env_server.interfaces import Environment as OpenEnvBase

        self.env = env
        found_action, found_observation = model_types(type(env))
        self.action_type = action_type or found_action
        self.observation_type = observation_type or found_observation
        self._action, self._observation = _converters(self.action_type, self.observation_type)
        self.action_space = self._action.space
        self.observation_space = self._observation.space
        self._async_reset = _overrides(env.reset_async, OpenEnvBase.reset_async)
        self._async_step = _overrides(env.step_async, OpenEnvBase.step_async)
        self._loop: _LoopThread | None = None
        self._session: contextlib.AsyncExitStack | None = None
        about = env.get_metadata()
        self.name = str(about.name)
        self.version = str(about.version or "")
        action_schema, observation_schema = _schemas(self.action_type, self.observation_type)
        self.metadata = {
            "description": str(about.description),
            **{k: str(v) for k in ("author", "documentation_url") if (v := getattr(about, k))},
            "openenv": {
                "action_type": _qualname(self.action_type),
                "observation_type": _qualname(self.observation_type),
                "action_schema": action_schema,
                "observation_schema": observation_schema,
            },
        }
        tools = _mcp_tools(env)
        if tools is not None:
            self.mcp_server = tools  # read by openenv_grpc.tools

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None, task_id: str = ""
    ) -> ResetResult:
        kwargs = dict(options or {})
        if seed is not None:
            kwargs["seed"] = seed
        if task_id:
            kwargs["task_id"] = task_id
        method = self.env.reset_async if self._async_reset else self.env.reset
        refused = _refused(method, kwargs)
        if refused:
            raise InvalidArgument(
                f"{self.display_name}.reset takes no {', '.join(refused)}; "
                f"reset with the options it takes: {_parameters(method)}"
            )
        observation = self._call(self._async_reset, method, **kwargs)
        value, info = self._split(observation, "reset")
        return ResetResult(observation=value, info=info)

    def step(self, action: Any) -> StepResult:
        from pydantic import ValidationError

        try:
            typed = self.action_type.model_validate(self._action.from_space(action))
        except SchemaValueError as exc:
            raise ActionOutOfSpace(
                f"the action is not a valid {self.action_type.__name__}: {exc}", self.action_space
            ) from None
        except ValidationError as exc:
            raise ActionOutOfSpace(
                f"the action is not a valid {self.action_type.__name__}: {_problems(exc)}",
                self.action_space,
            ) from None
        method = self.env.step_async if self._async_step else self.env.step
        observation = self._call(self._async_step, method, typed)
        value, info = self._split(observation, "step")
        reward = observation.reward
        return StepResult(
            observation=value,
            reward=0.0 if reward is None else float(reward),
            terminated=bool(observation.done),
            info=info,
        )

    def state(self) -> Any:
        from pydantic_core import to_jsonable_python

        return to_jsonable_python(self.env.state)

    def close(self) -> None:
        try:
            self.env.close()
        finally:
            loop, self._loop = self._loop, None
            if loop is not None:
                session, self._session = self._session, None
                if session is not None:
                    with contextlib.suppress(Exception):
                        loop.run(session.aclose())
                loop.close()

    def _call(self, awaited: bool, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the env as OpenEnv's server would: its coroutine on the session's loop,
        inside its MCP session, or its plain method on this (worker) thread."""
        if not awaited:
            return method(*args, **kwargs)
        loop = self._loop
        if loop is None:
            loop = self._loop = _LoopThread()
            opener = getattr(self.env, "mcp_session", None)
            if callable(opener):
                self._session = contextlib.AsyncExitStack()
                loop.run(self._session.enter_async_context(opener()))
        return loop.run(method(*args, **kwargs))

    def _split(self, observation: Any, where: str) -> tuple[Any, dict[str, Any]]:
        """An OpenEnv Observation as our value and info (metadata, and fields the declared
        type lacks)."""
        from pydantic_core import to_jsonable_python

        if not hasattr(observation, "model_dump"):
            raise EnvCodeError(
                where, f"returned a {type(observation).__name__}, not an Observation"
            )
        dumped = observation.model_dump(mode="json", exclude=set(OBSERVATION_OUTSIDE))
        fields = self._observation.space.spaces  # type: ignore[attr-defined]
        info = dict(to_jsonable_python(observation.metadata or {}))
        info.update({k: v for k, v in dumped.items() if k not in fields})
        try:
            value = self._observation.to_space({k: v for k, v in dumped.items() if k in fields})
        except SchemaValueError as exc:
            raise EnvCodeError(
                where, f"returned a {type(observation).__name__} that does not fit its space: {exc}"
            ) from None
        return value, info


def _problems(exc: Any) -> str:
    """What pydantic found wrong, field by field, without echoing the values sent."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{echo(where)}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(problems)


def model_types(env_class: Any) -> tuple[Any, Any]:
    """The Action and Observation types an OpenEnv env class declares (see the module doc)."""
    from openenv.core.env_server.interfaces import Environment as OpenEnvBase
    from openenv.core.env_server.types import Action, Observation

    action: Any = None
    observation: Any = None
    for klass in env_class.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if isinstance(origin, type) and issubclass(origin, OpenEnvBase):
                args = typing.get_args(base)
                if action is None and args and _is_model(args[0], Action):
                    action = args[0]
                if observation is None and len(args) > 1 and _is_model(args[1], Observation):
                    observation = args[1]
    hints = _hints(env_class.step)
    if action is None and _is_model(hints.get("action"), Action):
        action = hints["action"]
    if observation is None and _is_model(hints.get("return"), Observation):
        observation = hints["return"]
    return action or Action, observation or Observation


def _is_model(candidate: Any, base: type) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, base)


def _hints(function: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # forward references an env module never resolves: no hints
        return {}


@functools.lru_cache(maxsize=64)
def _schemas(action_type: Any, observation_type: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schemas of an Action (as validated) and an Observation (as serialized)."""
    return (
        action_type.model_json_schema(mode="validation"),
        observation_type.model_json_schema(mode="serialization"),
    )


@functools.lru_cache(maxsize=64)
def _converters(action_type: Any, observation_type: Any) -> tuple[Converter, Converter]:
    """Derived once per pair of types, not once per session."""
    action_schema, observation_schema = _schemas(action_type, observation_type)
    return (
        converter(action_schema, exclude=ACTION_OUTSIDE),
        converter(observation_schema, exclude=OBSERVATION_OUTSIDE),
    )


def _qualname(cls: Any) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _overrides(method: Any, base_method: Any) -> bool:
    """Whether a bound method is the env's own, not the base class's (OpenEnv's test)."""
    return getattr(method, "__func__", method) is not base_method


def _refused(method: Callable[..., Any], kwargs: dict[str, Any]) -> list[str]:
    """The keyword arguments a method does not take."""
    parameters = inspect.signature(method).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    names = {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    return sorted(k for k in kwargs if k not in names)


def _parameters(method: Callable[..., Any]) -> str:
    names = [p.name for p in inspect.signature(method).parameters.values()]
    return ", ".join(names) or "none"


def _mcp_tools(env: Any) -> Any:
    """The tools of an OpenEnv MCPEnvironment on a FastMCP server of the official MCP
    SDK (what `openenv_grpc.tools` lists and calls), or None for an env without tools.

    OpenEnv keeps its tools on a `fastmcp` server; `get_callables()` hands out each
    tool's function (those of the current mode too), which the SDK's server
    describes from the same type hints and calls directly.
    """
    callables = getattr(env, "get_callables", None)
    if not callable(callables):
        return None
    functions = callables()
    if not functions:
        return None
    from mcp.server.fastmcp import FastMCP

    server = FastMCP(type(env).__name__)
    for name, function in functions.items():
        server.add_tool(function, name=name)
    return server


class _LoopThread:
    """An event loop on a daemon thread of its own: where one session's coroutines run,
    so a connection they open (an MCP session) lives as long as the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="openenv-session-loop", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(LOOP_JOIN_SECONDS)
        if not self.thread.is_alive():
            self.loop.close()
