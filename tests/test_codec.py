"""Values survive the trip through the proto `Value` message, and bad ones are refused.

This proves that `codec.encode_value` / `codec.decode_value` carry every
numpy dtype of the contract bit-exactly (0-d, empty, non-contiguous and
big-endian arrays included, decoded zero-copy as read-only views of the
message), keep the types of numpy scalars and of plain Python values, and
keep dict key order; that `decode_for_space` gives back what Gymnasium
itself gives for samples of every space kind; that `decode_action` refuses
actions outside the space with INVALID_ARGUMENT naming the space; that
malformed messages are INVALID_ARGUMENT; and that values the contract
cannot carry raise `codec.UnencodableValue`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces as gs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from openenv_grpc import codec
from openenv_grpc.errors import Code, InvalidArgument
from openenv_grpc.tensors import decode_tensor
from openenv_proto.v1 import values_pb2

# Gymnasium's Box.contains warns when given a numpy scalar rather than an array.
pytestmark = pytest.mark.filterwarnings("ignore:.*Casting input x to numpy array")

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]
DTYPES = [np.bool_, *INT_DTYPES, *FLOAT_DTYPES]
MULTI_BYTE_DTYPES = [dt for dt in DTYPES if np.dtype(dt).itemsize > 1]


def dtype_id(dtype: Any) -> str:
    return np.dtype(dtype).str


# --- helpers -----------------------------------------------------------------


def wire(value: Any) -> values_pb2.Value:
    """Encode `value` and read it back from its serialized bytes."""
    return values_pb2.Value.FromString(codec.encode_value(value).SerializeToString())


def round_trip(value: Any) -> Any:
    return codec.decode_value(wire(value))


def as_message(value: Any) -> values_pb2.Value:
    """A prebuilt Value as is; anything else encoded and put on the wire."""
    return value if isinstance(value, values_pb2.Value) else wire(value)


def sample_array(dtype: Any, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Deterministic values spread over the whole range of `dtype`, incl. nan/inf/-0.0."""
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    size = math.prod(shape)
    if dt.kind == "b":
        flat = rng.integers(0, 2, size=size).astype(dt)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(info.min, info.max, size=size, dtype=dt, endpoint=True)
        flat[: min(size, 2)] = [info.min, info.max][: min(size, 2)]
    else:
        flat = (rng.standard_normal(size) * 100).astype(dt)
        specials = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=dt)
        flat[: min(size, 4)] = specials[: min(size, 4)]
    return flat.reshape(shape)


def assert_same_array(decoded: Any, original: np.ndarray) -> None:
    """`decoded` is `original` with the same values, bit for bit, in little-endian."""
    assert isinstance(decoded, np.ndarray)
    little = original.dtype.newbyteorder("<")
    assert decoded.dtype == little
    assert decoded.dtype.byteorder in "<=|"
    assert decoded.shape == original.shape
    assert np.array_equal(decoded, original, equal_nan=original.dtype.kind == "f")
    assert decoded.tobytes() == original.astype(little).tobytes()


