"""The terminal env: an agent works in a sandboxed shell on a task and a verifier scores it.

`openenv-grpc serve terminal` serves it. Each session has its own working
directory (`/work` to its commands) in a sandbox (see `sandbox.py`: no network
where the kernel allows, rlimits, a wall-clock timeout, output capped); the
directory is emptied at every reset and removed when the session closes.

Gymnasium-style text in and out:

* reset: the observation is the task's prompt and how to work; info names the
  task (id, taskset, split, index) and what the sandbox isolates. The task is
  chosen by the reset's task selector, else the next of the default split.
* step(action): the action is one bash command; the observation is its output
  (head and tail when long) and its exit status; reward 0. The action
  `submit` (or `submit ANSWER` for a task that asks for an answer) ends the
  episode (terminated): the task's verifier checks the directory (its `check`
  script, run in the sandbox) and the answer (its `answer`), and the reward is
  1.0 when every check passes, else 0.0. After the task's `max_steps` steps
  without a submit the episode is truncated and the verifier runs on the
  directory as it is (an answer task then scores 0).

Tools (MCP, through ListTools/CallTool and `openenv-grpc mcp`): `run`,
`read_file`, `write_file`, `list_dir`, in the same directory. They do not count
as steps and never end the episode; bad input (a path outside the directory,
a command that hangs or floods) is a tool error the agent can read.

Task rows (`terminal_tasks/*.jsonl`): public `id`, `prompt`, `difficulty`,
`max_steps`; hidden `setup` (a script run before the agent starts), `check` (a
script that must exit 0), `answer` (the text `submit` must carry; whitespace
and case ignored) and `solution` (actions that solve it, for tests). The hidden
fields never reach the agent: not in observations or infos, not in ListTasks,
and not through the shell (the package directory is masked in the sandbox).
"""

from __future__ import annotations

import pathlib
import string
from typing import Any

from gymnasium import spaces

from ..env import Environment, ResetResult, StepResult
from ..tasks import Task, TaskSet, pick
from ..tools import ToolError, tool
from .sandbox import WORKDIR, Limits, PathRefused, RunResult, Sandbox, isolation

TASKS_DIR = pathlib.Path(__file__).with_name("terminal_tasks")
HIDDEN = ("setup", "check", "answer", "solution")
CHARSET = string.printable  # letters, digits, punctuation and whitespace
MAX_COMMAND = 4096
MAX_OBSERVATION = 32768
DEFAULT_MAX_STEPS = 30
SETUP_TIMEOUT_S = 30.0
SHELL_TASKS = TaskSet.from_jsonl(
    "shell",
    {"train": TASKS_DIR / "train.jsonl", "test": TASKS_DIR / "test.jsonl"},
    hidden=HIDDEN,
    description="Small shell tasks: files, text, counting; checked by a script or an answer.",
)


