"""OpenEnv's client API over gRPC: code written for OpenEnv runs here by one import.

    from openenv.core import EnvClient, GenericEnvClient      # before
    from openenv_grpc.compat.openenv import EnvClient, GenericEnvClient  # after

`EnvClient` keeps OpenEnv's shape (version 0.10): a subclass implements
`_step_payload`, `_parse_result` and `_parse_state` as it does for OpenEnv;
`reset(**kwargs)` and `step(action)` return `StepResult(observation, reward,
done, metadata)`; the client is async (`async with`, `await env.step(...)`) and
answers at once in sync code (`with env:`, `env.step(...)`), or through
`.sync()`, a `SyncEnvClient`. Underneath, one session on one StepStream of an
`AsyncEnvClient`: the "payloads" OpenEnv's JSON would carry are built from
our values and back, so `_parse_result` sees what OpenEnv's server would send:

- an env served with `openenv-grpc serve openenv:...` publishes its pydantic
  schemas in Describe; both sides then map values as `schema_spaces` does
  (enum indices back to labels, JSON text back to lists and dicts), so the
  payloads are OpenEnv's exactly, field defaults filled in for actions;
- any other env: an action payload is the action itself for a Dict space, or
  its one entry (`{"action": 1}`) for any other space; the observation payload
  is the observation as JSON (arrays as lists).

`reset(seed=..., task_id=..., **rest)` sends `rest` as reset options (an OpenEnv
env served here gets them as its reset keywords). `done` is terminated or
truncated (`truncated` rides beside it in the payload); `metadata` is the
step's info. `base_url` is `host:port`, or an http(s)/ws(s)/grpc URL of it (https
and wss mean TLS); an `Authorization: Bearer` header becomes the token. Server
errors raise `openenv_grpc.errors` (NotFound, InvalidArgument, ...), not
OpenEnv's RuntimeError. Not here: containers and Hub envs (`from_docker_image`,
`from_env`: start `openenv-grpc serve` and pass its address) and `new_session`.
"""

from __future__ import annotations

import abc
import asyncio
import enum
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import grpc
import numpy as np
from gymnasium import spaces as gs

from ..adapters.openenv import ACTION_OUTSIDE, OBSERVATION_OUTSIDE
from ..adapters.schema_spaces import Converter, converter
from ..client import AsyncEnvClient, AsyncStreamSession, EnvSpec, StateReply
from ..client.blocking import client_loop

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")
_T = TypeVar("_T")

__all__ = ["EnvClient", "GenericAction", "GenericEnvClient", "StepResult", "SyncEnvClient"]

_MODE_CLASH = (
    "EnvClient is already being used in {} mode. "
    "Create a separate client instance when mixing sync and async code."
)


@dataclass
class StepResult(Generic[ObsT]):
    """One step's outcome, as OpenEnv's `StepResult`."""

    observation: ObsT
    reward: float | None = None
    done: bool = False
    metadata: dict[str, Any] | None = None


