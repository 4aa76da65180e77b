"""The terminal env for real: a shipped taskset solved over gRPC, and abuse that must fail
cleanly (a fork bomb, `yes` forever, a 10 GB write, path escapes, the network) while the
server and other sessions go on; directories removed on close and after a crash.

Commands really run in the sandbox (namespaces and a session uid when the tests
run as root, as here; user namespaces or rlimits alone elsewhere, which the
tests read from Describe). Waiting is on events: a FIFO the command opens, a
pidfd of a process that must end.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from openenv_grpc import codec
from openenv_grpc.envs import sandbox
from openenv_grpc.envs.terminal import HIDDEN, SHELL_TASKS, TASKS_DIR, TerminalEnv
from openenv_grpc.tasks import TaskSet
from openenv_grpc.tools import ToolError
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import env_service_pb2_grpc as pb_grpc
from openenv_proto.v1 import tasks_pb2, tools_pb2, values_pb2

from conftest import StartServer
from processes import Served
from serverutil import ServerThread

Stub = pb_grpc.EnvServiceStub
TOOLS = ["list_dir", "read_file", "run", "write_file"]


@pytest.fixture
def server(start_server: StartServer) -> ServerThread:
    return start_server(TerminalEnv, step_timeout=60)


@pytest.fixture
def stub(server: ServerThread) -> Iterator[Stub]:
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.EnvServiceStub(channel)


def text(value: str) -> values_pb2.Value:
    return values_pb2.Value(string_value=value)


def start(stub: Stub, task_id: str = "hello-file") -> pb.ResetResponse:
    return stub.Reset(
        pb.ResetRequest(new_session=pb.NewSession(), task=tasks_pb2.TaskSelector(task_id=task_id))
    )


def call(stub: Stub, session: str, tool: str, **arguments: Any) -> tools_pb2.CallToolResponse:
    request = tools_pb2.CallToolRequest(
        session_id=session, name=tool, arguments_json=json.dumps(arguments)
    )
    return stub.CallTool(request)


def result(reply: tools_pb2.CallToolResponse) -> dict[str, Any]:
    assert not reply.is_error, reply.content
    value: dict[str, Any] = json.loads(reply.structured_content_json)
    return value


def refusal(reply: tools_pb2.CallToolResponse) -> str:
    assert reply.is_error, reply
    return "\n".join(item.text for item in reply.content)


def isolation(stub: Stub) -> dict[str, Any]:
    metadata = codec.decode_map(stub.Describe(pb.DescribeRequest()).metadata)
    value: dict[str, Any] = metadata["sandbox"]
    return value


def test_describe_shows_tools_tasksets_and_what_the_sandbox_isolates(stub: Stub) -> None:
    described = stub.Describe(pb.DescribeRequest())
    assert described.env_name == "Terminal-v1"
    assert sorted(tool.name for tool in described.tools) == TOOLS
    assert described.capabilities.tools
    [shell] = described.tasksets
    assert [(s.name, s.num_tasks) for s in shell.splits] == [("train", 9), ("test", 3)]
    info = isolation(stub)
    assert set(info) == {"mode", "network", "filesystem", "own_user"}
    if os.geteuid() == 0:
        assert info == {"mode": "root", "network": True, "filesystem": True, "own_user": True}


def test_every_shipped_task_is_solved_by_its_solution_and_only_by_it(stub: Stub) -> None:
    session = start(stub).session_id
    for split in ("train", "test"):
        for task in SHELL_TASKS.get_task_range(split):
            selector = tasks_pb2.TaskSelector(split=split, index=task.index)
            reset = stub.Reset(pb.ResetRequest(session_id=session, task=selector))
            assert codec.decode_map(reset.info)["task_id"] == task.id
            assert reset.observation.string_value.startswith(task.prompt)
            for index, action in enumerate(task.get("solution"), start=1):
                step = pb.StepRequest(session_id=session, action=text(action), step_index=index)
                reply = stub.Step(step)
            assert (reply.reward, reply.terminated) == (1.0, True), task.id
            assert "the task is solved" in reply.observation.string_value
            stub.Reset(pb.ResetRequest(session_id=session, task=selector))
            wrong = pb.StepRequest(session_id=session, action=text("submit 0"), step_index=1)
            failed = stub.Step(wrong)
            assert (failed.reward, failed.terminated) == (0.0, True), task.id
            assert codec.decode_map(failed.info) == {"passed": False, "submitted": True}


class ShortTerminal(TerminalEnv):
    tasksets = (
        TaskSet(
            "short",
            {
                "train": [
                    {"id": "s", "prompt": "Make done.", "max_steps": 2, "check": "[ -f done ]"}
                ]
            },
            hidden=HIDDEN,
        ),
    )


def test_running_out_of_steps_truncates_and_verifies(start_server: StartServer) -> None:
    server = start_server(ShortTerminal)
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.EnvServiceStub(channel)
        session = start(stub, "s").session_id
        first = stub.Step(pb.StepRequest(session_id=session, action=text("touch done")))
        assert first.observation.string_value == "[exit status 0]"
        assert (first.terminated, first.truncated) == (False, False)
        last = stub.Step(pb.StepRequest(session_id=session, action=text("echo hi; exit 3")))
        assert last.observation.string_value.startswith("hi\n[exit status 3]\nOut of steps (2)")
        assert (last.reward, last.terminated, last.truncated) == (1.0, False, True)
        assert dict(last.reward_components) == {"check": 1.0}


def test_the_tools_work_in_the_sessions_directory(stub: Stub) -> None:
    session = start(stub, "count-errors").session_id
    ran = result(call(stub, session, "run", command="grep -c ERROR app.log; pwd"))
    assert ran == {
        "output": "4\n/work\n",
        "exit_code": 0,
        "output_bytes_not_shown": 0,
        "over_disk_quota": False,
    }
    assert "does not exist" in refusal(call(stub, session, "write_file", path="no/a", content=""))
    assert result(call(stub, session, "run", command="mkdir notes"))["exit_code"] == 0
    written = result(call(stub, session, "write_file", path="/work/notes/a.txt", content="héllo"))
    assert written == {"path": "/work/notes/a.txt", "bytes_written": 6}
    read = result(call(stub, session, "read_file", path="notes/a.txt", max_bytes=2))
    assert read == {"path": "notes/a.txt", "content": "h\ufffd", "size": 6, "bytes_not_read": 4}
    listed = result(call(stub, session, "list_dir"))
    assert [(e["name"], e["type"]) for e in listed["entries"]] == [
        ("app.log", "file"),
        ("notes", "directory"),
    ]
    assert result(call(stub, session, "run", command="cat notes/a.txt"))["output"] == "héllo"
    # A session is always reset before its tools run; the env checks it all the same.
    with pytest.raises(ToolError, match="reset it first"):
        TerminalEnv().run("ls")


def sandbox_processes(marker: bytes) -> list[int]:
    """Pids of live processes whose command line is `marker` (NUL-separated)."""
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == marker:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def wait_for_processes(marker: bytes, seconds: float = 30) -> list[int]:
    """Pids of the processes whose command line is `marker`, once there is one.

    Polls /proc against a deadline: the condition itself is what is waited for.
    """
    deadline = time.monotonic() + seconds
    while not (pids := sandbox_processes(marker)):
        assert time.monotonic() < deadline, f"no process {marker!r} within {seconds} s"
        time.sleep(0.01)
    return pids


def wait_gone(pids: list[int], seconds: float = 30) -> None:
    """Until every pid has ended (a pidfd is readable once its process exits)."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            readable, _, _ = select.select([fd], [], [], seconds)
            assert readable, f"process {pid} is still alive"
        finally:
            os.close(fd)


