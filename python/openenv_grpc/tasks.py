"""Tasksets: the tasks an env offers, in splits, each with a public and a hidden part.

An env declares its tasksets as a class attribute, `tasksets = [TaskSet...]`,
made from local files (JSONL always; Parquet with pyarrow), rows in memory, or
a `datasets.Dataset` / `DatasetDict` built from local data (never a hub
download). The shape is OpenEnv's Task API (RFC 013, `list_splits`,
`num_tasks`, `get_task`, `get_task_range`), so a task client written for
OpenEnv maps one to one onto Describe, ListTasks and the reset's task selector.

Each row is a JSON object. `id` names the task (default
`"<taskset>/<split>/<index>"`), ids are unique within an env; the keys named
`hidden` (default: `answer`) never leave the server: `Task.public` drops
them, and only `public` is ever sent (ListTasks, reward services get the
hidden part on a field of their own).

Choosing a task happens in two places with one set of rules. The server
resolves a reset's `TaskSelector` (by id, split + index, split + seed, or the
split's next task) to a task id and passes it to the env's `reset` as
`task_id`; the env calls `pick(self, task_id)` to get the `Task`, which also
covers a reset that names no task (autoreset, a plain `reset()`): the next
task of the default split. "Next" is a cursor per env instance and split
that moves on such resets and never on a step.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import TaskNotFound, echo

DEFAULT_HIDDEN = ("answer",)
SPLIT_TYPES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "eval": "test",
}
_STATE = "_openenv_tasks"  # the attribute of an env instance that holds its cursors


@dataclass(frozen=True)
class Task:
    """One task: where it sits, its whole row, and which of its keys are hidden."""

    id: str
    taskset: str
    split: str
    index: int
    row: Mapping[str, Any] = field(repr=False)
    hidden: frozenset[str] = field(default=frozenset(DEFAULT_HIDDEN), repr=False)

    @property
    def public(self) -> dict[str, Any]:
        """The row without its hidden keys: all a client may ever see."""
        return {key: value for key, value in self.row.items() if key not in self.hidden}

    @property
    def secret(self) -> dict[str, Any]:
        """The hidden keys only (answers, verifiers): for the env and reward hooks."""
        return {key: value for key, value in self.row.items() if key in self.hidden}

    @property
    def prompt(self) -> str:
        """The row's `prompt` ("" when it has none)."""
        return str(self.row.get("prompt", ""))

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the row, hidden or not (env code only)."""
        return self.row.get(key, default)


@dataclass(frozen=True)
class SplitInfo:
    """One split as OpenEnv's `list_splits` gives it."""

    name: str
    type: str
    num_tasks: int
    default: bool


@dataclass(frozen=True)
class TaskSelector:
    """Which task a reset starts: by id, by index or seed within a split, or the split's
    next task (none of the three)."""

    taskset: str = ""
    split: str = ""
    task_id: str = ""
    index: int | None = None
    seed: int | None = None

    def shifted(self, offset: int) -> TaskSelector:
        """The selector of sub-env `offset` of a batch reset with one selector for all:
        index + offset, seed + offset, the same id or cursor."""
        return TaskSelector(
            self.taskset,
            self.split,
            self.task_id,
            None if self.index is None else self.index + offset,
            None if self.seed is None else self.seed + offset,
        )

    @property
    def only_id(self) -> bool:
        """Whether it names a task id and nothing else."""
        return bool(self.task_id) and not self.taskset and not self.split


