"""A Dockerfile replayed without a container engine: its stages' COPY and RUN steps
run in a directory that stands in for the image's root.

Our machines have no container engine, so the image's install steps are
proved by doing them: every absolute path (in ENV values, WORKDIR, COPY) moves
under `root`, each RUN step runs with `sh -c` there, with the stage's ENV
(expanded as Docker expands it) over the host's environment, which stands in
for the base image. What a RUN step cannot do outside a container (make the
image's user) is named in `SYSTEM_COMMANDS` and only checked, never run. A RUN
step that names an absolute path itself rather than through a variable is an
error: the replay could not move it, and would then test something else.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Commands of the runtime stage that set up the image's accounts; replayed as checks only.
SYSTEM_COMMANDS = frozenset({"groupadd", "useradd"})
# A `/` that starts a path, not one inside a word, a variable or `./x`.
LITERAL_ABSOLUTE_PATH = re.compile(r"(?<![\w.$}{/-])/[A-Za-z]")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# Variables of the test's own interpreter that must not leak into the image's steps.
HOST_ONLY = re.compile(r"^(VIRTUAL_ENV|PYTHON\w*|PIP_\w+|PYTEST_\w+)$")
# PATH of the Debian-based python and golang images, before their own ENV.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Work-tree folders that are never part of a build context worth listing.
SKIPPED = frozenset({".git", ".venv", ".tools"})


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def json_args(self) -> list[str] | None:
        """The JSON (exec) form's arguments, or None for the shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list), f"line {self.line}: not a JSON list"
        return [str(item) for item in value]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        global_args: dict[str, str] = {}
        stages: list[Stage] = []
        for instruction in _instructions(path.read_text()):
            if instruction.keyword == "FROM":
                words = instruction.args.split()
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
                stages.append(Stage(_expand(words[0], global_args), name))
            elif not stages:
                assert instruction.keyword == "ARG", "only ARG may come before the first FROM"
                key, _, value = instruction.args.partition("=")
                global_args[key.strip()] = value.strip()
            else:
                stages[-1].instructions.append(instruction)
        return cls(global_args, stages)

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)


def _instructions(text: str) -> Iterator[Instruction]:
    """Instructions with their continuation lines joined; comments dropped, as Docker does."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#") or (not pending and not line.strip()):
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        keyword, _, args = " ".join(part.strip() for part in pending).partition(" ")
        pending = []
        yield Instruction(keyword.upper(), args.strip(), start)


def _expand(text: str, env: Mapping[str, str]) -> str:
    return VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _flags(args: str) -> tuple[dict[str, str], str]:
    """`--from=build --chown=x rest` -> ({"from": "build", ...}, "rest")."""
    flags: dict[str, str] = {}
    while args.startswith("--"):
        flag, _, args = args.partition(" ")
        key, _, value = flag[2:].partition("=")
        flags[key] = value
        args = args.lstrip()
    return flags, args


class DockerIgnore:
    """The patterns of a .dockerignore file: the last one matching a path decides."""

    def __init__(self, path: Path) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = line.lstrip("!").strip("/")
            self.rules.append((keep, re.compile(_pattern_regex(pattern))))

    def excluded(self, relative: PurePosixPath) -> bool:
        """Whether the context path is left out; a pattern matching a folder covers its files."""
        candidates = [str(relative), *(str(parent) for parent in relative.parents if parent.parts)]
        excluded = False
        for keep, rule in self.rules:
            if any(rule.fullmatch(candidate) for candidate in candidates):
                excluded = not keep
        return excluded


def _pattern_regex(pattern: str) -> str:
    out = ""
    for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        if part == "**/":
            out += "(?:.*/)?"
        elif part == "**":
            out += ".*"
        elif part == "*":
            out += "[^/]*"
        elif part == "?":
            out += "[^/]"
        else:
            out += re.escape(part)
    return out


@dataclass
class Image:
    """What the replay left: the final stage's environment and how it starts."""

    root: Path
    env: dict[str, str]
    user: str
    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]
    exposed: list[str]
    system_steps: list[str]

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


