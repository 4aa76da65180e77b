"""Generate gen/ from proto/ (`make gen`), or check that gen/ is up to date (`make gen-check`).

Every language has a buf template of its own, `gen/<lang>/buf.gen.yaml`
(hand-written, with managed mode for the language's package options, so the
proto files stay free of them). For each one, buf writes into a scratch
directory; this script then gives the language its packaging and replaces
the generated files of gen/<lang>/ wholesale. Hand-written files inside
gen/<lang>/ (manifests, helpers, tests) are listed in `gen/<lang>/.genkeep`,
one path or glob per line, relative to gen/<lang>/ (a directory keeps
everything below it); generation never touches them. The check mode does
the same into a second scratch directory and fails on any difference, so
generated code can never be edited by hand or drift from proto/.

Python: protoc derives import paths from proto paths, so `openenv/v1/*.proto`
would generate a top-level package `openenv`, the import name of
openenv-core. The generated modules are therefore moved to `openenv_proto/v1/`
and their imports rewritten (as temporalio/sdk-python does for its protos);
the wire names (`openenv.v1.EnvService`, `openenv/v1/*.proto`) stay as they are.
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
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
TEMPLATE = "buf.gen.yaml"
KEEP_FILE = ".genkeep"
# Build output and caches that may sit inside gen/<lang>/ and are never compared.
IGNORED = ("__pycache__", "*.egg-info", "node_modules", "target", "build", "dist", ".gradle")

_IMPORT_FROM = re.compile(r"^from openenv\.v1 import ", re.MULTILINE)
_IMPORT = re.compile(r"^import openenv\.v1\.", re.MULTILINE)
_MODULE_REF = re.compile(r"\bopenenv\.v1\.(\w+_pb2)\b")


def languages() -> list[str]:
    """Every language with a template under gen/."""
    return sorted(p.parent.name for p in GEN.glob(f"*/{TEMPLATE}"))


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


def generate(dest: pathlib.Path, langs: list[str]) -> None:
    """Write each language's generated tree under dest/<lang>/."""
    for lang in langs:
        raw = dest / f".raw-{lang}"
        run = subprocess.run(
            [str(BUF), "generate", "--template", str(GEN / lang / TEMPLATE), "-o", str(raw)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if run.returncode:
            raise SystemExit(f"buf generate failed for {lang}:\n{run.stdout}{run.stderr}")
        if lang == "python":
            _package_python(raw, dest / lang)
            shutil.rmtree(raw)
        else:
            raw.rename(dest / lang)


def _keep_patterns(lang_dir: pathlib.Path) -> list[str]:
    keep_file = lang_dir / KEEP_FILE
    lines = keep_file.read_text().splitlines() if keep_file.exists() else []
    patterns = [line.strip().rstrip("/") for line in lines]
    return [TEMPLATE, KEEP_FILE, *(p for p in patterns if p and not p.startswith("#"))]


def _hand_written(rel: pathlib.PurePosixPath, patterns: list[str]) -> bool:
    """Whether a path inside gen/<lang>/ is kept by generation (or is build output)."""
    if any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in IGNORED):
        return True
    text = rel.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or text.startswith(pattern + "/") for pattern in patterns
    )


def _generated_files(root: pathlib.Path, patterns: list[str]) -> set[pathlib.PurePosixPath]:
    if not root.exists():
        return set()
    files = set()
    for path in root.rglob("*"):
        rel = pathlib.PurePosixPath(path.relative_to(root).as_posix())
        if path.is_file() and not _hand_written(rel, patterns):
            files.add(rel)
    return files


def _diff(expected: pathlib.Path, actual: pathlib.Path, patterns: list[str]) -> list[str]:
    want = _generated_files(expected, [])
    have = _generated_files(actual, patterns)
    problems = [f"missing from gen/: {p}" for p in sorted(want - have)]
    problems += [f"not generated: {p}" for p in sorted(have - want)]
    problems += [
        f"differs: {p}"
        for p in sorted(want & have)
        if not filecmp.cmp(expected / p, actual / p, shallow=False)
    ]
    return problems


def _replace(fresh: pathlib.Path, target: pathlib.Path, patterns: list[str]) -> None:
    for rel in _generated_files(target, patterns):
        (target / rel).unlink()
    for directory in sorted(target.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    shutil.copytree(fresh, target, dirs_exist_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if gen/ differs from proto/")
    parser.add_argument("--gen-dir", type=pathlib.Path, default=GEN, help="the tree to compare")
    parser.add_argument("--lang", action="append", help="only this language (repeatable)")
    args = parser.parse_args()
    gen_dir: pathlib.Path = args.gen_dir
    langs: list[str] = args.lang or languages()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = pathlib.Path(scratch)
        generate(fresh, langs)
        problems: list[str] = []
        for lang in langs:
            patterns = _keep_patterns(GEN / lang)
            if args.check:
                problems += [
                    f"{lang}: {line}" for line in _diff(fresh / lang, gen_dir / lang, patterns)
                ]
            else:
                _replace(fresh / lang, gen_dir / lang, patterns)
                print(f"generated gen/{lang}")
        if not args.check:
            return 0
        for line in problems:
            print(f"gen drift: {line}", file=sys.stderr)
        if problems:
            print("gen/ is out of date with proto/: run `make gen` and commit.", file=sys.stderr)
            return 1
        print(f"gen/ matches proto/ ({', '.join(langs)})")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