class EnvClient(abc.ABC, Generic[ActT, ObsT, StateT]):
    """OpenEnv's `EnvClient`, speaking gRPC to an openenv-grpc server."""

    def __init__(
        self,
        base_url: str,
        connect_timeout_s: float = 10.0,
        message_timeout_s: float = 60.0,
        max_message_size_mb: float = 100.0,
        websocket_ping_interval_s: float | None = 20.0,
        websocket_ping_timeout_s: float | None = 20.0,
        provider: Any = None,
        mode: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if provider is not None:
            raise NotImplementedError(
                "openenv-grpc starts no containers; run `openenv-grpc serve ENV` and pass its "
                "address as base_url"
            )
        self.address, self._tls = _address(base_url)
        self._base_url = base_url
        self._connect_timeout = connect_timeout_s
        self._message_timeout = message_timeout_s
        self._max_message_bytes = int(max_message_size_mb * 1024 * 1024)
        self._token = _bearer(headers or {})
        self._client: AsyncEnvClient | None = None
        self._stream: AsyncStreamSession | None = None
        self._wire: _Wire | None = None
        self._mode: str | None = None
        self._sync_client: SyncEnvClient[ActT, ObsT, StateT] | None = None

    @property
    def base_url(self) -> str:
        """The server address this client was given."""
        return self._base_url

    @abc.abstractmethod
    def _step_payload(self, action: ActT) -> dict[str, Any]:
        """The action as the JSON object OpenEnv's server would take."""

    @abc.abstractmethod
    def _parse_result(self, payload: dict[str, Any]) -> StepResult[ObsT]:
        """A reset or step payload (observation, reward, done, metadata) as a StepResult."""

    @abc.abstractmethod
    def _parse_state(self, payload: dict[str, Any]) -> StateT:
        """A state payload (episode_id, step_count, and the env's own state) as a state."""

    # OpenEnv's methods: awaitable in async code, the result itself in sync code.

    def connect(self) -> Any:
        return self._dispatch(self._connect_async)

    def disconnect(self) -> Any:
        return self._dispatch(self._disconnect_async)

    def reset(self, **kwargs: Any) -> Any:
        return self._dispatch(lambda: self._reset_async(**kwargs))

    def step(self, action: ActT, **kwargs: Any) -> Any:
        return self._dispatch(lambda: self._step_async(action, **kwargs))

    def state(self) -> Any:
        return self._dispatch(self._state_async)

    def close(self) -> Any:
        if self._mode == "sync" and self._sync_client is not None:
            return self._sync_client.close()
        return self._dispatch(self._disconnect_async)

    def sync(self) -> SyncEnvClient[ActT, ObsT, StateT]:
        """The blocking face of this client (on the blocking clients' shared loop)."""
        if self._sync_client is None:
            self._sync_client = SyncEnvClient(self)
        return self._sync_client

    @classmethod
    def from_docker_image(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "openenv-grpc starts no containers; run `openenv-grpc serve ENV` and pass its address"
        )

    @classmethod
    def from_env(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "openenv-grpc loads no Hub envs; run `openenv-grpc serve ENV` and pass its address"
        )

    # The one implementation, async; the sync face runs it on its own loop.

    async def _connect_async(self) -> EnvClient[ActT, ObsT, StateT]:
        if self._stream is not None:
            return self
        credentials = grpc.ssl_channel_credentials() if self._tls else None
        client = AsyncEnvClient(
            self.address,
            timeout=self._message_timeout,
            max_message_bytes=self._max_message_bytes,
            credentials=credentials,
            token=self._token,
        )
        try:
            spec = await asyncio.wait_for(client.describe(), self._connect_timeout)
            self._stream = await client.stream()
        except BaseException:
            await client.close()
            raise
        self._client, self._wire = client, _Wire(spec)
        return self

    async def _disconnect_async(self) -> None:
        stream, client = self._stream, self._client
        self._stream = self._client = None
        if stream is not None:
            await stream.close()
        if client is not None:
            await client.close()

    async def _session(self) -> tuple[AsyncStreamSession, _Wire]:
        await self._connect_async()
        assert self._stream is not None
        assert self._wire is not None
        return self._stream, self._wire

    async def _reset_async(self, **kwargs: Any) -> StepResult[ObsT]:
        stream, wire = await self._session()
        seed = kwargs.pop("seed", None)
        task_id = str(kwargs.pop("task_id", "") or "")
        reply = await stream.reset(seed=seed, options=_jsonable(kwargs) or None, task_id=task_id)
        return self._parse_result(wire.result(reply.observation, None, False, False, reply.info))

    async def _step_async(self, action: ActT, **kwargs: Any) -> StepResult[ObsT]:
        stream, wire = await self._session()
        reply = await stream.step(wire.action(self._step_payload(action)))
        payload = wire.result(
            reply.observation, reply.reward, reply.terminated, reply.truncated, reply.info
        )
        return self._parse_result(payload)

    async def _state_async(self) -> StateT:
        stream, wire = await self._session()
        return self._parse_state(wire.state(await stream.state()))

    def _dispatch(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.sync()._run(make())
        self._claim("async")
        return make()

    def _claim(self, mode: str) -> None:
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise RuntimeError(_MODE_CLASH.format(self._mode))

    async def __aenter__(self) -> EnvClient[ActT, ObsT, StateT]:
        self._claim("async")
        return await self._connect_async()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._disconnect_async()

    def __enter__(self) -> EnvClient[ActT, ObsT, StateT]:
        self.sync().connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.sync().close()


class SyncEnvClient(Generic[ActT, ObsT, StateT]):
    """OpenEnv's `SyncEnvClient`: the blocking wrapper of an EnvClient."""

    def __init__(self, async_client: EnvClient[ActT, ObsT, StateT]) -> None:
        self._async = async_client

    @property
    def async_client(self) -> EnvClient[ActT, ObsT, StateT]:
        return self._async

    def connect(self) -> SyncEnvClient[ActT, ObsT, StateT]:
        self._run(self._async._connect_async())
        return self

    def disconnect(self) -> None:
        self._run(self._async._disconnect_async())

    def reset(self, **kwargs: Any) -> StepResult[ObsT]:
        result: StepResult[ObsT] = self._run(self._async._reset_async(**kwargs))
        return result

    def step(self, action: ActT, **kwargs: Any) -> StepResult[ObsT]:
        result: StepResult[ObsT] = self._run(self._async._step_async(action, **kwargs))
        return result

    def state(self) -> StateT:
        state: StateT = self._run(self._async._state_async())
        return state

    def close(self) -> None:
        """Close the session and the channel, if this face ever used them."""
        if self._async._mode == "sync":
            self._run(self._async._disconnect_async())

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run on the blocking clients' own loop (client/blocking.py), in this thread."""
        try:
            self._async._claim("sync")
        except RuntimeError:
            coroutine.close()
            raise
        return client_loop().run(coroutine)

    def __enter__(self) -> SyncEnvClient[ActT, ObsT, StateT]:
        return self.connect()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class GenericEnvClient(EnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """OpenEnv's `GenericEnvClient`: actions, observations and state as plain dicts."""

    def _step_payload(self, action: dict[str, Any]) -> dict[str, Any]:
        if isinstance(action, dict):
            return action
        if hasattr(action, "model_dump"):
            payload: dict[str, Any] = action.model_dump()
            return payload
        return dict(vars(action))

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[dict[str, Any]]:
        return StepResult(
            observation=payload.get("observation", {}),
            reward=payload.get("reward"),
            done=payload.get("done", False),
            metadata=payload.get("metadata"),
        )

    def _parse_state(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload


class GenericAction(dict[str, Any]):
    """OpenEnv's `GenericAction`: a dict built from keyword arguments."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kwargs)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.items())
        return f"GenericAction({items})"


class _Wire:
    """OpenEnv's JSON payloads to our values and back, for one server's spec."""

    def __init__(self, spec: EnvSpec) -> None:
        self.spec = spec
        self.action_converter: Converter | None = None
        self.observation_converter: Converter | None = None
        self.defaults: dict[str, Any] = {}
        about = spec.metadata.get("openenv")
        if isinstance(about, dict) and isinstance(about.get("action_schema"), dict):
            action_schema, observation_schema = about["action_schema"], about["observation_schema"]
            actions = converter(action_schema, exclude=ACTION_OUTSIDE)
            observations = converter(observation_schema, exclude=OBSERVATION_OUTSIDE)
            if actions.space == spec.action_space and observations.space == spec.observation_space:
                self.action_converter, self.observation_converter = actions, observations
                properties = action_schema.get("properties", {})
                self.defaults = {k: p["default"] for k, p in properties.items() if "default" in p}

    def action(self, payload: Mapping[str, Any]) -> Any:
        """The action value of an OpenEnv action payload."""
        fields = {k: v for k, v in _jsonable(dict(payload)).items() if k not in ACTION_OUTSIDE}
        if self.action_converter is not None:
            return self.action_converter.to_space({**self.defaults, **fields})
        space = self.spec.action_space
        if isinstance(space, gs.Dict):
            return _coerce(fields, space)
        if len(fields) != 1:
            raise ValueError(
                f"the env's actions are {space}, not named fields: send a payload with one "
                f"entry such as {{'action': ...}}, not {sorted(fields)}"
            )
        return _coerce(next(iter(fields.values())), space)

    def result(
        self, observation: Any, reward: float | None, terminated: bool, truncated: bool, info: Any
    ) -> dict[str, Any]:
        """What OpenEnv's server sends for a reset or step."""
        metadata = dict(info or {})
        if self.observation_converter is not None:
            value = {"metadata": metadata, **self.observation_converter.from_space(observation)}
        else:
            value = _jsonable(observation)
        payload: dict[str, Any] = {
            "observation": value,
            "reward": reward,
            "done": bool(terminated or truncated),
            "truncated": bool(truncated),
        }
        if metadata:
            payload["metadata"] = metadata
        return payload

    def state(self, reply: StateReply) -> dict[str, Any]:
        """What OpenEnv's server sends for state: the env's State, or ours."""
        payload: dict[str, Any] = {"episode_id": reply.episode_id, "step_count": reply.step_count}
        state = _jsonable(reply.state)
        if isinstance(state, dict):
            payload.update(state)
        elif state is not None:
            payload["state"] = state
        return payload


def _address(base_url: str) -> tuple[str, bool]:
    """A gRPC target and whether to use TLS, from an OpenEnv-style base URL."""
    if "://" not in base_url:
        return base_url.rstrip("/"), False
    parts = urlsplit(base_url)
    if not parts.hostname or parts.scheme not in ("http", "https", "ws", "wss", "grpc", "grpcs"):
        raise ValueError(f"base_url {base_url!r} is not host:port or an http(s)/ws(s) URL")
    tls = parts.scheme in ("https", "wss", "grpcs")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port or (443 if tls else 80)}", tls


def _bearer(headers: Mapping[str, str]) -> str | None:
    for key, value in headers.items():
        if key.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[len("bearer ") :].strip()
    return None


def _jsonable(value: Any) -> Any:
    """A value as JSON would carry it: arrays as lists, enums as their values, models dumped."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def _coerce(value: Any, space: gs.Space[Any]) -> Any:
    """A JSON value as a sample of a space (arrays of its dtype, tuples, dicts)."""
    if isinstance(space, (gs.Box, gs.MultiBinary, gs.MultiDiscrete)):
        return np.asarray(value, dtype=space.dtype)
    if isinstance(space, gs.Discrete):
        return int(value)
    if isinstance(space, gs.Text):
        return str(value)
    if isinstance(space, gs.Dict):
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object for {space}, got {type(value).__name__}")
        return {key: _coerce(value[key], sub) for key, sub in space.spaces.items() if key in value}
    if isinstance(space, gs.Tuple):
        return tuple(_coerce(v, sub) for v, sub in zip(value, space.spaces, strict=True))
    return value