class TerminalEnv(Environment):
    """A sandboxed shell per session, tasks from `tasksets`, rewards from their verifiers."""

    name = "Terminal-v1"
    version = "1"
    reward_range = (0.0, 1.0)
    observation_space = spaces.Text(MAX_OBSERVATION, min_length=0, charset=CHARSET)
    action_space = spaces.Text(MAX_COMMAND, min_length=1, charset=CHARSET)
    tasksets = (SHELL_TASKS,)

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.metadata = {
            "render_modes": [],
            "sandbox": isolation().as_info(),
            "command_timeout_s": self.limits.timeout_s,
            "workdir": WORKDIR,
        }
        self._sandbox: Sandbox | None = None  # made at the first reset: Describe's env has none
        self._task: Task | None = None
        self._steps = 0
        self._max_steps = DEFAULT_MAX_STEPS
        self._ended = False

    # --- the episode --------------------------------------------------------

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        task_id: str = "",
    ) -> ResetResult:
        """Start the chosen task in an empty directory: its setup runs first."""
        task = pick(self, task_id)
        sandbox = self._sandbox or Sandbox(self.limits)
        self._sandbox = sandbox
        sandbox.fresh()
        setup = str(task.get("setup") or "")
        if setup:
            done = sandbox.run(setup, min(SETUP_TIMEOUT_S, self.limits.max_timeout_s))
            if done.exit_code or done.timed_out:
                raise RuntimeError(
                    f"the setup of task {task.id!r} failed (exit status {done.exit_code}): "
                    f"{done.output[-500:]}"
                )
        self._task, self._steps, self._ended = task, 0, False
        self._max_steps = int(task.get("max_steps") or DEFAULT_MAX_STEPS)
        prompt = (
            f"{task.prompt}\n\nYou work in a bash shell in {WORKDIR}"
            f"{' (no network)' if sandbox.isolation.network else ''}. Each step runs one "
            "command and "
            "shows its output and exit status. When you are done, send `submit`, or "
            "`submit ANSWER` when the task asks for an answer. You have "
            f"{self._max_steps} steps."
        )
        info = {
            "task_id": task.id,
            "taskset": task.taskset,
            "split": task.split,
            "index": task.index,
            "max_steps": self._max_steps,
            "sandbox": sandbox.isolation.as_info(),
        }
        return ResetResult(observation=_text(prompt), info=info)

    def step(self, action: Any) -> StepResult:
        """Run one command, or verify on `submit`."""
        sandbox, task = self._started()
        command = str(action)
        self._steps += 1
        words = command.strip().split(maxsplit=1)
        if words and words[0] == "submit":
            return self._verdict(task, sandbox, words[1] if len(words) > 1 else "", True)
        result = sandbox.run(command)
        observation = _shown(result, sandbox.limits)
        if self._steps >= self._max_steps:
            verdict = self._verdict(task, sandbox, None, False)
            return StepResult(
                observation=_text(f"{observation}\n{verdict.observation}"),
                reward=verdict.reward,
                truncated=True,
                info={**verdict.info, "exit_code": result.exit_code},
                reward_components=verdict.reward_components,
            )
        return StepResult(
            observation=_text(observation),
            info={"exit_code": result.exit_code, "timed_out": result.timed_out},
        )

    def _verdict(
        self, task: Task, sandbox: Sandbox, answer: str | None, submitted: bool
    ) -> StepResult:
        """Check the task (its script, its answer) and end the episode with the score."""
        self._ended = True
        parts: dict[str, float] = {}
        check = str(task.get("check") or "")
        if check:
            done = sandbox.run(check, self.limits.max_timeout_s)
            parts["check"] = float(done.exit_code == 0 and not done.timed_out)
        expected = task.get("answer")
        if expected is not None:
            parts["answer"] = float(answer is not None and _same(answer, str(expected)))
        reward = float(all(parts.values())) if parts else 0.0
        passed = bool(parts) and reward == 1.0
        what = "Submitted" if submitted else f"Out of steps ({self._max_steps})"
        verdict = "the task is solved" if passed else "the task is not solved"
        return StepResult(
            observation=_text(f"{what}: {verdict}."),
            reward=reward,
            terminated=submitted,
            truncated=not submitted,
            info={"passed": passed, "submitted": submitted},
            reward_components=parts,
        )

    def _started(self) -> tuple[Sandbox, Task]:
        if self._sandbox is None or self._task is None:
            raise RuntimeError("step before reset")  # the server never lets this happen
        return self._sandbox, self._task

    def state(self) -> dict[str, Any]:
        """The task, the steps taken, and whether the episode has ended."""
        return {
            "task_id": self._task.id if self._task else "",
            "steps": self._steps,
            "max_steps": self._max_steps,
            "ended": self._ended,
        }

    def close(self) -> None:
        """Remove the session's directory."""
        if self._sandbox is not None:
            self._sandbox.close()

    # --- tools --------------------------------------------------------------

    @tool
    def run(self, command: str, timeout_s: float = 10.0) -> dict[str, object]:
        """Run a bash command in the session's working directory (/work) and return its
        output (stdout and stderr together; the head and tail when long) and exit status.
        Each command runs on its own: processes it leaves in the background are ended."""
        sandbox = self._tool_sandbox()
        try:
            result = sandbox.run(command, timeout_s)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        if result.timed_out:
            raise ToolError(
                f"the command ran past its {sandbox.timeout(timeout_s):g}s limit and was "
                f"killed, with every process it started; its output so far:\n"
                f"{result.output[-2000:]}"
            )
        if result.flooded:
            raise ToolError(
                f"the command printed more than {sandbox.limits.output_kill_bytes} bytes and "
                "was killed; send its output to a file and read parts of it (head, tail, grep)"
            )
        if result.limit_hit:
            raise ToolError(
                _limit_message(result, sandbox.limits) + f"; its output:\n{result.output[-2000:]}"
            )
        return {
            "output": result.output,
            "exit_code": result.exit_code,
            "output_bytes_not_shown": result.dropped_bytes,
            "over_disk_quota": result.over_quota,
        }

    @tool
    def read_file(self, path: str, max_bytes: int = 65536) -> dict[str, object]:
        """Read a text file of the working directory (a path relative to it, or under
        /work); at most max_bytes are returned. Symbolic links are not followed."""
        sandbox = self._tool_sandbox()
        try:
            content, size, left = sandbox.read_file(path, max(1, max_bytes))
        except PathRefused as exc:
            raise ToolError(str(exc)) from None
        return {"path": path, "content": content, "size": size, "bytes_not_read": left}

    @tool
    def write_file(self, path: str, content: str) -> dict[str, object]:
        """Write text to a file of the working directory, creating or replacing it (its
        directory must exist). Symbolic links are not followed."""
        sandbox = self._tool_sandbox()
        try:
            written = sandbox.write_file(path, content)
        except PathRefused as exc:
            raise ToolError(str(exc)) from None
        return {"path": path, "bytes_written": written}

    @tool
    def list_dir(self, path: str = ".") -> dict[str, object]:
        """List a directory of the working directory: each entry's name, type (file,
        directory, symlink, special) and size, sorted by name."""
        sandbox = self._tool_sandbox()
        try:
            entries, total = sandbox.list_dir(path)
        except PathRefused as exc:
            raise ToolError(str(exc)) from None
        return {"path": path, "entries": entries, "total": total}

    def _tool_sandbox(self) -> Sandbox:
        if self._sandbox is None:
            raise ToolError("the session has no working directory yet: reset it first")
        return self._sandbox


