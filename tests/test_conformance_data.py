"""The conformance data is what its scripts write, and says what the env and codec do.

scenario.json and golden/ are committed so that clients in other languages
read them without Python; these tests keep them equal, byte for byte, to
what `make_scenario.py` and `make_golden.py` write today, and check the
JSON conventions of golden.json against the Python codec.
"""

from __future__ import annotations

import filecmp
import json
import math
import pathlib
import subprocess
import sys
from typing import Any

import numpy as np

from openenv_grpc.envs.conformance import ConformanceEnv
from openenv_grpc.loader import load_env_factory
from openenv_grpc.tensors import decode_tensor
from openenv_proto.v1 import env_service_pb2, spaces_pb2, values_pb2

from processes import ROOT

HERE = ROOT / "tests" / "conformance"
MESSAGES = {
    "openenv.v1.Tensor": values_pb2.Tensor,
    "openenv.v1.Value": values_pb2.Value,
    "openenv.v1.Space": spaces_pb2.Space,
    "openenv.v1.StepBatchResponse": env_service_pb2.StepBatchResponse,
}


def _run(script: str, out: pathlib.Path) -> None:
    subprocess.run(
        [sys.executable, str(HERE / script), "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=120,
    )


def test_scenario_json_is_what_make_scenario_writes(tmp_path: pathlib.Path) -> None:
    _run("make_scenario.py", tmp_path / "scenario.json")
    fresh = (tmp_path / "scenario.json").read_bytes()
    assert fresh == (HERE / "scenario.json").read_bytes(), (
        "tests/conformance/scenario.json is stale: run .venv/bin/python "
        "tests/conformance/make_scenario.py and commit it"
    )


def test_golden_is_what_make_golden_writes(tmp_path: pathlib.Path) -> None:
    _run("make_golden.py", tmp_path / "golden")
    compared = filecmp.dircmp(tmp_path / "golden", HERE / "golden")
    stale = compared.left_only + compared.right_only + compared.diff_files + compared.funny_files
    assert not stale, (
        f"tests/conformance/golden/ differs in {stale}: run .venv/bin/python "
        "tests/conformance/make_golden.py and commit it"
    )
    # dircmp compares by size and time first; compare the bytes for certain.
    for name in compared.common_files:
        same = (tmp_path / "golden" / name).read_bytes() == (HERE / "golden" / name).read_bytes()
        assert same, f"golden/{name} differs"


def _json_value(value: Any) -> Any:
    """A golden.json value as Python reads it: strings are big integers or infinities."""
    if isinstance(value, str):
        return float(value) if value.lstrip("-") == "Infinity" else int(value)
    return value


def test_every_golden_file_round_trips_and_its_tensor_decodes_to_its_values() -> None:
    entries = json.loads((HERE / "golden" / "golden.json").read_text())
    assert {e["file"] for e in entries} == {p.name for p in (HERE / "golden").glob("*.binpb")}
    for entry in entries:
        data = (HERE / "golden" / entry["file"]).read_bytes()
        msg = MESSAGES[entry["type"]].FromString(data)
        assert msg.SerializeToString(deterministic=True) == data, entry["file"]
        if "tensor" not in entry:
            continue
        tensor = msg.tensor if isinstance(msg, values_pb2.Value) else msg
        want = entry["tensor"]
        array = decode_tensor(tensor)
        assert str(array.dtype) == want["dtype"], entry["file"]
        assert list(array.shape) == want["shape"], entry["file"]
        values = [_json_value(v) for v in want["values"]]
        assert array.ravel().tolist() == values, entry["file"]
        assert all(not isinstance(v, float) or not math.isnan(v) for v in values)


def test_the_scenario_describes_the_env_served_as_conformance() -> None:
    scenario = json.loads((HERE / "scenario.json").read_text())
    env = load_env_factory("conformance")()
    assert isinstance(env, ConformanceEnv)
    assert scenario["env_name"] == env.display_name == "Conformance-v1"
    assert env.reward_range == (-0.25, 0.75)
    reset = env.reset(seed=scenario["episode"]["seed"])
    assert reset.observation.tolist() == scenario["episode"]["reset_observation"]
    for step in scenario["episode"]["steps"]:
        result = env.step(np.int64(step["action"]))
        assert env.observation_space.contains(result.observation)
        assert result.observation.tolist() == step["observation"]
        assert (result.reward, result.terminated, result.truncated) == (
            step["reward"],
            step["terminated"],
            step["truncated"],
        )
    assert env.state() == {"s": 545, "t": 5}


def test_the_env_truncates_after_eight_steps_without_a_late_action_2() -> None:
    env = ConformanceEnv()
    env.reset()
    results = [env.step(1) for _ in range(8)]
    assert [r.truncated for r in results] == [False] * 7 + [True]
    assert not any(r.terminated for r in results)
    assert results[-1].info == {"t": 8}