def test_a_fork_bomb_is_a_tool_error_and_other_sessions_go_on(stub: Stub) -> None:
    bomb_session = start(stub).session_id
    other = start(stub).session_id
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        bomb = pool.submit(
            call, stub, bomb_session, "run", command="b(){ b | b & b; }; b", timeout_s=3
        )
        for _ in range(3):  # meanwhile another session works as usual
            assert result(call(stub, other, "run", command="echo ok"))["output"] == "ok\n"
        message = refusal(bomb.result(timeout=60))
    assert "ran past its 3s limit and was killed, with every process it started" in message
    # The background kind ends with its shell: nothing of it is left either way.
    quick = result(call(stub, bomb_session, "run", command=":(){ :|:& };:", timeout_s=3))
    assert quick["exit_code"] == 0
    assert result(call(stub, bomb_session, "run", command="echo still here"))["exit_code"] == 0
    if isolation(stub)["own_user"]:  # the session's own uid: none of its processes is left
        uid = result(call(stub, bomb_session, "run", command="id -u"))["output"].strip()
        left = [status for status in _statuses() if status.split()[1] == uid]
        assert not left, "processes of the session's user outlived their command"


def _statuses() -> Iterator[str]:
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines = (entry / "status").read_text().splitlines()
            except OSError:
                continue
            yield next(line for line in lines if line.startswith("Uid:"))


