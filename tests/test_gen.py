"""gen/ is exactly what proto/ generates, and it lives beside openenv-core in one process."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GEN_SCRIPT = [sys.executable, str(ROOT / "scripts" / "gen.py"), "--check"]


def test_gen_matches_what_proto_generates() -> None:
    result = subprocess.run(GEN_SCRIPT, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "gen/ matches proto/" in result.stdout


def test_the_drift_check_catches_a_hand_edit_and_a_stray_file(tmp_path: pathlib.Path) -> None:
    copy = tmp_path / "gen"
    shutil.copytree(
        ROOT / "gen",
        copy,
        ignore=shutil.ignore_patterns(
            "*.egg-info", "__pycache__", "node_modules", "dist", "build", "target"
        ),
    )
    edited = copy / "python" / "openenv_proto" / "v1" / "values_pb2.pyi"
    edited.write_text(edited.read_text() + "\n# edited by hand\n")
    (copy / "python" / "openenv_proto" / "v1" / "stray_pb2.py").write_text("")
    result = subprocess.run(
        [*GEN_SCRIPT, "--gen-dir", str(copy)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "differs: openenv_proto/v1/values_pb2.pyi" in result.stderr
    assert "not generated: openenv_proto/v1/stray_pb2.py" in result.stderr
    assert "run `make gen`" in result.stderr


def test_generated_code_imports_beside_openenv_core() -> None:
    code = """
import openenv, openenv.core
from openenv_proto.v1 import env_service_pb2, env_service_pb2_grpc, spaces_pb2, values_pb2
import openenv_grpc.server, openenv_grpc.client
assert "site-packages" in openenv.__file__, openenv.__file__
service = env_service_pb2.DESCRIPTOR.services_by_name["EnvService"]
assert service.full_name == "openenv.v1.EnvService"
assert env_service_pb2.__name__ == "openenv_proto.v1.env_service_pb2"
assert hasattr(env_service_pb2_grpc, "EnvServiceStub")
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
