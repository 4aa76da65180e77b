"""Gymnasium spaces survive the trip through the proto `Space` message exactly.

For every space kind the contract describes (Box, Discrete, MultiDiscrete,
MultiBinary, Text, Dict, Tuple, nested to any depth), this proves that
`spaces.from_proto(Space.FromString(spaces.to_proto(s).SerializeToString()))`
is `==` to `s`, keeps what `==` does not look at (Dict key order, the exact
values of Box bounds, which Box elements are unbounded, Text charset order),
and accepts and draws the same samples as `s`. It also proves that spaces the
contract has no message for raise `spaces.UnsupportedSpace`, and that an
empty or invalid Space message raises `errors.InvalidArgument`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium import spaces as gs
from gymnasium.spaces.utils import flatten
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from openenv_grpc import spaces
from openenv_grpc.errors import Code, InvalidArgument
from openenv_proto.v1 import spaces_pb2, values_pb2

# Gymnasium's Box.contains warns when given a numpy scalar rather than an array.
pytestmark = pytest.mark.filterwarnings("ignore:.*Casting input x to numpy array")

SAMPLES = 20

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]
BOX_DTYPES = [np.bool_, *INT_DTYPES, *FLOAT_DTYPES]


# --- helpers -----------------------------------------------------------------


def round_trip(space: gs.Space[Any]) -> gs.Space[Any]:
    """Describe `space`, put it on the wire, read it back and rebuild it."""
    wire = spaces.to_proto(space).SerializeToString()
    return spaces.from_proto(spaces_pb2.Space.FromString(wire))


def describe(space: gs.Space[Any]) -> Any:
    """An order-sensitive nested summary of a space (`==` ignores Dict key order)."""
    if isinstance(space, gs.Dict):
        return ("Dict", [(key, describe(sub)) for key, sub in space.spaces.items()])
    if isinstance(space, gs.Tuple):
        return ("Tuple", [describe(sub) for sub in space.spaces])
    return (type(space).__name__, space.dtype, space.shape)


def assert_same_details(original: gs.Space[Any], rebuilt: gs.Space[Any]) -> None:
    """Check, recursively, what `==` compares only loosely or not at all."""
    assert type(rebuilt) is type(original)
    if isinstance(original, gs.Box):
        # Box.__eq__ uses np.allclose; the wire carries the exact values.
        for rebuilt_bound, bound in ((rebuilt.low, original.low), (rebuilt.high, original.high)):
            assert rebuilt_bound.dtype == bound.dtype
            assert rebuilt_bound.shape == bound.shape
            assert np.array_equal(rebuilt_bound, bound)
        np.testing.assert_array_equal(rebuilt.bounded_below, original.bounded_below)
        np.testing.assert_array_equal(rebuilt.bounded_above, original.bounded_above)
    elif isinstance(original, gs.MultiDiscrete):
        assert rebuilt.nvec.dtype == original.nvec.dtype
        assert rebuilt.nvec.tobytes() == original.nvec.tobytes()
        assert rebuilt.start.tobytes() == original.start.tobytes()
    elif isinstance(original, gs.Discrete):
        assert (int(rebuilt.n), int(rebuilt.start)) == (int(original.n), int(original.start))
    elif isinstance(original, gs.Text):
        assert (rebuilt.min_length, rebuilt.max_length) == (
            original.min_length,
            original.max_length,
        )
        assert rebuilt.character_set == original.character_set
    elif isinstance(original, gs.Dict):
        assert list(rebuilt.spaces) == list(original.spaces)
        for key, sub in original.spaces.items():
            assert_same_details(sub, rebuilt.spaces[key])
    elif isinstance(original, gs.Tuple):
        assert len(rebuilt.spaces) == len(original.spaces)
        for sub, rebuilt_sub in zip(original.spaces, rebuilt.spaces, strict=True):
            assert_same_details(sub, rebuilt_sub)


def assert_exact_round_trip(space: gs.Space[Any], seed: int = 0) -> gs.Space[Any]:
    """Round-trip `space` and check the rebuilt space is the same space."""
    rebuilt = round_trip(space)
    assert rebuilt == space
    assert space == rebuilt
    assert describe(rebuilt) == describe(space)
    assert_same_details(space, rebuilt)
    space.seed(seed)
    rebuilt.seed(seed + 1)
    for _ in range(SAMPLES):
        assert rebuilt.contains(space.sample())
        assert space.contains(rebuilt.sample())
    return rebuilt


def samples_equal(a: Any, b: Any) -> bool:
    """Exact, type-aware equality of two (nested) samples."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and list(a) == list(b) and all(samples_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple):
        return (
            isinstance(b, tuple)
            and len(a) == len(b)
            and all(samples_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, (np.ndarray, np.generic)):
        return (
            isinstance(b, (np.ndarray, np.generic))
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    return type(a) is type(b) and a == b


def f32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


# --- the spaces --------------------------------------------------------------


def _box_for(dtype: type[np.generic]) -> gs.Box:
    dt = np.dtype(dtype)
    if dt.kind == "b":
        low = np.array([[0, 0, 1], [0, 1, 0]], dtype=dt)
        high = np.array([[1, 0, 1], [1, 1, 1]], dtype=dt)
        return gs.Box(low=low, high=high, dtype=dt)
    if dt.kind == "f":
        low = np.array([[-1.5, 0.0, -np.inf], [2.25, -np.inf, 0.125]], dtype=dt)
        high = np.array([[1.5, 0.1, 3.0], [2.25, np.inf, np.inf]], dtype=dt)
        return gs.Box(low=low, high=high, dtype=dt)
    # Gymnasium's own sampler overflows near the 64-bit limits (box-*64-full
    # below cover those limits in whole-range boxes, which it does sample).
    info = np.iinfo(dt) if dt.itemsize < 8 else np.iinfo(np.int32 if dt.kind == "i" else np.uint32)
    low = np.array([[info.min, 0, 1], [info.max - 3, 7, info.min]], dtype=dt)
    high = np.array([[info.max, 0, 9], [info.max, 100, info.min + 2]], dtype=dt)
    return gs.Box(low=low, high=high, dtype=dt)


BOXES = {f"box-{np.dtype(dt).name}": _box_for(dt) for dt in BOX_DTYPES}
BOXES |= {
    "box-scalar-float32": gs.Box(low=-1.0, high=1.0, shape=(), dtype=np.float32),
    "box-scalar-int64": gs.Box(low=-3, high=3, shape=(), dtype=np.int64),
    "box-scalar-unbounded": gs.Box(low=-np.inf, high=np.inf, shape=(), dtype=np.float64),
    "box-image-uint8": gs.Box(low=0, high=255, shape=(4, 5, 3), dtype=np.uint8),
    "box-4d": gs.Box(low=-2.0, high=2.0, shape=(2, 1, 3, 2), dtype=np.float32),
    "box-all-infinite": gs.Box(low=-np.inf, high=np.inf, shape=(3, 2), dtype=np.float32),
    "box-half-bounded": gs.Box(
        low=f32([0.0, -np.inf, 1.0]), high=f32([np.inf, 0.0, 1.0]), dtype=np.float32
    ),
    "box-per-element": gs.Box(low=f32([[-1, -2], [-3, -4]]), high=f32([[1, 2], [3, 4]])),
    "box-degenerate": gs.Box(low=f32([0.5, 0.5]), high=f32([0.5, 0.5])),
    "box-no-elements": gs.Box(low=-1.0, high=1.0, shape=(0, 2), dtype=np.float32),
    "box-one-element": gs.Box(low=-1.0, high=1.0, shape=(1,), dtype=np.float64),
    # A quarter of the float64 range: uniform sampling over all of it overflows.
    "box-float64-huge": gs.Box(
        low=np.finfo(np.float64).min / 4,
        high=np.finfo(np.float64).max / 4,
        shape=(2,),
        dtype=np.float64,
    ),
    "box-float16-extremes": gs.Box(
        low=np.finfo(np.float16).min, high=np.finfo(np.float16).max, shape=(2,), dtype=np.float16
    ),
    "box-float32-tiny": gs.Box(low=f32([1e-45, -1e-38]), high=f32([1e-44, 3.4e38])),
    "box-uint64-full": gs.Box(low=0, high=2**64 - 1, shape=(3,), dtype=np.uint64),
    "box-int64-full": gs.Box(low=-(2**63), high=2**63 - 1, shape=(3,), dtype=np.int64),
}

OTHER_SPACES: dict[str, gs.Space[Any]] = {
    "discrete": gs.Discrete(5),
    "discrete-start": gs.Discrete(3, start=-7),
    "discrete-positive-start": gs.Discrete(4, start=10),
    "discrete-one": gs.Discrete(1, start=2**40),
    "discrete-huge": gs.Discrete(2**62, start=-(2**62)),
    "multi-discrete": gs.MultiDiscrete([3, 5, 2]),
    "multi-discrete-2d-start": gs.MultiDiscrete(
        np.array([[2, 3], [4, 5]]), start=np.array([[-1, 0], [10, -20]])
    ),
    "multi-discrete-int8": gs.MultiDiscrete(
        np.array([2, 7], dtype=np.int8), dtype=np.int8, start=np.array([-3, 100], dtype=np.int8)
    ),
    "multi-discrete-uint16": gs.MultiDiscrete(
        np.array([[300], [2]], dtype=np.uint16), dtype=np.uint16, start=[[5], [0]]
    ),
    "multi-discrete-int32": gs.MultiDiscrete([4, 4, 4], dtype=np.int32, start=[1, 2, 3]),
    "multi-binary-int": gs.MultiBinary(6),
    "multi-binary-shape": gs.MultiBinary([2, 3]),
    "multi-binary-3d": gs.MultiBinary((2, 1, 4)),
    "text-default": gs.Text(8),
    "text-bounds": gs.Text(min_length=3, max_length=3),
    "text-empty-allowed": gs.Text(min_length=0, max_length=4, charset="ab"),
    "text-custom-charset": gs.Text(min_length=2, max_length=12, charset="-.01:xyz"),
    # No NUL (Gymnasium's own sampler drops it), and in sorted order: unsorted
    # charsets are test_text_keeps_charset_order's job.
    "text-unicode-charset": gs.Text(max_length=5, charset=" \x7fé中😀"),
    "dict": gs.Dict({"position": gs.Box(-1.0, 1.0, (2,)), "gear": gs.Discrete(3)}),
    "dict-unsorted-pairs": gs.Dict(
        [("zeta", gs.Discrete(2)), ("alpha", gs.MultiBinary(3)), ("mid", gs.Text(4))]
    ),
    "dict-unsorted-no-sort": gs.Dict(
        {"b": gs.Discrete(2), "a": gs.Discrete(3), "c": gs.Discrete(4)}, sort_keys=False
    ),
    "dict-odd-keys": gs.Dict([("", gs.Discrete(2)), ("ключ 🔑", gs.Discrete(3))]),
    "tuple": gs.Tuple([gs.Discrete(2), gs.Box(0.0, 1.0, (3,)), gs.Text(3)]),
    "tuple-empty": gs.Tuple([]),
    "tuple-single": gs.Tuple([gs.MultiDiscrete([2, 2])]),
    "nested": gs.Dict(
        [
            (
                "agent",
                gs.Tuple(
                    [
                        gs.Dict([("z", gs.Discrete(4, start=1)), ("a", gs.MultiBinary([2, 2]))]),
                        gs.Box(-np.inf, 0.0, (2,), np.float64),
                    ]
                ),
            ),
            ("camera", gs.Box(0, 255, (2, 2, 3), np.uint8)),
            (
                "deep",
                gs.Tuple([gs.Tuple([gs.Dict([("y", gs.Tuple([gs.Text(2), gs.Discrete(2)]))])])]),
            ),
        ]
    ),
}

ALL_SPACES = BOXES | OTHER_SPACES


# --- round trips -------------------------------------------------------------


@pytest.mark.parametrize("space", ALL_SPACES.values(), ids=ALL_SPACES.keys())
def test_space_round_trips_exactly(space: gs.Space[Any]) -> None:
    assert_exact_round_trip(space)


@pytest.mark.parametrize("space", ALL_SPACES.values(), ids=ALL_SPACES.keys())
def test_rebuilt_space_draws_the_same_seeded_samples(space: gs.Space[Any]) -> None:
    rebuilt = round_trip(space)
    space.seed(1234)
    rebuilt.seed(1234)
    for _ in range(SAMPLES):
        assert samples_equal(space.sample(), rebuilt.sample())


@pytest.mark.parametrize("dtype", BOX_DTYPES, ids=lambda dt: np.dtype(dt).name)
def test_box_dtype_and_wire_dtype_match(dtype: type[np.generic]) -> None:
    msg = spaces.to_proto(BOXES[f"box-{np.dtype(dtype).name}"])
    assert msg.WhichOneof("kind") == "box"
    assert values_pb2.Dtype.Name(msg.box.dtype) == f"DTYPE_{np.dtype(dtype).name.upper()}"
    assert msg.box.low.dtype == msg.box.dtype
    assert msg.box.high.dtype == msg.box.dtype
    assert list(msg.box.shape) == [2, 3]
    rebuilt = round_trip(BOXES[f"box-{np.dtype(dtype).name}"])
    assert rebuilt.dtype == np.dtype(dtype)
    assert rebuilt.dtype.isnative


def test_uniform_box_bounds_travel_as_one_scalar() -> None:
    space = gs.Box(low=0, high=255, shape=(64, 64, 3), dtype=np.uint8)
    msg = spaces.to_proto(space)
    for bound in (msg.box.low, msg.box.high):
        assert list(bound.shape) == []
        assert len(bound.data) == 1
    assert msg.ByteSize() < 64
    rebuilt = assert_exact_round_trip(space)
    assert rebuilt.low.shape == rebuilt.high.shape == (64, 64, 3)
    assert rebuilt.low.flags.writeable  # a real array, not a broadcast view


def test_per_element_box_bounds_travel_per_element() -> None:
    space = gs.Box(low=f32([[0, -1], [-np.inf, 0]]), high=f32([[1, 1], [1, 1]]))
    msg = spaces.to_proto(space)
    assert list(msg.box.low.shape) == [2, 2]
    assert list(msg.box.high.shape) == []  # the uniform one is still compacted
    assert_exact_round_trip(space)


def test_box_infinite_float_bounds_stay_unbounded() -> None:
    space = gs.Box(low=f32([-np.inf, 0.0, -np.inf]), high=f32([np.inf, np.inf, 5.0]))
    rebuilt = round_trip(space)
    assert not rebuilt.is_bounded("below")
    assert not rebuilt.is_bounded("above")
    np.testing.assert_array_equal(rebuilt.low, space.low)
    np.testing.assert_array_equal(rebuilt.high, space.high)
    np.testing.assert_array_equal(rebuilt.bounded_below, [False, True, False])
    np.testing.assert_array_equal(rebuilt.bounded_above, [False, False, True])


def test_integer_box_with_infinite_bounds_stays_unbounded() -> None:
    # Gymnasium stores -inf/+inf of a signed integer Box as the dtype's limits
    # but remembers that the elements are unbounded (and samples them from a
    # normal distribution around 0 instead of uniformly over the whole dtype).
    space = gs.Box(low=-np.inf, high=np.inf, shape=(3,), dtype=np.int32)
    assert not space.is_bounded("both")
    rebuilt = round_trip(space)
    assert rebuilt == space
    assert not rebuilt.is_bounded("both")
    np.testing.assert_array_equal(rebuilt.bounded_below, space.bounded_below)


def test_dict_keeps_the_given_key_order() -> None:
    pairs = [("zulu", gs.Discrete(2)), ("alpha", gs.Discrete(3)), ("mike", gs.Discrete(4))]
    rebuilt = round_trip(gs.Dict(pairs))
    assert list(rebuilt.spaces) == ["zulu", "alpha", "mike"]
    msg = spaces.to_proto(gs.Dict(pairs))
    assert [field.key for field in msg.dict.fields] == ["zulu", "alpha", "mike"]
    # A plain dict is sorted by Gymnasium itself; that order is what travels.
    sorted_by_gym = gs.Dict({"b": gs.Discrete(2), "a": gs.Discrete(2)})
    assert list(round_trip(sorted_by_gym).spaces) == list(sorted_by_gym.spaces) == ["a", "b"]


def test_nested_dict_order_matters_to_samples() -> None:
    space = gs.Dict([("b", gs.Dict([("y", gs.Discrete(3)), ("x", gs.Discrete(3))]))])
    rebuilt = round_trip(space)
    rebuilt.seed(5)
    sample = rebuilt.sample()
    assert list(sample) == ["b"]
    assert list(sample["b"]) == ["y", "x"]


def test_text_keeps_charset_order() -> None:
    # The proto documents `charset` as "every character ... in order"; Gymnasium
    # samples and flattens by that order (character_list / character_index).
    space = gs.Text(min_length=1, max_length=6, charset="zyx10")
    rebuilt = round_trip(space)
    assert rebuilt == space
    assert rebuilt.character_list == space.character_list
    np.testing.assert_array_equal(flatten(rebuilt, "z1x"), flatten(space, "z1x"))
    space.seed(3)
    rebuilt.seed(3)
    assert [space.sample() for _ in range(5)] == [rebuilt.sample() for _ in range(5)]


def test_multibinary_given_a_one_dim_shape_round_trips_as_the_same_set() -> None:
    # MultiBinary([4]) and MultiBinary(4) are the same set of samples, but
    # Gymnasium's == compares how `n` was written ((4,) or 4). The contract
    # carries the shape, so a one-dimensional MultiBinary always comes back as
    # MultiBinary(n): same shape, dtype, samples and flattening.
    space = gs.MultiBinary([4])
    rebuilt = round_trip(space)
    assert rebuilt == gs.MultiBinary(4)
    assert (rebuilt.shape, rebuilt.dtype) == (space.shape, space.dtype)
    space.seed(5)
    rebuilt.seed(5)
    for _ in range(5):
        np.testing.assert_array_equal(rebuilt.sample(), space.sample())


def test_discrete_dtype_round_trips() -> None:
    space = gs.Discrete(4, start=2, dtype=np.int32)
    rebuilt = round_trip(space)
    assert rebuilt.dtype == np.dtype(np.int32)
    assert rebuilt == space


def test_empty_dict_space_round_trips() -> None:
    space = gs.Dict({})
    assert round_trip(space) == space


# --- what the contract cannot describe -------------------------------------------


UNSUPPORTED: dict[str, gs.Space[Any]] = {
    "sequence": gs.Sequence(gs.Discrete(3)),
    "sequence-stacked": gs.Sequence(gs.Box(0.0, 1.0, (2,)), stack=True),
    "graph": gs.Graph(node_space=gs.Box(0.0, 1.0, (2,)), edge_space=gs.Discrete(3)),
    "oneof": gs.OneOf([gs.Discrete(2), gs.Box(0.0, 1.0, (2,))]),
    "in-dict": gs.Dict({"ok": gs.Discrete(2), "bad": gs.Sequence(gs.Discrete(2))}),
    "in-tuple": gs.Tuple([gs.Discrete(2), gs.Graph(gs.Discrete(2), None)]),
    "deep": gs.Tuple([gs.Dict({"a": gs.Tuple([gs.Sequence(gs.Discrete(2))])})]),
    "int-dict-key": gs.Dict({1: gs.Discrete(2)}),
}


@pytest.mark.parametrize("space", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_unsupported_space_raises(space: gs.Space[Any]) -> None:
    with pytest.raises(spaces.UnsupportedSpace):
        spaces.to_proto(space)


def test_empty_space_message_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as info:
        spaces.from_proto(spaces_pb2.Space.FromString(spaces_pb2.Space().SerializeToString()))
    assert info.value.code is Code.INVALID_ARGUMENT


def test_empty_nested_space_message_is_invalid_argument() -> None:
    msg = spaces_pb2.Space()
    msg.tuple.spaces.add().discrete.n = 2
    msg.tuple.spaces.add()  # no kind
    with pytest.raises(InvalidArgument):
        spaces.from_proto(msg)


def _invalid_space_messages() -> dict[str, spaces_pb2.Space]:
    """Space messages a well-behaved server never sends, one defect each."""
    box = gs.Box(low=np.arange(6, dtype=np.float32).reshape(2, 3), high=np.float32(9.0))
    cases: dict[str, spaces_pb2.Space] = {}

    def case(name: str, space: gs.Space[Any]) -> spaces_pb2.Space:
        cases[name] = spaces.to_proto(space)
        return cases[name]

    case("box-no-dtype", box).box.dtype = values_pb2.DTYPE_UNSPECIFIED
    msg = case("box-bounds-short-data", box)
    msg.box.low.data = msg.box.low.data[:-1]
    case("box-bounds-wrong-shape", box).box.shape[:] = [3, 2]
    msg = case("box-bounds-flat", box)
    msg.box.low.shape[:] = [6]
    msg = case("box-low-above-high", gs.Box(0.0, 1.0, (2,)))
    msg.box.low.data, msg.box.high.data = msg.box.high.data, msg.box.low.data
    case("box-negative-dim", gs.Box(0.0, 1.0, (2,))).box.shape[:] = [-2]
    case("discrete-n-zero", gs.Discrete(2, start=1)).discrete.n = 0
    case("discrete-n-negative", gs.Discrete(2)).discrete.n = -3
    case("multi-binary-zero", gs.MultiBinary(2)).multi_binary.shape[:] = [0]
    msg = case("multi-discrete-start-shape", gs.MultiDiscrete([2, 3]))
    msg.multi_discrete.start.shape[:] = [1, 2]
    msg = case("multi-discrete-float-dtype", gs.MultiDiscrete([2, 3]))
    msg.multi_discrete.dtype = values_pb2.DTYPE_FLOAT32
    case("multi-discrete-no-start", gs.MultiDiscrete([2, 3])).multi_discrete.ClearField("start")
    msg = case("text-min-above-max", gs.Text(5, min_length=2))
    msg.text.min_length, msg.text.max_length = 5, 2
    msg = case("dict-duplicate-key", gs.Dict([("a", gs.Discrete(2))]))
    msg.dict.fields.add(key="a").space.discrete.n = 3
    return cases


INVALID_SPACE_MESSAGES = _invalid_space_messages()


@pytest.mark.parametrize("msg", INVALID_SPACE_MESSAGES.values(), ids=INVALID_SPACE_MESSAGES.keys())
def test_invalid_space_message_is_invalid_argument(msg: spaces_pb2.Space) -> None:
    # A client reading a bad Describe should get the project's error, not a
    # ValueError from deep inside Gymnasium (and never a silently altered space).
    msg = spaces_pb2.Space.FromString(msg.SerializeToString())
    with pytest.raises(InvalidArgument) as info:
        spaces.from_proto(msg)
    assert info.value.code is Code.INVALID_ARGUMENT


# --- random spaces -----------------------------------------------------------

SMALL_FLOAT = 1000.0
# Surrogates are not UTF-8; NUL is dropped by Gymnasium's own Text sampler.
NO_NUL_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


@st.composite
def boxes(draw: st.DrawFn) -> gs.Box:
    dtype = np.dtype(draw(st.sampled_from(BOX_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    elements: st.SearchStrategy[Any]
    if dtype.kind == "f":
        elements = st.floats(
            -SMALL_FLOAT, SMALL_FLOAT, width=dtype.itemsize * 8, allow_subnormal=True
        )
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        small = st.integers(max(int(info.min), -1000), min(int(info.max), 1000))
        # 64-bit extremes break Gymnasium's own sampling; smaller ones are fine.
        extremes = st.sampled_from([int(info.min), int(info.max)])
        elements = small if dtype.itemsize == 8 else st.one_of(small, extremes)
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    b = draw(hnp.arrays(dtype, shape, elements=elements))
    low, high = np.asarray(np.minimum(a, b)), np.asarray(np.maximum(a, b))
    if dtype.kind == "f":
        low = np.where(draw(hnp.arrays(np.bool_, shape)), -np.inf, low).astype(dtype)
        high = np.where(draw(hnp.arrays(np.bool_, shape)), np.inf, high).astype(dtype)
    return gs.Box(low=low, high=high, dtype=dtype)


@st.composite
def multi_discretes(draw: st.DrawFn) -> gs.MultiDiscrete:
    dtype = np.dtype(draw(st.sampled_from(INT_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    nvec = draw(hnp.arrays(dtype, shape, elements=st.integers(1, 50)))
    lowest = 0 if dtype.kind == "u" else -50
    start = draw(hnp.arrays(dtype, shape, elements=st.integers(lowest, 50)))
    return gs.MultiDiscrete(nvec, dtype=dtype, start=start)


@st.composite
def texts(draw: st.DrawFn) -> gs.Text:
    charset = draw(
        st.text(NO_NUL_CHARS, min_size=1, max_size=12).map(lambda s: "".join(dict.fromkeys(s)))
    )
    min_length = draw(st.integers(0, 4))
    max_length = draw(st.integers(min_length, 10))
    return gs.Text(min_length=min_length, max_length=max_length, charset=charset)


leaf_spaces: st.SearchStrategy[gs.Space[Any]] = st.one_of(
    boxes(),
    st.builds(gs.Discrete, st.integers(1, 2**40), start=st.integers(-(2**40), 2**40)),
    multi_discretes(),
    # A one-dimensional shape list is left to test_multibinary_given_a_one_dim_shape.
    st.one_of(
        st.integers(1, 8),
        hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3).map(list),
    ).map(gs.MultiBinary),
    texts(),
)
keys = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)


def _containers(children: st.SearchStrategy[gs.Space[Any]]) -> st.SearchStrategy[gs.Space[Any]]:
    return st.one_of(
        st.lists(st.tuples(keys, children), min_size=1, max_size=4, unique_by=lambda kv: kv[0]).map(
            gs.Dict
        ),
        st.lists(children, max_size=4).map(gs.Tuple),
    )


any_spaces = st.recursive(leaf_spaces, _containers, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(space=any_spaces, seed=st.integers(0, 2**32 - 1))
def test_random_spaces_round_trip(space: gs.Space[Any], seed: int) -> None:
    rebuilt = assert_exact_round_trip(space, seed=seed)
    # And a second trip changes nothing.
    assert describe(round_trip(rebuilt)) == describe(space)
    assert round_trip(rebuilt) == space