def test_output_floods_and_huge_files_are_tool_errors(stub: Stub) -> None:
    session = start(stub).session_id
    flood = refusal(call(stub, session, "run", command="yes", timeout_s=20))
    assert "printed more than 4194304 bytes and was killed" in flood
    huge = refusal(call(stub, session, "run", command="dd if=/dev/zero of=big bs=1M count=10240"))
    assert "reached the 64 MiB file-size limit" in huge
    listed = result(call(stub, session, "list_dir"))["entries"]
    assert listed == [{"name": "big", "type": "file", "size": 64 * 2**20}]
    long = result(call(stub, session, "run", command="seq 1 100000"))
    assert long["output"].startswith("1\n2\n3\n")
    assert long["output"].endswith("99999\n100000\n")
    assert "bytes of output not shown" in long["output"]
    assert long["output_bytes_not_shown"] > 500_000
    # On the step path the same limits are notes in the observation; the episode goes on.
    step = stub.Step(pb.StepRequest(session_id=session, action=text("yes")))
    assert step.observation.string_value.endswith("bytes and was killed]")
    assert not step.terminated
    assert refusal(call(stub, session, "run", command="true", timeout_s=600)).startswith(
        "timeout_s must be above 0 and at most 30"
    )


def test_paths_never_leave_the_directory(stub: Stub) -> None:
    session = start(stub).session_id
    passwd = pathlib.Path("/etc/passwd").read_bytes()
    for path in ("../../etc/passwd", "/etc/passwd", "a/../../x"):
        assert "working directory" in refusal(call(stub, session, "read_file", path=path))
    made = "ln -s /etc/passwd pw && ln -s / root && mkfifo pipe && mkdir d && ln -s .. d/up"
    assert result(call(stub, session, "run", command=made))["exit_code"] == 0
    for tool, arguments in (
        ("read_file", {"path": "pw"}),
        ("write_file", {"path": "pw", "content": "pwned"}),
        ("write_file", {"path": "root/tmp/x", "content": "pwned"}),
        ("list_dir", {"path": "root"}),
        ("read_file", {"path": "d/up/pw"}),
    ):
        assert "symbolic link" in refusal(call(stub, session, tool, **arguments)), arguments
    assert "special file" in refusal(call(stub, session, "read_file", path="pipe"))
    assert "not a file" in refusal(call(stub, session, "read_file", path="d"))
    assert pathlib.Path("/etc/passwd").read_bytes() == passwd
    if isolation(stub)["filesystem"]:
        seen = result(call(stub, session, "run", command="ls /; cat /etc/shadow; ls /work/main"))
        assert seen["output"].split("\n")[:11] == [
            "bin",
            "dev",
            "etc",
            "lib",
            "lib64",
            "proc",
            "sbin",
            "tmp",
            "usr",
            "work",
            "cat: /etc/shadow: Permission denied",
        ]
        assert "/work/main" in seen["output"]
        assert "No such file" in seen["output"]
        # The taskset's files (its answers) are not there to read.
        shown = result(call(stub, session, "run", command=f"cat {TASKS_DIR}/train.jsonl"))
        assert shown["exit_code"] == 1
        assert "No such file or directory" in shown["output"]


def test_the_network_is_out_of_reach(stub: Stub, server: ServerThread) -> None:
    if not isolation(stub)["network"]:
        pytest.skip("this host gives the sandbox no network namespace")
    session = start(stub).session_id
    port = server.server.port
    probe = (
        f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=5)'"
    )
    reached = result(call(stub, session, "run", command=probe))
    assert reached["exit_code"] == 1
    assert "Network is unreachable" in reached["output"] or "refused" in reached["output"]
    lookup = result(call(stub, session, "run", command="getent hosts pypi.org || echo none"))
    assert lookup["output"] == "none\n"


def test_hidden_task_fields_never_reach_a_client(stub: Stub) -> None:
    received = [stub.Describe(pb.DescribeRequest()).SerializeToString()]
    for split in ("train", "test"):
        page = stub.ListTasks(tasks_pb2.ListTasksRequest(split=split))
        received.append(page.SerializeToString())
        for task in page.tasks:
            assert sorted(codec.decode_map(task.fields)) == ["difficulty", "id", "prompt"]
    session = ""
    for task in SHELL_TASKS.get_task_range("train") + SHELL_TASKS.get_task_range("test"):
        reply = start(stub, task.id)
        session = reply.session_id
        received.append(reply.SerializeToString())
        step = stub.Step(pb.StepRequest(session_id=session, action=text("ls -la")))
        received.append(step.SerializeToString())
        secrets = [str(task.get(key)) for key in ("setup", "check") if task.get(key)]
        for data in received:
            assert not [s for s in secrets if s.encode() in data], task.id
    assert session