class TaskSet:
    """A named collection of tasks in splits (see the module docstring)."""

    def __init__(
        self,
        name: str,
        splits: Mapping[str, Iterable[Mapping[str, Any]]],
        *,
        hidden: Iterable[str] = DEFAULT_HIDDEN,
        description: str = "",
        default_split: str | None = None,
        split_types: Mapping[str, str] | None = None,
        sources: Sequence[str] = (),
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"a taskset needs a name without '/', not {name!r}")
        self.name = name
        self.description = description
        self.hidden = frozenset(hidden)
        self.sources = tuple(sources)  # the files it was read from
        self._splits: dict[str, list[Task]] = {}
        self._by_id: dict[str, Task] = {}
        for split, rows in splits.items():
            tasks = []
            for index, row in enumerate(rows):
                task = self._task(split, index, row)
                if task.id in self._by_id:
                    raise ValueError(f"taskset {name!r} has two tasks with id {task.id!r}")
                self._by_id[task.id] = task
                tasks.append(task)
            self._splits[split] = tasks
        if not self._splits:
            raise ValueError(f"taskset {name!r} has no splits")
        self.default_split = default_split or ("train" if "train" in self._splits else "")
        self.default_split = self.default_split or next(iter(self._splits))
        if self.default_split not in self._splits:
            raise ValueError(f"taskset {name!r} has no split {self.default_split!r}")
        self._types = {s: SPLIT_TYPES.get(s.lower(), s) for s in self._splits}
        self._types.update(split_types or {})

    def _task(self, split: str, index: int, row: Mapping[str, Any]) -> Task:
        if not isinstance(row, Mapping):
            raise ValueError(
                f"task {index} of split {split!r} of taskset {self.name!r} is a "
                f"{type(row).__name__}, not an object"
            )
        task_id = row.get("id")
        if task_id is None or task_id == "":
            task_id = f"{self.name}/{split}/{index}"
        return Task(
            str(task_id), self.name, split, index, types.MappingProxyType(dict(row)), self.hidden
        )

    # --- constructors ------------------------------------------------------

    @classmethod
    def from_jsonl(
        cls, name: str, files: Mapping[str, str | pathlib.Path], **kwargs: Any
    ) -> TaskSet:
        """Splits from JSON Lines files, one object per line (blank lines skipped)."""
        splits = {split: _read_jsonl(pathlib.Path(path)) for split, path in files.items()}
        sources = [str(pathlib.Path(path).resolve()) for path in files.values()]
        return cls(name, splits, sources=sources, **kwargs)

    @classmethod
    def from_parquet(
        cls, name: str, files: Mapping[str, str | pathlib.Path], **kwargs: Any
    ) -> TaskSet:
        """Splits from Parquet files (needs `pyarrow`)."""
        try:
            pq = importlib.import_module("pyarrow.parquet")
        except ImportError as exc:
            raise ImportError(
                "TaskSet.from_parquet needs pyarrow (pip install pyarrow); JSONL needs nothing"
            ) from exc
        splits = {split: pq.read_table(path).to_pylist() for split, path in files.items()}
        sources = [str(pathlib.Path(path).resolve()) for path in files.values()]
        return cls(name, splits, sources=sources, **kwargs)

    @classmethod
    def from_dataset(cls, name: str, dataset: Any, *, split: str = "", **kwargs: Any) -> TaskSet:
        """Splits from a `datasets.DatasetDict` (one split per key), or one `datasets.Dataset`
        (split `split`, or the dataset's own split name, or "train"). The data must already
        be local: this reads rows, it never downloads."""
        if isinstance(dataset, Mapping) or hasattr(dataset, "keys"):
            splits = {str(key): list(dataset[key]) for key in dataset}
        else:
            own = str(getattr(dataset, "split", "") or "")
            splits = {split or own or "train": list(dataset)}
        return cls(name, splits, **kwargs)

    # --- OpenEnv's task API ------------------------------------------------

    def list_splits(self) -> list[SplitInfo]:
        """Every split with its type, size and whether it is the default."""
        return [
            SplitInfo(name, self._types[name], len(tasks), name == self.default_split)
            for name, tasks in self._splits.items()
        ]

    def num_tasks(self, split: str = "") -> int:
        return len(self._split(split))

    def get_task(self, split: str, index: int) -> Task:
        tasks = self._split(split)
        if not 0 <= index < len(tasks):
            raise TaskNotFound(
                f"split {echo(split or self.default_split)!r} of taskset {self.name!r} has "
                f"{len(tasks)} tasks; index {index} is not one of them",
                taskset=self.name,
                split=split or self.default_split,
                index=str(index),
                num_tasks=str(len(tasks)),
            )
        return tasks[index]

    def get_task_range(
        self, split: str = "", start: int = 0, stop: int | None = None
    ) -> list[Task]:
        tasks = self._split(split)
        return tasks[max(0, start) : len(tasks) if stop is None else max(0, stop)]

    def find(self, task_id: str) -> Task | None:
        """The task with this id in any split, or None."""
        return self._by_id.get(task_id)

    def task_ids(self) -> list[str]:
        """Every task's id, split by split."""
        return list(self._by_id)

    def _split(self, split: str) -> list[Task]:
        name = split or self.default_split
        tasks = self._splits.get(name)
        if tasks is None:
            raise TaskNotFound(
                f"taskset {self.name!r} has no split {echo(name)!r} (its splits: "
                f"{', '.join(self._splits)})",
                taskset=self.name,
                split=name,
            )
        return tasks


