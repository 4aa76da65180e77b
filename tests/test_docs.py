"""Every Python example in README.md and docs/ runs as shown, or says why it cannot.

The line before each ```python fence of a page holds a marker:

    <!-- docs-test: run -->              run the block as a program
    <!-- docs-test: run serve=ENV -->    run it with `openenv-grpc serve ENV` up on
                                         loopback: the block's localhost:50051 (or
                                         127.0.0.1:50051) is that server's address
    <!-- docs-test: save FILE -->        save the block as FILE for later blocks and
                                         ENVs of the page (`serve=FILE.py:Class`)
    <!-- docs-test: fragment -->         a piece of a larger program: only compiled

The blocks of a page run in order in one fresh directory of their own; a server
stays up while consecutive blocks name the same ENV. A block that is not
marked fails the test, so a new example cannot slip past it.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from processes import ROOT, Served

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*$")
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<kind>run|save|fragment)(?P<args>[^>]*?)\s*-->")
ADDRESSES = ("localhost:50051", "127.0.0.1:50051")
RUN_SECONDS = 180
pytestmark = pytest.mark.timeout(600)


@dataclass(frozen=True)
class Block:
    """One ```python block of a page, with what its marker asks."""

    page: pathlib.Path
    line: int  # of the opening fence, 1-based
    code: str
    kind: str  # run, save, fragment, or "" when unmarked
    args: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: pathlib.Path) -> list[Block]:
    """The page's Python blocks, in order, each with the marker on the line before it."""
    lines = page.read_text().splitlines()
    found = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        end = i + 1
        closing = fence["indent"] + "```"
        while end < len(lines) and lines[end].rstrip() != closing:
            end += 1
        code = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
        before = next((line for line in reversed(lines[:i]) if line.strip()), "")
        marker = MARKER.search(before)
        kind, args = (marker["kind"], marker["args"].strip()) if marker else ("", "")
        found.append(Block(page, i + 1, code, kind, args))
        i = end + 1
    return found


ALL = [block for page in PAGES for block in blocks(page)]
RUNNABLE_PAGES = sorted({block.page for block in ALL if block.kind == "run"})


def test_every_python_block_is_marked_and_compiles() -> None:
    unmarked = [block.where for block in ALL if not block.kind]
    assert not unmarked, f"mark these blocks (see tests/test_docs.py): {unmarked}"
    for block in ALL:
        compile(block.code, block.where, "exec")  # a SyntaxError names the page and line


def test_the_readme_echo_example_passes_gymnasiums_env_checker() -> None:
    readme = {block.args: block for block in blocks(ROOT / "README.md") if block.kind == "save"}
    assert "echo.py" in readme
    checks = [b for b in blocks(ROOT / "README.md") if b.args == "serve=echo.py:Echo"]
    assert any("check_env" in block.code for block in checks)


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_examples_of_a_page_run(page: pathlib.Path, tmp_path: pathlib.Path) -> None:
    served: Served | None = None
    serving = ""
    try:
        for n, block in enumerate(blocks(page)):
            if block.kind == "save":
                (tmp_path / block.args).write_text(block.code)
                continue
            if block.kind != "run":
                continue
            env_spec = block.args.removeprefix("serve=") if block.args.startswith("serve=") else ""
            if env_spec != serving:
                if served is not None:
                    assert served.stop() == 0, served.log
                served = Served(_in(tmp_path, env_spec)) if env_spec else None
                serving = env_spec
            code = block.code
            if served is not None:
                for address in ADDRESSES:
                    code = code.replace(address, served.address)
            program = tmp_path / f"block_{n}.py"
            program.write_text(code)
            done = subprocess.run(
                [sys.executable, str(program)],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(tmp_path)},
                capture_output=True,
                text=True,
                timeout=RUN_SECONDS,
            )
            assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"
    finally:
        if served is not None:
            assert served.stop() == 0, served.log


def _in(directory: pathlib.Path, env_spec: str) -> str:
    """An ENV whose file parts (`x.py`) are files saved in the page's directory."""
    return ":".join(
        str(directory / part) if part.endswith(".py") else part for part in env_spec.split(":")
    )
