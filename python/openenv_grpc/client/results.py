"""Typed answers of the clients, decoded from the proto responses.

Observations are decoded with the observation space from Describe, so they
come back in the same Python form a local Gymnasium env would give: arrays
of the space's dtype, tuples for Tuple spaces, dicts for Dict spaces.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces as gs

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import tasks_pb2, tools_pb2

from .. import spaces, status, vector_infos
from ..codec import decode_for_space, decode_map, decode_value
from ..errors import EnvError
from ..modes import AUTORESET_FROM_PROTO
from ..tensors import decode_tensor
from ..tools import ToolResult, ToolSpec
from ..vector import AutoresetMode, BatchedSpaces


@dataclass(frozen=True)
class Capabilities:
    """What the server supports and its limits (see the proto's Capabilities)."""

    batched: bool
    tools: bool
    max_sessions: int
    session_ttl_seconds: float
    max_message_bytes: int
    max_num_envs: int
    autoreset_modes: tuple[AutoresetMode, ...]
    # Worker processes per batched session (0: the server's threads step sub-envs).
    vector_processes: int = 0
    # The most sub-envs all batched sessions hold together (0: unlimited); what
    # `ServerLoad.batched_envs` is measured against.
    max_envs: int = 0


@dataclass(frozen=True)
class ServerLoad:
    """What a server holds at the moment of a Describe (since 1.5), to choose among
    servers the one with room: all zero from an older server, which sends none."""

    sessions: int  # open or being opened; compare `Capabilities.max_sessions`
    batched_envs: int  # sub-envs of batched sessions; compare `Capabilities.max_envs`
    draining: bool  # stopping: takes no new sessions
    saturated: bool  # too many env calls stuck: takes no new sessions

    @classmethod
    def from_proto(cls, msg: pb.ServerLoad) -> ServerLoad:
        return cls(msg.sessions, msg.batched_envs, msg.draining, msg.saturated)


@dataclass(frozen=True)
class EnvSpec:
    """The environment's spec, from Describe."""

    env_name: str
    env_version: str
    protocol_version: str
    observation_space: gs.Space[Any]
    action_space: gs.Space[Any]
    reward_range: tuple[float, float]
    capabilities: Capabilities
    metadata: dict[str, Any]
    server_version: str
    # The env's MCP tools (as a new session has them) and its tasksets (since 1.4).
    tools: tuple[ToolSpec, ...] = ()
    tasksets: tuple[TaskSetInfo, ...] = ()

    @classmethod
    def from_proto(cls, msg: pb.DescribeResponse) -> EnvSpec:
        caps = msg.capabilities
        return cls(
            env_name=msg.env_name,
            env_version=msg.env_version,
            protocol_version=msg.protocol_version,
            observation_space=spaces.from_proto(msg.observation_space),
            action_space=spaces.from_proto(msg.action_space),
            reward_range=(msg.reward_range.low, msg.reward_range.high),
            capabilities=Capabilities(
                batched=caps.batched,
                tools=caps.tools,
                max_sessions=caps.max_sessions,
                session_ttl_seconds=caps.session_ttl.ToNanoseconds() / 1e9,
                max_message_bytes=caps.max_message_bytes,
                max_num_envs=caps.max_num_envs,
                autoreset_modes=tuple(
                    AUTORESET_FROM_PROTO[m]
                    for m in caps.autoreset_modes
                    if m in AUTORESET_FROM_PROTO
                ),
                vector_processes=caps.vector_processes,
                max_envs=caps.max_envs,
            ),
            metadata=decode_map(msg.metadata),
            server_version=msg.server_version,
            tools=tuple(tool_spec(tool) for tool in msg.tools),
            tasksets=tuple(TaskSetInfo.from_proto(taskset) for taskset in msg.tasksets),
        )


@dataclass(frozen=True)
class TaskSplitInfo:
    """One split of a taskset: its name, its role (train, validation, test) and size."""

    name: str
    type: str
    num_tasks: int


@dataclass(frozen=True)
class TaskSetInfo:
    """One taskset of the env, as Describe lists it (OpenEnv's `list_splits()`)."""

    name: str
    description: str
    splits: tuple[TaskSplitInfo, ...]
    default_split: str

    @classmethod
    def from_proto(cls, msg: tasks_pb2.TaskSet) -> TaskSetInfo:
        return cls(
            name=msg.name,
            description=msg.description,
            splits=tuple(TaskSplitInfo(s.name, s.type, s.num_tasks) for s in msg.splits),
            default_split=msg.default_split,
        )


@dataclass(frozen=True)
class TaskInfo:
    """The public part of one task: where it sits and the fields its author shows (its
    prompt, ...); its answer and verifier stay on the server."""

    id: str
    taskset: str
    split: str
    index: int
    fields: dict[str, Any]

    @classmethod
    def from_proto(cls, msg: tasks_pb2.Task) -> TaskInfo:
        return cls(msg.id, msg.taskset, msg.split, msg.index, decode_map(msg.fields))


@dataclass(frozen=True)
class TaskPage:
    """A range of one split's tasks (OpenEnv's `get_task_range`): ask for `next_start`
    next; the page reaches the end of the split when it equals `num_tasks`."""

    tasks: tuple[TaskInfo, ...]
    next_start: int
    num_tasks: int

    @property
    def last(self) -> bool:
        """Whether this page reaches the end of the split."""
        return self.next_start >= self.num_tasks

    @classmethod
    def from_proto(cls, msg: tasks_pb2.ListTasksResponse) -> TaskPage:
        tasks = tuple(TaskInfo.from_proto(task) for task in msg.tasks)
        return cls(tasks, msg.next_start, msg.num_tasks)


def tool_spec(msg: tools_pb2.Tool) -> ToolSpec:
    """A contract Tool as the ToolSpec env authors declare (schemas parsed from JSON)."""
    output = json.loads(msg.output_schema_json) if msg.output_schema_json else None
    return ToolSpec(msg.name, msg.description, json.loads(msg.input_schema_json or "{}"), output)


def tool_result(msg: tools_pb2.CallToolResponse) -> ToolResult:
    """A contract CallToolResponse as a ToolResult: text items, the structured result
    parsed from JSON (None when the tool gave none) and the error flag."""
    structured = json.loads(msg.structured_content_json) if msg.structured_content_json else None
    return ToolResult([item.text for item in msg.content], structured, msg.is_error)


@dataclass(frozen=True)
class ResetReply:
    """The first observation of a new episode."""

    session_id: str
    observation: Any
    info: dict[str, Any]
    episode_id: str

    @classmethod
    def from_proto(cls, msg: pb.ResetResponse, space: gs.Space[Any]) -> ResetReply:
        return cls(
            session_id=msg.session_id,
            observation=decode_for_space(msg.observation, space),
            info=decode_map(msg.info),
            episode_id=msg.episode_id,
        )


@dataclass(frozen=True)
class StepReply:
    """The outcome of one step."""

    observation: Any
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    step_index: int
    reward_components: dict[str, float] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """Whether the episode ended (terminated or truncated)."""
        return self.terminated or self.truncated

    @classmethod
    def from_proto(cls, msg: pb.StepResponse, space: gs.Space[Any]) -> StepReply:
        return cls(
            observation=decode_for_space(msg.observation, space),
            reward=msg.reward,
            terminated=msg.terminated,
            truncated=msg.truncated,
            info=decode_map(msg.info) if msg.info.entries else {},
            step_index=msg.step_index,
            reward_components=(
                dict(sorted(msg.reward_components.items())) if msg.reward_components else {}
            ),
        )


@dataclass(frozen=True)
class StateReply:
    """Where a session stands."""

    session_id: str
    episode_id: str
    step_count: int
    state: Any
    episode_done: bool
    num_envs: int = 0

    @classmethod
    def from_proto(cls, msg: pb.StateResponse) -> StateReply:
        return cls(
            session_id=msg.session_id,
            episode_id=msg.episode_id,
            step_count=msg.step_count,
            state=decode_value(msg.state) if msg.state.WhichOneof("kind") else None,
            episode_done=msg.episode_done,
            num_envs=msg.num_envs,
        )


class Infos:
    """The infos of a batch as they came (one MapValue per sub-env, or one in Gymnasium's
    vector layout), decoded into either form when first asked for."""

    def __init__(self, per_sub_env: Sequence[Any] = (), vector: Any = None, count: int = 0) -> None:
        self._per_sub_env, self._vector, self._count = per_sub_env, vector, count

    @classmethod
    def of(cls, msg: pb.StepBatchResponse | pb.ResetBatchResponse, count: int) -> Infos:
        vector = msg.vector_info if msg.HasField("vector_info") else None
        return cls(msg.infos, vector, count)

    def layout(self) -> dict[str, Any]:
        """Gymnasium's vector layout, arrays of one entry per sub-env of the batch."""
        if self._vector is not None:
            return vector_infos.decode(self._vector)
        infos = [(k, decode_map(info)) for k, info in enumerate(self._per_sub_env) if info.entries]
        return vector_infos.build(infos, self._count) if infos else {}

    def each(self) -> list[dict[str, Any]]:
        """One info per sub-env of the batch."""
        if self._vector is not None:
            return vector_infos.unbatch(self.layout(), self._count)
        if self._per_sub_env:
            return [decode_map(info) for info in self._per_sub_env]
        return [{} for _ in range(self._count)]


NO_INFOS = Infos()


class _BatchInfos:
    """A batch reply's infos, decoded on first use: `infos`, one dict per entry of env_ids;
    `info`, Gymnasium's vector layout (arrays of one entry per entry of env_ids)."""

    wire_infos: Infos

    @functools.cached_property
    def infos(self) -> list[dict[str, Any]]:
        """One info per entry of env_ids."""
        return self.wire_infos.each()

    @functools.cached_property
    def info(self) -> dict[str, Any]:
        """The infos in Gymnasium's vector layout, one entry per entry of env_ids."""
        return self.wire_infos.layout()


@dataclass(frozen=True)
class BatchResetReply(_BatchInfos):
    """The first observations of a batched session's reset sub-envs. Infos come as `infos`
    (one dict per sub-env) or as `info` (Gymnasium's vector layout), each decoded on use."""

    session_id: str
    env_ids: npt.NDArray[np.int64]
    observations: Any
    episode_id: str
    wire_infos: Infos = field(default=NO_INFOS, repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: pb.ResetBatchResponse, spaces: BatchedSpaces) -> BatchResetReply:
        ids = np.array(msg.env_ids, dtype=np.int64)
        return cls(
            session_id=msg.session_id,
            env_ids=ids,
            observations=decode_for_space(msg.observations, spaces[len(ids)]),
            episode_id=msg.episode_id,
            wire_infos=Infos.of(msg, len(ids)),
        )


@dataclass(frozen=True)
class BatchStepReply(_BatchInfos):
    """The outcome of one batched step (or one recv): results for the sub-envs in env_ids,
    and in `errors` each sub-env whose step failed, with its own error. Infos come as
    `infos` (one dict per sub-env) or as `info` (Gymnasium's vector layout), each decoded
    on use."""

    env_ids: npt.NDArray[np.int64]
    observations: Any
    rewards: npt.NDArray[np.float64]
    terminations: npt.NDArray[np.bool_]
    truncations: npt.NDArray[np.bool_]
    step_index: int
    reward_components: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    errors: dict[int, EnvError] = field(default_factory=dict)
    wire_infos: Infos = field(default=NO_INFOS, repr=False, compare=False)

    @classmethod
    def from_proto(cls, msg: pb.StepBatchResponse, spaces: BatchedSpaces) -> BatchStepReply:
        ids = np.array(msg.env_ids, dtype=np.int64)
        return cls(
            env_ids=ids,
            observations=decode_for_space(msg.observations, spaces[len(ids)]),
            rewards=decode_tensor(msg.rewards),
            terminations=decode_tensor(msg.terminations),
            truncations=decode_tensor(msg.truncations),
            step_index=msg.step_index,
            reward_components={
                name: decode_tensor(part) for name, part in sorted(msg.reward_components.items())
            },
            errors={
                failed.env_id: status.from_proto(failed.status) for failed in msg.sub_env_errors
            },
            wire_infos=Infos.of(msg, len(ids)),
        )