def _read_jsonl(path: pathlib.Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: a task is a JSON object, not {row!r:.40}")
            rows.append(row)
    return rows


# --- the tasksets of an env --------------------------------------------------


def tasksets_of(env: object) -> list[TaskSet]:
    """The tasksets an env (instance or class) declares, checked: TaskSet objects with
    distinct names and task ids distinct across them."""
    declared: list[object] = list(getattr(env, "tasksets", None) or ())
    names: set[str] = set()
    ids: dict[str, str] = {}
    for taskset in declared:
        if not isinstance(taskset, TaskSet):
            raise TypeError(f"tasksets holds a {type(taskset).__name__}, not a TaskSet")
        if taskset.name in names:
            raise ValueError(f"two tasksets are named {taskset.name!r}")
        names.add(taskset.name)
        for task_id in taskset.task_ids():
            if task_id in ids:
                raise ValueError(
                    f"task id {task_id!r} is in tasksets {ids[task_id]!r} and {taskset.name!r}; "
                    "task ids must be unique within an env"
                )
            ids[task_id] = taskset.name
    return [t for t in declared if isinstance(t, TaskSet)]


def _declared(env: object) -> list[TaskSet]:
    return list(getattr(env, "tasksets", None) or ())


def find(env: object, task_id: str) -> Task:
    """The task with this id among the env's tasksets; TaskNotFound otherwise."""
    tasksets = _declared(env)
    for taskset in tasksets:
        task = taskset.find(task_id)
        if task is not None:
            return task
    raise TaskNotFound(
        f"no task has id {echo(task_id)!r}"
        + ("" if tasksets else " (the env declares no tasksets)"),
        task_id=task_id,
    )


def taskset(env: object, name: str = "") -> TaskSet:
    """The env's taskset of this name ("" for its first one); TaskNotFound otherwise."""
    tasksets = _declared(env)
    if not tasksets:
        raise TaskNotFound("the env declares no tasksets", taskset=name)
    if not name:
        return tasksets[0]
    for candidate in tasksets:
        if candidate.name == name:
            return candidate
    known = ", ".join(t.name for t in tasksets)
    raise TaskNotFound(
        f"the env has no taskset {echo(name)!r} (its tasksets: {known})", taskset=name
    )


@dataclass
class _Cursors:
    """An env instance's choice state: the next index per (taskset, split), and the task
    of its current episode."""

    next: dict[tuple[str, str], int] = field(default_factory=dict)
    current: Task | None = None


def _cursors(env: object) -> _Cursors:
    state = getattr(env, _STATE, None)
    if not isinstance(state, _Cursors):
        state = _Cursors()
        setattr(env, _STATE, state)
    return state


def select(env: object, selector: TaskSelector) -> Task:
    """The task a selector chooses among the env's tasksets (the server's half of a reset;
    a selector without id, index or seed moves that split's cursor)."""
    if selector.task_id and not selector.taskset:
        return find(env, selector.task_id)
    chosen = taskset(env, selector.taskset)
    if selector.task_id:
        task = chosen.find(selector.task_id)
        if task is None:
            raise TaskNotFound(
                f"taskset {chosen.name!r} has no task with id {echo(selector.task_id)!r}",
                taskset=chosen.name,
                task_id=selector.task_id,
            )
        return task
    if selector.index is not None:
        return chosen.get_task(selector.split, selector.index)
    size = chosen.num_tasks(selector.split)
    if not size:
        raise TaskNotFound(
            f"split {echo(selector.split or chosen.default_split)!r} of taskset "
            f"{chosen.name!r} is empty",
            taskset=chosen.name,
            split=selector.split or chosen.default_split,
        )
    if selector.seed is not None:
        return chosen.get_task(selector.split, selector.seed % size)
    return _next(env, chosen, selector.split or chosen.default_split, size)


def _next(env: object, chosen: TaskSet, split: str, size: int) -> Task:
    cursors = _cursors(env).next
    key = (chosen.name, split)
    index = cursors.get(key, 0) % size
    cursors[key] = index + 1
    return chosen.get_task(split, index)


def pick(env: object, task_id: str = "") -> Task:
    """The task of the episode a reset starts (the env's half): the task with this id, or
    with "" the next task of the env's default split. Remembered as `current(env)`."""
    task = find(env, task_id) if task_id else select(env, TaskSelector())
    _cursors(env).current = task
    return task


def current(env: object) -> Task | None:
    """The task of the env's current episode (None before its first `pick`)."""
    state = getattr(env, _STATE, None)
    return state.current if isinstance(state, _Cursors) else None