def workdirs(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(root.glob("srv-*/s-*"))


def test_a_sessions_directory_goes_when_the_session_closes(stub: Stub) -> None:
    root = sandbox.server_root()
    before = set(root.glob("s-*"))
    session = start(stub).session_id
    [made] = set(root.glob("s-*")) - before
    assert result(call(stub, session, "run", command="mkdir -p a/b && chmod 000 a"))
    stub.CloseSession(pb.CloseSessionRequest(session_id=session))
    assert not made.exists()
    # A stream's session: its directory goes when the stream ends.
    reset = pb.ResetRequest(new_session=pb.NewSession(), task=tasks_pb2.TaskSelector(index=0))
    answers = list(stub.StepStream(iter([pb.StepStreamRequest(seq=1, reset_request=reset)])))
    assert answers[0].reset_response.session_id
    assert set(root.glob("s-*")) == before


def test_a_crashed_servers_directories_and_commands_are_cleaned_up(
    tmp_path: pathlib.Path,
) -> None:
    variables = {sandbox.ROOT_VARIABLE: str(tmp_path)}
    first = Served("terminal", "--drain-seconds", "0", env=variables)
    try:
        with grpc.insecure_channel(first.address) as channel:
            stub = pb_grpc.EnvServiceStub(channel)
            session = start(stub).session_id
            [workdir] = workdirs(tmp_path / f"openenv-terminal-{os.getuid()}")
            os.mkfifo(workdir / "started")
            os.chmod(workdir / "started", 0o666)  # for the sandbox's own user
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(
                    call, stub, session, "run", command="echo > started; sleep 31.5", timeout_s=30
                )
                with open(workdir / "started") as fifo:  # opens once the command runs
                    fifo.read()
                # The shell wrote to the FIFO just before it started `sleep`: look
                # until the sleep's command line is there (it is a fork and an exec away).
                sleepers = wait_for_processes(b"sleep\x0031.5\x00")
                first.proc.send_signal(signal.SIGKILL)
                first.wait()
        wait_gone(sleepers)  # the command died with the server
        assert workdir.exists()  # a SIGKILL cleans nothing up ...
        second = Served("terminal", "--drain-seconds", "0", env=variables)  # ... the next one does
        try:
            assert not workdir.parent.exists()
        finally:
            second.stop()
    finally:
        first.kill()


def test_without_namespaces_the_sandbox_says_so(tmp_path: pathlib.Path) -> None:
    served = Served(
        "terminal",
        "--drain-seconds",
        "0",
        env={sandbox.ROOT_VARIABLE: str(tmp_path), sandbox.MODE_VARIABLE: "rlimits"},
    )
    try:
        with grpc.insecure_channel(served.address) as channel:
            stub = pb_grpc.EnvServiceStub(channel)
            expected = {"mode": "rlimits", "network": False, "filesystem": False, "own_user": False}
            assert isolation(stub) == expected
            reply = start(stub)
            assert codec.decode_map(reply.info)["sandbox"] == expected
            assert "(no network)" not in reply.observation.string_value
            session = reply.session_id
            slow = refusal(call(stub, session, "run", command="sleep 30", timeout_s=1))
            assert "ran past its 1s limit" in slow
            back = result(call(stub, session, "run", command="sleep 30 & echo bg", timeout_s=5))
            assert back["output"] == "bg\n"
    finally:
        served.stop()
    assert "rlimits alone" in served.log


def test_the_launcher_refuses_to_run_without_its_server() -> None:
    config = {"mode": "rlimits", "server_pid": 1, "workdir": "/", "command": "true"}
    done = subprocess.run(
        sandbox.LAUNCHER, input=json.dumps(config).encode(), capture_output=True, check=False
    )
    assert done.returncode == sandbox.sandbox_init.SETUP_FAILED


def test_the_package_is_masked_where_a_sandbox_could_see_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An install under /usr (site-packages) would show the tasksets' answers to commands:
    the package's directory is covered there (here: a directory and a file standing in)."""
    if not sandbox.isolation().filesystem:
        pytest.skip("this host gives the sandbox no private root")
    directory = pathlib.Path("/usr/lib/python3/dist-packages")
    if not directory.is_dir():
        directory = next(path for path in pathlib.Path("/usr/lib").iterdir() if path.is_dir())
    monkeypatch.setattr(sandbox, "_hidden_paths", lambda: [str(directory), "/etc/hostname"])
    box = sandbox.Sandbox()
    try:
        shown = box.run(f"ls {directory}; cat /etc/hostname; echo done")
    finally:
        box.close()
    lines = shown.output.splitlines()
    assert lines[0] == f"ls: cannot open directory '{directory}': Permission denied", lines
    assert lines[1:] == ["done"]  # the file reads as empty (/dev/null)