def _shown(result: RunResult, limits: Limits) -> str:
    """A command's outcome as the step's observation: output, then what happened."""
    notes = []
    if result.timed_out:
        notes.append(
            f"[the command ran past its time limit and was killed (exit {result.exit_code})]"
        )
    elif result.flooded:
        notes.append(
            f"[the command printed more than {limits.output_kill_bytes} bytes and was killed]"
        )
    elif result.limit_hit:
        notes.append(f"[{_limit_message(result, limits)} (exit {result.exit_code})]")
    else:
        notes.append(f"[exit status {result.exit_code}]")
    if result.over_quota:
        notes.append(f"[the working directory is over its {limits.disk_bytes // 2**20} MiB quota]")
    output = result.output
    if output and not output.endswith("\n"):
        output += "\n"
    return output + "\n".join(notes)


def _limit_message(result: RunResult, limits: Limits) -> str:
    if result.limit_hit == "file size":
        return (
            f"the command was killed: a file it wrote reached the {limits.file_bytes // 2**20} "
            "MiB file-size limit"
        )
    return "the command was killed: it used up its CPU time"


def _text(text: str) -> str:
    """Text inside the observation space: characters outside it as '?', cut to its length."""
    allowed = _ALLOWED
    if not all(c in allowed for c in text):
        text = "".join(c if c in allowed else "?" for c in text)
    if len(text) > MAX_OBSERVATION:
        marker = "\n[... cut ...]\n"
        half = (MAX_OBSERVATION - len(marker)) // 2
        text = text[:half] + marker + text[-half:]
    return text


_ALLOWED = frozenset(CHARSET)


def _same(given: str, expected: str) -> bool:
    """Answers compare without regard to case and surrounding or repeated whitespace."""
    return " ".join(given.split()).casefold() == " ".join(expected.split()).casefold()
