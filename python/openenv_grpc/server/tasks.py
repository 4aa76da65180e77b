"""Tasksets on the wire: Describe's list, ListTasks pages, and reset task selectors.

The tasksets are the env's declared data, read once from the env the server
makes at start (as OpenEnv's task routes read a fresh instance): ListTasks
answers from them without a session and without entering env code. A reset's
`TaskSelector` is resolved here, before the env's reset runs, to the task id
the env's `reset(task_id=...)` receives; only public fields ever leave.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import tasks_pb2

from .. import tasks
from ..codec import encode_map
from ..errors import InvalidRequest, TaskNotFound
from ..sessions import Session

DEFAULT_PAGE, MAX_PAGE = 100, 1000


def task_message(task: tasks.Task, out: tasks_pb2.Task | None = None) -> tasks_pb2.Task:
    """A task's public part as the contract's Task."""
    message = tasks_pb2.Task() if out is None else out
    message.id, message.taskset, message.split, message.index = (
        task.id,
        task.taskset,
        task.split,
        task.index,
    )
    encode_map(task.public, out=message.fields)
    return message


def selector_of(message: pb.ResetRequest | pb.SubEnvReset) -> tasks.TaskSelector | None:
    """The task a reset (or a sub-env's start) asks for; None when it asks for none."""
    if not message.HasField("task"):
        return tasks.TaskSelector(task_id=message.task_id) if message.task_id else None
    if message.task_id:
        raise InvalidRequest("set either task_id or task, not both", field="task")
    task = message.task
    choice = task.WhichOneof("choice")
    return tasks.TaskSelector(
        taskset=task.taskset,
        split=task.split,
        task_id=task.task_id,
        index=task.index if choice == "index" else None,
        seed=task.seed if choice == "seed" else None,
    )


class _Chooser:
    """Holds a sub-env's cursors when its env is not in this process (worker processes)."""

    def __init__(self, tasksets: Sequence[tasks.TaskSet]) -> None:
        self.tasksets = tasksets


class TaskCatalog:
    """The env's tasksets, as the server lists them and resolves selectors against them."""

    def __init__(self, tasksets: Sequence[tasks.TaskSet]) -> None:
        self.tasksets = list(tasksets)
        self._choosers: weakref.WeakKeyDictionary[Session, dict[int, _Chooser]] = (
            weakref.WeakKeyDictionary()
        )

    def describe(self, out: pb.DescribeResponse) -> None:
        """Every taskset with its splits and sizes, into Describe's answer."""
        for taskset in self.tasksets:
            entry = out.tasksets.add(
                name=taskset.name,
                description=taskset.description,
                default_split=taskset.default_split,
            )
            for split in taskset.list_splits():
                entry.splits.add(name=split.name, type=split.type, num_tasks=split.num_tasks)

    def list(self, request: tasks_pb2.ListTasksRequest) -> tasks_pb2.ListTasksResponse:
        """A page of a split's tasks (OpenEnv's get_task_range), public parts only."""
        if request.start < 0 or request.page_size < 0:
            raise InvalidRequest(
                "start and page_size must be 0 or more",
                field="start" if request.start < 0 else "page_size",
            )
        chosen = tasks.taskset(self, request.taskset)
        size = chosen.num_tasks(request.split)
        page = min(request.page_size or DEFAULT_PAGE, MAX_PAGE)
        found = chosen.get_task_range(request.split, request.start, request.start + page)
        response = tasks_pb2.ListTasksResponse(
            next_start=min(size, request.start + len(found)) if found else size,
            num_tasks=size,
        )
        for task in found:
            task_message(task, out=response.tasks.add())
        return response

    def task_id(self, session: Session, env_id: int, selector: tasks.TaskSelector | None) -> str:
        """The task id a reset passes to the env: "" to let the env choose, the id as given
        to an env without tasksets, else the task the selector chooses (a split-only
        selector moves that env's cursor)."""
        if selector is None:
            return ""
        if not self.tasksets:
            if selector.only_id:
                return selector.task_id  # a multi-task env of its own kind
            raise TaskNotFound(
                "the env declares no tasksets; leave ResetRequest.task unset (or name a "
                "task_id the env knows)",
                taskset=selector.taskset,
                split=selector.split,
            )
        return tasks.select(self._chooser(session, env_id), selector).id

    def _chooser(self, session: Session, env_id: int) -> object:
        """The env whose cursors a selection moves: the session's (sub-)env itself when it
        lives here, else a stand-in kept for the session."""
        env = session.env if session.vector is None else None
        envs = getattr(session.vector, "envs", None)
        if envs is not None and 0 <= env_id < len(envs):
            env = envs[env_id]
        if env is not None and getattr(env, "tasksets", None):
            return env
        choosers = self._choosers.setdefault(session, {})
        if env_id not in choosers:
            choosers[env_id] = _Chooser(self.tasksets)
        return choosers[env_id]