def strictly_equal(a: Any, b: Any) -> bool:
    """Equality that also tells apart bool/int/float, -0.0/0.0 and tuple/list."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
        )
    return bool(a == b)


def listify(value: Any) -> Any:
    """What generic decoding should give back: tuples become lists, all else stays."""
    if isinstance(value, (list, tuple)):
        return [listify(item) for item in value]
    if isinstance(value, dict):
        return {key: listify(item) for key, item in value.items()}
    return value


# --- arrays ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_array_round_trips_bit_exactly(dtype: Any) -> None:
    array = sample_array(dtype, (2, 3, 4))
    assert_same_array(round_trip(array), array)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_array_travels_as_raw_little_endian_bytes(dtype: Any) -> None:
    array = sample_array(dtype, (3, 2))
    tensor = wire(array).tensor
    assert values_pb2.Dtype.Name(tensor.dtype) == f"DTYPE_{np.dtype(dtype).name.upper()}"
    assert list(tensor.shape) == [3, 2]
    assert tensor.data == array.astype(np.dtype(dtype).newbyteorder("<")).tobytes()


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_d_array_comes_back_as_scalar_of_its_dtype(dtype: Any) -> None:
    array = sample_array(dtype, (1,), seed=3).reshape(())
    msg = wire(array)
    assert list(msg.tensor.shape) == []
    decoded = round_trip(array)
    assert isinstance(decoded, np.generic)
    assert decoded.dtype == array.dtype
    assert_same_array(np.asarray(decoded), array)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0, 2)], ids=str)
def test_empty_array_keeps_shape_and_dtype(dtype: Any, shape: tuple[int, ...]) -> None:
    array = np.zeros(shape, dtype=dtype)
    assert wire(array).tensor.data == b""
    assert_same_array(round_trip(array), array)


def _base() -> np.ndarray:
    return sample_array(np.float32, (4, 6), seed=7)


NON_CONTIGUOUS = {
    "step-slice": lambda: _base()[::2, 1::3],
    "transposed": lambda: _base().T,
    "reversed": lambda: _base()[::-1, ::-1],
    "column": lambda: _base()[:, 2],
    "fortran": lambda: np.asfortranarray(_base()),
    "int16-transposed": lambda: sample_array(np.int16, (3, 5)).T,
    "broadcast": lambda: np.broadcast_to(np.arange(3, dtype=np.uint16), (4, 3)),
}


@pytest.mark.parametrize("make", NON_CONTIGUOUS.values(), ids=NON_CONTIGUOUS.keys())
def test_non_contiguous_array_round_trips(make: Any) -> None:
    array = make()
    assert not array.flags.c_contiguous
    assert_same_array(round_trip(array), np.ascontiguousarray(array))


@pytest.mark.parametrize("dtype", MULTI_BYTE_DTYPES, ids=dtype_id)
def test_big_endian_array_decodes_to_equal_little_endian(dtype: Any) -> None:
    native = sample_array(dtype, (2, 5), seed=11)
    big = native.astype(np.dtype(dtype).newbyteorder(">"))
    before = big.tobytes()
    decoded = round_trip(big)
    assert_same_array(decoded, native)
    assert decoded.dtype.byteorder in "<="
    assert big.tobytes() == before  # the caller's array is left alone


@pytest.mark.parametrize("dtype", MULTI_BYTE_DTYPES, ids=dtype_id)
def test_big_endian_zero_d_array_decodes_to_native_scalar(dtype: Any) -> None:
    native = sample_array(dtype, (1,), seed=5).reshape(())
    big = native.astype(native.dtype.newbyteorder(">"))
    decoded = round_trip(big)
    assert isinstance(decoded, np.generic)
    assert decoded.dtype == native.dtype
    assert np.asarray(decoded).tobytes() == native.tobytes()


def test_decoded_arrays_are_read_only_views_of_the_message() -> None:
    msg = wire({"obs": np.arange(12, dtype=np.float32).reshape(3, 4), "list": [np.ones(2)]})
    decoded = codec.decode_value(msg)
    for array in (
        decoded["obs"],
        decoded["list"][0],
        decode_tensor(msg.map_value.entries[0].value.tensor),
    ):
        assert array.flags.writeable is False
        assert array.flags.owndata is False
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1
    copy = np.array(decoded["obs"])
    copy[0, 0] = 99  # a copy is the way to write
    np.testing.assert_array_equal(codec.decode_value(msg)["obs"][0, 0], 0)


def test_encoding_copies_the_array() -> None:
    array = np.arange(4, dtype=np.int32)
    msg = codec.encode_value(array)
    array[0] = 100
    np.testing.assert_array_equal(codec.decode_value(msg), [0, 1, 2, 3])


# --- scalars and plain values ------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_numpy_scalar_keeps_its_dtype(dtype: Any) -> None:
    scalar = sample_array(dtype, (3,), seed=2)[1]
    assert isinstance(scalar, np.generic)
    assert wire(scalar).WhichOneof("kind") == "tensor"
    decoded = round_trip(scalar)
    assert type(decoded) is type(scalar)
    assert strictly_equal(decoded, scalar)


PLAIN_VALUES: dict[str, tuple[Any, str]] = {
    "int": (42, "int_value"),
    "zero": (0, "int_value"),
    "negative": (-7, "int_value"),
    "int64-max": (2**63 - 1, "int_value"),
    "int64-min": (-(2**63), "int_value"),
    "float": (1.25, "double_value"),
    "float-zero": (0.0, "double_value"),
    "float-negative-zero": (-0.0, "double_value"),
    "float-tiny": (5e-324, "double_value"),
    "float-inf": (-math.inf, "double_value"),
    "true": (True, "bool_value"),
    "false": (False, "bool_value"),
    "str": ("héllo, 世界 😀", "string_value"),
    "str-empty": ("", "string_value"),
    "str-nul": ("a\x00b", "string_value"),
    "bytes": (b"\x00\xff\x10", "bytes_value"),
    "bytes-empty": (b"", "bytes_value"),
    "none": (None, "null_value"),
}


@pytest.mark.parametrize(("value", "kind"), PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_plain_python_value_round_trips_with_its_type(value: Any, kind: str) -> None:
    assert wire(value).WhichOneof("kind") == kind
    assert strictly_equal(round_trip(value), value)


def test_nan_round_trips() -> None:
    assert math.isnan(round_trip(math.nan))


@pytest.mark.parametrize(
    "value", [bytearray(b"ab\x00"), memoryview(b"xyz")], ids=["bytearray", "memoryview"]
)
def test_bytes_like_values_come_back_as_bytes(value: Any) -> None:
    assert strictly_equal(round_trip(value), bytes(value))


@pytest.mark.parametrize("value", [2**63, 2**63 + 12345, 2**64 - 1])
def test_int_beyond_int64_comes_back_as_uint64(value: int) -> None:
    decoded = round_trip(value)
    assert type(decoded) is np.uint64
    assert int(decoded) == value


def test_nested_containers_round_trip() -> None:
    value = {
        "zeta": [1, (2.5, "x", None), {"inner": np.arange(3, dtype=np.int16)}],
        "alpha": (True, b"b", [[-1], [2**64 - 1]]),
        "mid": {"c": {"b": {"a": np.float32(0.5)}}},
    }
    decoded = round_trip(value)
    assert list(decoded) == ["zeta", "alpha", "mid"]
    expected = listify(value)
    expected["alpha"][2][1][0] = np.uint64(2**64 - 1)
    assert strictly_equal(decoded["mid"], expected["mid"])
    assert strictly_equal(decoded["alpha"], expected["alpha"])
    assert strictly_equal(decoded["zeta"][:2], expected["zeta"][:2])
    assert_same_array(decoded["zeta"][2]["inner"], value["zeta"][2]["inner"])


def test_tuple_comes_back_as_list() -> None:
    assert strictly_equal(round_trip((1, (2, 3), "x")), [1, [2, 3], "x"])


def test_dict_key_order_is_kept() -> None:
    keys = ["z", "a", "m", "", "Z", "ä", "10", "9"]
    value = {key: i for i, key in enumerate(keys)}
    msg = wire(value)
    assert [entry.key for entry in msg.map_value.entries] == keys
    assert list(round_trip(value)) == keys


@pytest.mark.parametrize(
    "value",
    [[], {}, (), {"a": []}, [[]], {"a": {}}, [1, [], {}]],
    ids=["list", "dict", "tuple", "dict-of-empty-list", "list-of-empty-list", "nested", "mixed"],
)
def test_empty_containers_round_trip(value: Any) -> None:
    # Info dicts and JSON-like observations are often empty: {} or [].
    assert strictly_equal(round_trip(value), listify(value))


# --- what the contract cannot carry ------------------------------------------------


UNENCODABLE: dict[str, Any] = {
    "object": object(),
    "object-in-list": [1, object()],
    "int-key": {1: "one"},
    "tuple-key-nested": {"ok": {(1, 2): 3}},
    "int-above-uint64": 2**64,
    "int-below-int64": -(2**63) - 1,
    "set": {1, 2},
    "datetime64": np.datetime64("2020-01-01"),
    "complex128-array": np.array([1 + 2j, 3j]),
    "complex-scalar": np.complex128(1j),
    "str-array": np.array(["a", "b"]),
    "object-array": np.array([None, 1], dtype=object),
    "lone-surrogate-str": "\ud800",
    "lone-surrogate-key": {"\udcff": 1},
}


@pytest.mark.parametrize("value", UNENCODABLE.values(), ids=UNENCODABLE.keys())
def test_unencodable_value_raises(value: Any) -> None:
    with pytest.raises(codec.UnencodableValue):
        codec.encode_value(value)


# --- malformed messages ------------------------------------------------------


def _tensor(dtype: int, shape: list[int], data: bytes) -> values_pb2.Value:
    msg = values_pb2.Value()
    msg.tensor.dtype = dtype  # type: ignore[assignment]
    msg.tensor.shape[:] = shape
    msg.tensor.data = data
    return values_pb2.Value.FromString(msg.SerializeToString())


def _in_list(inner: values_pb2.Value) -> values_pb2.Value:
    msg = values_pb2.Value()
    msg.list_value.values.add(int_value=1)
    msg.list_value.values.add().CopyFrom(inner)
    return msg


def _in_map(inner: values_pb2.Value) -> values_pb2.Value:
    msg = values_pb2.Value()
    msg.map_value.entries.add(key="x").value.CopyFrom(inner)
    return msg


MALFORMED: dict[str, values_pb2.Value] = {
    "too-few-bytes": _tensor(values_pb2.DTYPE_FLOAT32, [2, 3], b"\x00" * 20),
    "too-many-bytes": _tensor(values_pb2.DTYPE_FLOAT32, [2, 3], b"\x00" * 28),
    "not-itemsize-multiple": _tensor(values_pb2.DTYPE_INT64, [], b"\x00" * 7),
    "data-without-shape": _tensor(values_pb2.DTYPE_UINT8, [], b"\x00\x01"),
    "unspecified-dtype": _tensor(values_pb2.DTYPE_UNSPECIFIED, [2], b"\x00\x00"),
    "unknown-dtype-number": _tensor(99, [1], b"\x00"),
    "negative-dim": _tensor(values_pb2.DTYPE_INT32, [-1], b""),
    "two-negative-dims": _tensor(values_pb2.DTYPE_INT32, [-2, -3], b"\x00" * 24),
    "no-kind": values_pb2.Value(),
    "no-kind-in-list": _in_list(values_pb2.Value()),
    "no-kind-in-map": _in_map(values_pb2.Value()),
    "bad-tensor-in-map": _in_map(_tensor(values_pb2.DTYPE_INT16, [3], b"\x00")),
}


@pytest.mark.parametrize("msg", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_value_is_invalid_argument(msg: values_pb2.Value) -> None:
    with pytest.raises(InvalidArgument) as info:
        codec.decode_value(msg)
    assert info.value.code is Code.INVALID_ARGUMENT
    assert info.value.message


@pytest.mark.parametrize(
    "msg",
    [MALFORMED["too-few-bytes"], MALFORMED["unspecified-dtype"], MALFORMED["negative-dim"]],
    ids=["too-few-bytes", "unspecified-dtype", "negative-dim"],
)
def test_malformed_action_is_invalid_argument(msg: values_pb2.Value) -> None:
    with pytest.raises(InvalidArgument):
        codec.decode_action(msg, gs.Box(-1.0, 1.0, (2, 3)))
    with pytest.raises(InvalidArgument):
        codec.decode_action(_in_list(msg), gs.Tuple([gs.Discrete(2), gs.Box(-1.0, 1.0, (2,))]))


# --- decoding for a space ----------------------------------------------------


SPACES: dict[str, gs.Space[Any]] = {
    "box-float32": gs.Box(-1.0, 1.0, (3, 2)),
    "box-float64": gs.Box(-np.inf, np.inf, (4,), np.float64),
    "box-float16": gs.Box(-2.0, 2.0, (2,), np.float16),
    "box-scalar": gs.Box(0.0, 1.0, (), np.float32),
    "box-uint8-image": gs.Box(0, 255, (4, 4, 3), np.uint8),
    "box-int64": gs.Box(-(2**40), 2**40, (2,), np.int64),
    "box-uint64": gs.Box(0, 2**64 - 1, (2,), np.uint64),
    "box-bool": gs.Box(np.zeros(3, dtype=bool), np.ones(3, dtype=bool), dtype=np.bool_),
    "discrete": gs.Discrete(7),
    "discrete-start": gs.Discrete(3, start=-10),
    "multi-discrete": gs.MultiDiscrete([[2, 3], [4, 5]], start=[[0, -1], [5, 100]]),
    "multi-discrete-int32": gs.MultiDiscrete([3, 3], dtype=np.int32),
    "multi-binary": gs.MultiBinary(5),
    "multi-binary-2d": gs.MultiBinary([2, 3]),
    "text": gs.Text(6, min_length=0, charset="abc é😀"),
    "dict": gs.Dict([("zeta", gs.Discrete(3)), ("alpha", gs.Box(0.0, 1.0, (2,)))]),
    "tuple": gs.Tuple([gs.Discrete(2), gs.Text(3), gs.MultiBinary(2)]),
    "nested": gs.Dict(
        [
            ("b", gs.Tuple([gs.Dict([("y", gs.Discrete(2)), ("x", gs.Box(-1, 1, (2,)))])])),
            ("a", gs.Tuple([gs.Tuple([gs.MultiDiscrete([2, 2]), gs.Text(2)]), gs.Discrete(4)])),
        ]
    ),
}


def assert_gym_form(decoded: Any, sample: Any, space: gs.Space[Any]) -> None:
    """`decoded` has the form and value Gymnasium gives for `sample` of `space`."""
    if isinstance(space, gs.Dict):
        assert type(decoded) is dict
        assert list(decoded) == list(space.spaces)
        for key, sub in space.spaces.items():
            assert_gym_form(decoded[key], sample[key], sub)
    elif isinstance(space, gs.Tuple):
        assert type(decoded) is tuple
        assert len(decoded) == len(space.spaces)
        for item, sample_item, sub in zip(decoded, sample, space.spaces, strict=True):
            assert_gym_form(item, sample_item, sub)
    elif isinstance(space, gs.Discrete):
        assert isinstance(decoded, (int, np.integer))
        assert not isinstance(decoded, (bool, np.bool_))
        assert int(decoded) == int(sample)
    elif isinstance(space, gs.Text):
        assert type(decoded) is str
        assert decoded == sample
    else:
        assert isinstance(decoded, np.ndarray)
        assert decoded.dtype == space.dtype
        assert decoded.shape == space.shape
        assert decoded.tobytes() == np.asarray(sample, dtype=space.dtype).tobytes()


@pytest.mark.parametrize("space", SPACES.values(), ids=SPACES.keys())
def test_decode_for_space_gives_what_gymnasium_gives(space: gs.Space[Any]) -> None:
    space.seed(42)
    for _ in range(10):
        sample = space.sample()
        decoded = codec.decode_for_space(wire(sample), space)
        assert space.contains(decoded)
        assert_gym_form(decoded, sample, space)
        assert_gym_form(codec.decode_action(wire(sample), space), sample, space)


def test_float64_array_for_float32_box_is_cast() -> None:
    space = gs.Box(-1.0, 1.0, (2, 2), np.float32)
    action = np.array([[0.5, -0.25], [1.0, -1.0]], dtype=np.float64)
    decoded = codec.decode_action(wire(action), space)
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, action.astype(np.float32))


def test_python_lists_and_ints_become_the_space_form() -> None:
    box = gs.Box(-1.0, 1.0, (2,), np.float32)
    decoded = codec.decode_action(wire([0.5, -1.0]), box)
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, [0.5, -1.0])
    md = gs.MultiDiscrete([3, 4])
    assert codec.decode_action(wire([2, 3]), md).dtype == md.dtype
    assert codec.decode_action(wire([[1, 0]]), gs.MultiBinary([1, 2])).dtype == np.int8
    assert int(codec.decode_action(wire(2), gs.Discrete(3))) == 2
    assert int(codec.decode_action(wire(np.int32(-9)), gs.Discrete(3, start=-10))) == -9
    assert codec.decode_action(wire((1, "ab")), gs.Tuple([gs.Discrete(2), gs.Text(2)])) == (
        1,
        "ab",
    )


def test_dict_action_in_another_key_order_comes_back_in_space_order() -> None:
    space = gs.Dict([("zeta", gs.Discrete(3)), ("alpha", gs.Discrete(2))])
    decoded = codec.decode_action(wire({"alpha": 1, "zeta": 2}), space)
    assert list(decoded) == ["zeta", "alpha"]
    assert (int(decoded["zeta"]), int(decoded["alpha"])) == (2, 1)


def test_discrete_with_non_default_dtype_accepts_its_own_samples() -> None:
    space = gs.Discrete(5, start=1, dtype=np.int32)
    space.seed(0)
    sample = space.sample()
    decoded = codec.decode_action(wire(sample), space)
    assert int(decoded) == int(sample)
    assert space.contains(decoded)
    assert int(codec.decode_action(wire(3), space)) == 3


def _duplicate_key_map() -> values_pb2.Value:
    msg = values_pb2.Value()
    msg.map_value.entries.add(key="a").value.int_value = 0
    msg.map_value.entries.add(key="a").value.int_value = 1
    return msg


TWO_DISCRETE_DICT = gs.Dict([("a", gs.Discrete(2)), ("b", gs.Discrete(2))])
TWO_DISCRETE_TUPLE = gs.Tuple([gs.Discrete(2), gs.Discrete(2)])

BAD_ACTIONS: dict[str, tuple[gs.Space[Any], Any]] = {
    "discrete-too-big": (gs.Discrete(3), 3),
    "discrete-negative": (gs.Discrete(3), -1),
    "discrete-below-start": (gs.Discrete(3, start=5), 4),
    "discrete-above-start-range": (gs.Discrete(3, start=5), 8),
    "discrete-string": (gs.Discrete(3), "1"),
    "discrete-float": (gs.Discrete(3), 1.0),
    "discrete-bool": (gs.Discrete(3), True),
    "discrete-none": (gs.Discrete(3), None),
    "discrete-list": (gs.Discrete(3), [1]),
    "discrete-array": (gs.Discrete(3), np.array([1])),
    "box-wrong-shape": (gs.Box(-1.0, 1.0, (2,)), np.zeros(3, dtype=np.float32)),
    "box-wrong-rank": (gs.Box(-1.0, 1.0, (2,)), np.zeros((1, 2), dtype=np.float32)),
    "box-scalar-for-vector": (gs.Box(-1.0, 1.0, (2,)), 0.5),
    "box-above-high": (gs.Box(-1.0, 1.0, (2,)), np.array([0.0, 1.5], dtype=np.float32)),
    "box-below-low": (gs.Box(-1.0, 1.0, (2,)), np.array([-2.0, 0.0], dtype=np.float32)),
    "box-nan": (gs.Box(-1.0, 1.0, (2,)), np.array([np.nan, 0.0], dtype=np.float32)),
    "box-float-for-int": (gs.Box(0, 10, (2,), np.int32), np.array([1.5, 2.0])),
    "box-string": (gs.Box(-1.0, 1.0, (2,)), "abc"),
    "box-ragged": (gs.Box(-1.0, 1.0, (2,)), [[0.1, 0.2], [0.3]]),
    "box-dict": (gs.Box(-1.0, 1.0, (2,)), {"a": 1.0}),
    "multi-discrete-out-of-range": (gs.MultiDiscrete([2, 2]), np.array([0, 2])),
    "multi-binary-two": (gs.MultiBinary(2), np.array([0, 2], dtype=np.int8)),
    "text-too-long": (gs.Text(3), "abcd"),
    "text-bad-char": (gs.Text(3, charset="ab"), "abc"),
    "text-int": (gs.Text(3), 7),
    "dict-missing-key": (TWO_DISCRETE_DICT, {"a": 1}),
    "dict-extra-key": (TWO_DISCRETE_DICT, {"a": 1, "b": 0, "c": 0}),
    "dict-renamed-key": (TWO_DISCRETE_DICT, {"a": 1, "B": 0}),
    "dict-as-list": (TWO_DISCRETE_DICT, [1, 0]),
    "dict-duplicate-key": (gs.Dict({"a": gs.Discrete(2)}), _duplicate_key_map()),
    "dict-bad-inner": (TWO_DISCRETE_DICT, {"a": 1, "b": 5}),
    "tuple-too-short": (TWO_DISCRETE_TUPLE, [1]),
    "tuple-too-long": (TWO_DISCRETE_TUPLE, [1, 0, 1]),
    "tuple-bad-inner-value": (gs.Tuple([gs.Discrete(2)]), (7,)),
    "tuple-as-dict": (TWO_DISCRETE_TUPLE, {"0": 1, "1": 0}),
    "tuple-bad-inner-kind": (TWO_DISCRETE_TUPLE, [1, "x"]),
}
# A wrong kind deep inside is reported against the sub-space it is wrong for.
NAMED_IN_MESSAGE = {"tuple-bad-inner-kind": gs.Discrete(2)}


@pytest.mark.parametrize("case", BAD_ACTIONS.keys())
def test_bad_action_is_invalid_argument_naming_the_space(case: str) -> None:
    space, action = BAD_ACTIONS[case]
    with pytest.raises(InvalidArgument) as info:
        codec.decode_action(as_message(action), space)
    assert info.value.code is Code.INVALID_ARGUMENT
    assert str(NAMED_IN_MESSAGE.get(case, space)) in info.value.message


WRAPPING_ACTIONS: dict[str, tuple[gs.Space[Any], Any]] = {
    # Each value is out of range, but wraps into range when cast to the space's dtype.
    "box-int8-from-int64": (gs.Box(0, 100, (2,), np.int8), np.array([300, 5])),
    "box-int8-from-list": (gs.Box(0, 100, (2,), np.int8), [300, 5]),
    "box-uint8-from-uint16": (gs.Box(0, 255, (1,), np.uint8), np.array([256], np.uint16)),
    "multi-binary-257": (gs.MultiBinary(2), [257, 0]),
    "multi-discrete-int32": (gs.MultiDiscrete([3, 3], dtype=np.int32), np.array([2**32 + 1, 0])),
    "discrete-uint64": (gs.Discrete(10, start=-5), 2**64 - 1),
}


@pytest.mark.parametrize(
    ("space", "action"), WRAPPING_ACTIONS.values(), ids=WRAPPING_ACTIONS.keys()
)
def test_out_of_range_integers_are_not_wrapped_into_the_space(
    space: gs.Space[Any], action: Any
) -> None:
    with pytest.raises(InvalidArgument):
        codec.decode_action(wire(action), space)


# --- properties --------------------------------------------------------------


def _dtypes_both_orders() -> st.SearchStrategy[np.dtype[Any]]:
    return st.sampled_from(DTYPES).flatmap(
        lambda dt: st.sampled_from([np.dtype(dt), np.dtype(dt).newbyteorder(">")])
    )


@settings(max_examples=200, deadline=None)
@given(
    array=hnp.arrays(
        _dtypes_both_orders(),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
    )
)
def test_random_arrays_round_trip_bit_exactly(array: np.ndarray) -> None:
    decoded = np.asarray(round_trip(array))
    assert_same_array(decoded, array)


NO_SURROGATES = st.characters(exclude_categories=["Cs"])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(NO_SURROGATES, max_size=10)
)
# Non-empty containers: empty ones are test_empty_containers_round_trip's job.
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, min_size=1, max_size=4)
        | st.dictionaries(st.text(NO_SURROGATES, max_size=6), children, min_size=1, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_random_json_like_values_round_trip(value: Any) -> None:
    assert strictly_equal(round_trip(value), value)