class Replay:
    """Runs a Dockerfile's stages in order, each in `root`, from the build `context`."""

    def __init__(self, dockerfile: Path, context: Path, root: Path, base_bin: Path) -> None:
        self.dockerfile = Dockerfile.parse(dockerfile)
        self.context = context
        self.root = root
        ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
        self.ignore = DockerIgnore(ignore) if ignore.exists() else None
        # The base images' PATH, its folders under the root first (where COPY puts
        # programs), then their tools (python, go, sh): `base_bin`, then the host's.
        host = {k: v for k, v in os.environ.items() if not HOST_ONLY.match(k)}
        image_path = ":".join(str(root / d.lstrip("/")) for d in BASE_PATH.split(":"))
        host["PATH"] = f"{image_path}:{base_bin}:{host.get('PATH', '')}"
        self.base_env = host
        self.log: list[str] = []

    def moved(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def _path(self, raw: str, scope: Mapping[str, str], base: Path) -> Path:
        """A path as written in the Dockerfile: a literal absolute one moves under the root;
        a variable's value has moved already (ENV); a relative one is under `base`."""
        if raw.startswith("/"):
            return self.moved(_expand(raw, scope))
        return base / _expand(raw, scope)

    def run(self) -> Image:
        image: Image | None = None
        for index, stage in enumerate(self.dockerfile.stages):
            final = index == len(self.dockerfile.stages) - 1
            image = self._stage(stage, final)
        assert image is not None
        return image

    def _stage(self, stage: Stage, final: bool) -> Image:
        env = dict(self.base_env)
        args: dict[str, str] = {}
        workdir = self.root
        image = Image(self.root, {}, "root", [], [], [], [], [])
        for step in stage.instructions:
            scope = {**env, **args}
            if step.keyword == "ARG":
                key, _, default = step.args.partition("=")
                key = key.strip()
                args[key] = self.dockerfile.global_args.get(key, default.strip()) or default
            elif step.keyword == "ENV":
                for pair in shlex.split(step.args):
                    key, _, value = pair.partition("=")
                    value = str(self.moved(value)) if value.startswith("/") else value
                    env[key] = _expand(value, {**env, **args})
                    image.env[key] = env[key]
            elif step.keyword == "WORKDIR":
                workdir = self._path(step.args, scope, workdir)
                workdir.mkdir(parents=True, exist_ok=True)
            elif step.keyword == "COPY":
                self._copy(step, scope, workdir)
            elif step.keyword == "RUN":
                command = step.args
                assert step.json_args() is None, f"line {step.line}: RUN in JSON form"
                if final:
                    for part in re.split(r"&&|;", command):
                        name = part.split()[0]
                        assert name in SYSTEM_COMMANDS, (
                            f"line {step.line}: the runtime stage may only run "
                            f"{sorted(SYSTEM_COMMANDS)}, not {name}"
                        )
                    image.system_steps.append(command)
                    continue
                assert not LITERAL_ABSOLUTE_PATH.search(command), (
                    f"line {step.line}: a RUN step names an absolute path; use an ENV variable "
                    f"so the replay can move it: {command}"
                )
                self.log.append(f"RUN {command}")
                done = subprocess.run(
                    ["sh", "-c", command],
                    cwd=workdir,
                    env={**env, **args},
                    capture_output=True,
                    text=True,
                    timeout=900,
                    check=False,
                )
                assert done.returncode == 0, (
                    f"line {step.line}: `{command}` failed ({done.returncode}):\n"
                    f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
                )
            elif step.keyword == "USER":
                image.user = step.args
            elif step.keyword == "EXPOSE":
                image.exposed.extend(step.args.split())
            elif step.keyword == "ENTRYPOINT":
                image.entrypoint = step.json_args() or ["sh", "-c", step.args]
            elif step.keyword == "CMD":
                image.cmd = step.json_args() or ["sh", "-c", step.args]
            elif step.keyword == "HEALTHCHECK":
                _, command = _flags(step.args)
                assert command.startswith("CMD "), f"line {step.line}: HEALTHCHECK without CMD"
                instruction = Instruction("CMD", command[4:], step.line)
                image.healthcheck = instruction.json_args() or ["sh", "-c", instruction.args]
            elif step.keyword not in {"LABEL"}:
                raise AssertionError(f"line {step.line}: the replay does not know {step.keyword}")
        return image

    def _copy(self, step: Instruction, scope: Mapping[str, str], workdir: Path) -> None:
        flags, rest = _flags(step.args)
        exec_form = Instruction("COPY", rest, step.line).json_args()
        parts = exec_form or rest.split()
        sources, dest = parts[:-1], parts[-1]
        target = self._path(dest, scope, workdir)
        for source in sources:
            if "from" in flags:
                origin = self._path(source, scope, self.root)
                assert origin.exists(), f"line {step.line}: stage {flags['from']} made no {source}"
                if origin.resolve() == target.resolve():
                    continue
            else:
                origin = self.context / _expand(source, scope)
                assert origin.exists(), f"line {step.line}: no {source} in the build context"
            into = target / origin.name if dest.endswith("/") or dest in (".", "./") else target
            self.log.append(f"COPY {origin} {into}")
            self._copy_tree(origin, into, from_context="from" not in flags)

    def _copy_tree(self, origin: Path, into: Path, *, from_context: bool) -> None:
        if origin.is_file():
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, into)
            return
        for path in sorted(origin.rglob("*")):
            if path.is_dir():
                continue
            if from_context and self.ignore is not None:
                relative = PurePosixPath(path.relative_to(self.context).as_posix())
                if self.ignore.excluded(relative):
                    continue
            destination = into / path.relative_to(origin)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def context_files(context: Path, ignore: DockerIgnore) -> list[str]:
    """Every file of the build context that the .dockerignore lets in."""
    found = []
    for folder, dirs, files in os.walk(context):
        base = PurePosixPath(Path(folder).relative_to(context).as_posix())
        dirs[:] = [d for d in dirs if not (base == PurePosixPath(".") and d in SKIPPED)]
        for name in files:
            relative = base / name if base != PurePosixPath(".") else PurePosixPath(name)
            if not ignore.excluded(relative):
                found.append(str(relative))
    return sorted(found)
