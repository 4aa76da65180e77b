"""Generate gen/ from proto/ (`make gen`), or check that gen/ is up to date (`make gen-check`).

buf runs every generator named in buf.gen.yaml into a scratch directory;
this script then gives each language its packaging and replaces gen/<lang>/
wholesale, keeping only the hand-written manifests listed in KEEP. The
check mode does the same into a second scratch directory and fails on any
difference, so gen/ can never be edited by hand or drift from proto/.

Python: protoc derives import paths from proto paths, so `openenv/v1/*.proto`
would generate a top-level package `openenv`, the import name of
openenv-core. The generated modules are therefore moved to `openenv_proto/v1/`
and their imports rewritten (as temporalio/sdk-python does for its protos);
the wire names (`openenv.v1.EnvService`, `openenv/v1/*.proto`) stay as they are.
"""

from __future__ import annotations

import argparse
import filecmp
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
GEN = ROOT / "gen"
BUF = ROOT / ".venv" / "bin" / "buf"
PY_PACKAGE = "openenv_proto"
# Hand-written files inside gen/<lang>/ that generation never touches.
KEEP = {"python": {"pyproject.toml", "README.md"}}

_IMPORT_FROM = re.compile(r"^from openenv\.v1 import ", re.MULTILINE)
_IMPORT = re.compile(r"^import openenv\.v1\.", re.MULTILINE)
_MODULE_REF = re.compile(r"\bopenenv\.v1\.(\w+_pb2)\b")


def _rewrite_python(text: str) -> str:
    text = _IMPORT_FROM.sub(f"from {PY_PACKAGE}.v1 import ", text)
    text = _IMPORT.sub(f"import {PY_PACKAGE}.v1.", text)
    return _MODULE_REF.sub(rf"{PY_PACKAGE}.v1.\1", text)


def _package_python(raw: pathlib.Path, out: pathlib.Path) -> None:
    """Move buf's `openenv/v1` output to `openenv_proto/v1` with rewritten imports."""
    source = raw / "openenv" / "v1"
    target = out / PY_PACKAGE / "v1"
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        text = path.read_text()
        if "_pb2_grpc." in path.name and "Stub" not in text:
            continue  # a file without services: grpc_python writes an empty module
        (target / path.name).write_text(_rewrite_python(text))
    doc = '"""Generated from proto/ by `make gen`. Do not edit."""\n'
    (out / PY_PACKAGE / "__init__.py").write_text(doc)
    (target / "__init__.py").write_text(doc)
    (out / PY_PACKAGE / "py.typed").write_text("")


def generate(dest: pathlib.Path) -> None:
    """Write every language's generated tree under dest/<lang>/."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = pathlib.Path(scratch)
        subprocess.run(
            [str(BUF), "generate", "-o", str(raw)],
            cwd=ROOT,
            check=True,
            stderr=subprocess.DEVNULL if not sys.stderr.isatty() else None,
        )
        _package_python(raw / "python", dest / "python")


def _diff(expected: pathlib.Path, actual: pathlib.Path, keep: set[str]) -> list[str]:
    problems: list[str] = []
    cmp = filecmp.dircmp(expected, actual, ignore=[*keep, "__pycache__", "*.egg-info"])
    stack = [cmp]
    while stack:
        node = stack.pop()
        rel = pathlib.Path(node.left).relative_to(expected)
        problems += [f"missing from gen/: {rel / n}" for n in node.left_only]
        problems += [
            f"not generated: {rel / n}" for n in node.right_only if not n.endswith(".egg-info")
        ]
        _, mismatch, errors = filecmp.cmpfiles(
            node.left, node.right, node.common_files, shallow=False
        )
        problems += [f"differs: {rel / n}" for n in mismatch + errors]
        stack.extend(node.subdirs.values())
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if gen/ differs from proto/")
    parser.add_argument("--gen-dir", type=pathlib.Path, default=GEN, help="the tree to compare")
    args = parser.parse_args()
    gen_dir: pathlib.Path = args.gen_dir
    with tempfile.TemporaryDirectory() as scratch:
        fresh = pathlib.Path(scratch)
        generate(fresh)
        if args.check:
            problems: list[str] = []
            for lang in sorted(p.name for p in fresh.iterdir()):
                problems += _diff(fresh / lang, gen_dir / lang, KEEP.get(lang, set()))
            for line in problems:
                print(f"gen drift: {line}", file=sys.stderr)
            if problems:
                print(
                    "gen/ is out of date with proto/: run `make gen` and commit.", file=sys.stderr
                )
                return 1
            print("gen/ matches proto/")
            return 0
        for lang_dir in sorted(fresh.iterdir()):
            target = gen_dir / lang_dir.name
            keep = KEEP.get(lang_dir.name, set())
            if target.exists():
                for child in target.iterdir():
                    if child.name not in keep and not child.name.endswith(".egg-info"):
                        shutil.rmtree(child) if child.is_dir() else child.unlink()
            shutil.copytree(lang_dir, target, dirs_exist_ok=True)
            print(f"generated gen/{lang_dir.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
