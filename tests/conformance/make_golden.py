"""Write golden/: binary messages every language must decode and re-encode to the same bytes.

    .venv/bin/python tests/conformance/make_golden.py [--out DIR]

Each message is built with the generated Python classes and the project's
own codec (`openenv_grpc.tensors`, `codec`, `spaces`), and serialised with
`deterministic=True`. `golden.json` lists the files, the message type of
each, and for every Tensor (and the Value holding one) its dtype, shape and
values, which each language's tensor helper must decode them to.
`tests/test_conformance_data.py` keeps the committed files equal to what
this script writes.

JSON cannot hold every value a tensor can, so, as tests/conformance/README.md
says: int64 and uint64 values beyond 2^53 are decimal strings, and float
infinities are the strings "Infinity" and "-Infinity" (which the standard
string-to-float function of every client language parses). Only values that
compare equal to themselves appear: no NaN.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import shutil
from typing import Any

import numpy as np
from google.protobuf.message import Message
from gymnasium import spaces
from make_scenario import to_json  # the sibling script (this directory is sys.path[0])

from openenv_grpc.codec import encode_map, encode_value
from openenv_grpc.spaces import to_proto
from openenv_grpc.tensors import encode_tensor
from openenv_proto.v1 import env_service_pb2, values_pb2

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
INF = math.inf
I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# file stem -> (numpy dtype, shape, values in C order)
TENSORS: dict[str, tuple[str, list[int], list[Any]]] = {
    "tensor_bool": ("bool", [2, 2], [True, False, False, True]),
    "tensor_int8": ("int8", [5], [-128, -1, 0, 1, 127]),
    "tensor_int16": ("int16", [5], [-32768, -2, 0, 300, 32767]),
    "tensor_int32": ("int32", [5], [-(2**31), -3, 0, 70000, 2**31 - 1]),
    "tensor_int64": ("int64", [2, 3], [I64_MIN, -(2**40), -1, 0, 2**40, I64_MAX]),
    "tensor_uint8": ("uint8", [3], [0, 1, 255]),
    "tensor_uint16": ("uint16", [3], [0, 1, 65535]),
    "tensor_uint32": ("uint32", [3], [0, 1, 2**32 - 1]),
    "tensor_uint64": ("uint64", [4], [0, 1, 2**53, U64_MAX]),
    "tensor_float16": ("float16", [2, 3], [-2.5, 0.0, 0.5, 65504.0, INF, -INF]),
    "tensor_float32": (
        "float32",
        [2, 3],
        [-1.5, 0.0, 3.25, float(np.finfo(np.float32).max), INF, -INF],
    ),
    "tensor_float64": (
        "float64",
        [2, 3],
        [-1.5, 0.1, 1e-300, float(np.finfo(np.float64).max), INF, -INF],
    ),
    "tensor_int32_scalar": ("int32", [], [-7]),  # a numpy scalar: shape [], one element
}


def tensor_json(dtype: str, shape: list[int], values: list[Any]) -> dict[str, Any]:
    """A tensor's golden.json description, in the README's JSON conventions."""

    def json_value(v: Any) -> Any:
        if isinstance(v, float) and math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
            return str(v)
        return v

    return {"dtype": dtype, "shape": shape, "values": [json_value(v) for v in values]}


def array(dtype: str, shape: list[int], values: list[Any]) -> np.ndarray[Any, Any]:
    out = np.array(values, dtype=dtype).reshape(shape)
    if out.ravel().tolist() != values:
        raise SystemExit(f"{dtype} cannot hold {values} exactly")
    return out


def nested_value() -> values_pb2.Value:
    """A list holding every scalar kind and a map of the same kinds plus a tensor."""
    scalars: list[Any] = [-3, 2.5, True, "héllo, π", b"\x00\xff\x10", None]
    mapping = {
        "int": 7,
        "double": -0.5,
        "bool": False,  # a oneof member at its default value is still on the wire
        "string": "",
        "bytes": b"\x01",
        "null": None,
        "tensor": np.array([0.5, -2.0], dtype=np.float32),
        "list": [0, []],
        "map": {},
    }
    return encode_value([*scalars, mapping])


def golden_spaces() -> dict[str, spaces.Space[Any]]:
    return {
        "space_box_per_element": spaces.Box(
            low=np.array([-1.0, 0.0, -INF]), high=np.array([1.0, 2.5, INF]), dtype=np.float64
        ),
        "space_box_scalar": spaces.Box(low=0, high=255, shape=(2, 4, 4), dtype=np.uint8),
        "space_discrete": spaces.Discrete(5, start=-2),
        "space_multi_discrete": spaces.MultiDiscrete([3, 4], start=[0, 1]),
        "space_multi_binary": spaces.MultiBinary(4),
        "space_text": spaces.Text(max_length=8, min_length=1, charset="xyzab"),
        "space_dict": spaces.Dict(
            {
                "position": spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32),
                "mode": spaces.Discrete(2),
            }
        ),
        "space_tuple": spaces.Tuple(
            (spaces.Discrete(3), spaces.Tuple((spaces.MultiBinary(2), spaces.Text(4))))
        ),
    }


def step_batch_response() -> env_service_pb2.StepBatchResponse:
    """Two of three sub-envs of a conformance session after one batched step."""
    msg = env_service_pb2.StepBatchResponse(env_ids=[0, 2], step_index=1)
    encode_value(
        np.array([[312.0, 1.0, 0.0], [376.0, 1.0, 2.0]], dtype=np.float32), msg.observations
    )
    encode_tensor(np.array([-0.25, 0.75]), msg.rewards)
    encode_tensor(np.array([False, True]), msg.terminations)
    encode_tensor(np.array([False, False]), msg.truncations)
    encode_tensor(np.array([0.0, 1.0]), msg.reward_components["action"])  # one entry: see README
    for t in (1, 1):
        encode_map({"t": t}, msg.infos.add())
    return msg


def golden() -> list[tuple[str, Message, dict[str, Any] | None]]:
    """(file stem, message, tensor description or None), in golden.json order."""
    out: list[tuple[str, Message, dict[str, Any] | None]] = []
    for stem, (dtype, shape, values) in TENSORS.items():
        out.append(
            (stem, encode_tensor(array(dtype, shape, values)), tensor_json(dtype, shape, values))
        )
    value_tensor = ("float64", [3], [-0.25, 1e100, -INF])
    out.append(("value_tensor", encode_value(array(*value_tensor)), tensor_json(*value_tensor)))
    out.append(("value_nested", nested_value(), None))
    out += [(stem, to_proto(space), None) for stem, space in golden_spaces().items()]
    out.append(("step_batch_response", step_batch_response(), None))
    return out


def write(directory: pathlib.Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    entries = []
    for stem, msg, tensor in golden():
        name = f"{stem}.binpb"
        (directory / name).write_bytes(msg.SerializeToString(deterministic=True))
        entry: dict[str, Any] = {"file": name, "type": msg.DESCRIPTOR.full_name}
        if tensor is not None:
            entry["tensor"] = tensor
        entries.append(entry)
    (directory / "golden.json").write_text(to_json(entries) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=GOLDEN, help="directory to (re)write")
    write(parser.parse_args().out)


if __name__ == "__main__":
    main()
