"""Bytes and hypothesis strategies for fuzzing EnvService; no gRPC in here.

The generated classes refuse to build most of what a fuzzer must send: bad
UTF-8, a Value nested past the decoder's depth limit (upb refuses even to
copy one), a message cut in half. So the wire format is written here by
hand where it has to be, and the generated classes are used where they can:
well-formed requests with random contents, and actions that start as a
sample of the action space and are then bent out of shape (another dtype or
shape, NaN, a missing key, the wrong kind, data of the wrong length, ...).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces as gs
from gymnasium.vector.utils import batch_space
from hypothesis import strategies as st

from openenv_grpc.codec import encode_value
from openenv_proto.v1 import env_service_pb2 as pb
from openenv_proto.v1 import values_pb2

Draw = Callable[[st.SearchStrategy[Any]], Any]

# --- the wire format, by hand ------------------------------------------------


def varint(n: int) -> bytes:
    """A base-128 varint; negative numbers as ten-byte two's complement, as protobuf does."""
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, payload: bytes) -> bytes:
    """A length-delimited field: a string, bytes, a sub-message or a packed list."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nest(path: Sequence[int], leaf: bytes) -> bytes:
    """`leaf` as the payload of field path[-1] inside ... inside field path[0]."""
    for number in reversed(path):
        leaf = field_bytes(number, leaf)
    return leaf


@functools.cache
def _range_varints(n: int) -> bytes:
    return b"".join(varint(i) for i in range(n))


def packed_ids(number: int, n: int, pattern: str) -> bytes:
    """A packed repeated int32 field of n entries: all 0, 0..n-1, all -1 or all 2**31-1."""
    body = {
        "zeros": lambda: b"\x00" * n,
        "range": lambda: _range_varints(n),
        "minus_one": lambda: varint(-1) * n,
        "int32_max": lambda: varint(2**31 - 1) * n,
    }[pattern]()
    return field_bytes(number, body)


NULL = field_varint(9, 0)  # a Value holding null_value: the smallest Value with a kind


def deep_value(depth: int, via: str, leaf: bytes = NULL) -> bytes:
    """A serialized Value nested `depth` levels: lists, maps, or both taking turns."""
    value = leaf
    for level in range(depth):
        if via == "list" or (via == "mixed" and level % 2):
            value = field_bytes(7, field_bytes(1, value))  # Value.list_value.values
        else:
            entry = field_bytes(1, b"k") + field_bytes(2, value)  # MapEntry{key, value}
            value = field_bytes(8, field_bytes(1, entry))  # Value.map_value.entries
    return value


def parses(message_type: Any, data: bytes) -> bool:
    """Whether protobuf (the same upb decoder the server uses) accepts the bytes."""
    try:
        message_type.FromString(data)
    except Exception:
        return False
    return True


# Byte sequences that are not UTF-8: stray continuation and invalid bytes, an
# overlong encoding, a truncated sequence, an encoded surrogate, a code point
# past U+10FFFF, a five-byte form.
BAD_UTF8 = (
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc0\xaf",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80",
)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


bad_utf8 = st.builds(
    lambda head, bad, tail: head.encode() + bad + tail.encode(),
    st.text(max_size=6),
    st.sampled_from(BAD_UTF8),
    st.text(max_size=6),
).filter(_not_utf8)

# Field-number paths to string fields, per request type, that must hold UTF-8.
STRING_FIELDS: dict[str, tuple[tuple[int, ...], ...]] = {
    # session_id, new_session.request_id, request_id, task_id, an options key, an options string
    "Reset": ((1,), (2, 1), (3,), (6,), (5, 1, 1), (5, 1, 2, 5)),
    # session_id, action.string_value, a key of an action map, a string in an action list
    "Step": ((1,), (2, 5), (2, 8, 1, 1), (2, 7, 1, 5), (2, 8, 1, 2, 5)),
    # session_id, new_session.request_id, request_id, all.task_id, sub_envs[].task_id, options
    "ResetBatch": ((1,), (2, 1), (3,), (5, 2), (6, 2), (5, 3, 1, 1), (6, 3, 1, 2, 5)),
    "StepBatch": ((1,), (3, 5), (3, 8, 1, 1)),
    "State": ((1,),),
    "CloseSession": ((1,),),
}
# The StepStreamRequest field that carries each request kind.
STREAM_FIELDS = {"Reset": 2, "Step": 3, "ResetBatch": 4, "StepBatch": 5, "State": 6}
STREAM_STRING_FIELDS: tuple[tuple[int, ...], ...] = (
    *((STREAM_FIELDS[rpc], *path) for rpc in STREAM_FIELDS for path in STRING_FIELDS[rpc]),
    (7, 1),  # attach_request.session_id
    (8, 2, 5),  # send_request.actions.string_value
    (15, 1),  # a trace_context key
    (15, 2),  # a trace_context value
)

# --- bytes and mutations of bytes --------------------------------------------


@st.composite
def protobuf_soup(draw: Draw) -> bytes:
    """Fields with random numbers, wire types (groups and invalid ones too) and payloads."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 6))):
        number = draw(st.one_of(st.integers(1, 16), st.integers(0, 2**29 - 1)))
        wire = draw(st.integers(0, 7))
        out += varint(number << 3 | wire)
        if wire == 0:
            out += varint(draw(st.integers(-(2**63), 2**64 - 1)))
        elif wire == 1:
            out += draw(st.binary(min_size=8, max_size=8))
        elif wire == 2:
            payload = draw(st.binary(max_size=24))
            out += varint(draw(st.sampled_from([len(payload), len(payload) + 1, 2**31]))) + payload
        elif wire == 5:
            out += draw(st.binary(min_size=4, max_size=4))
    return bytes(out)


random_bytes = st.one_of(st.binary(max_size=256), protobuf_soup())


@st.composite
def mutated(draw: Draw, data: bytes) -> bytes:
    """The bytes with one to three edits: cut, bit flip, byte set, insert, delete, repeat."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not out:
            out += draw(st.binary(min_size=1, max_size=8))
            continue
        at = draw(st.integers(0, len(out) - 1))
        edit = draw(st.sampled_from(["cut", "flip", "set", "insert", "delete", "repeat"]))
        if edit == "cut":
            del out[at:]
        elif edit == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set":
            out[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del out[at : at + draw(st.integers(1, 8))]
        else:
            out[at:at] = out[at : at + draw(st.integers(1, 16))]
    return bytes(out)


# --- values ------------------------------------------------------------------

INT32 = st.one_of(st.integers(-2, 9), st.integers(-(2**31), 2**31 - 1))
INT64 = st.one_of(st.integers(-2, 9), st.integers(-(2**63), 2**63 - 1))
UINT64 = st.integers(0, 2**64 - 1)
# Every Dtype and then some: 0 is DTYPE_UNSPECIFIED, 13 and up are unknown.
DTYPES = st.one_of(st.integers(0, 13), st.integers(-(2**31), 2**31 - 1))
UNKNOWN_DTYPES = st.one_of(
    st.just(0), st.just(99), st.integers(13, 2**31 - 1), st.integers(-(2**31), -1)
)
ITEMSIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 2, 8: 4, 9: 8, 10: 2, 11: 4, 12: 8}
NUMPY = {
    1: "?",
    2: "<i1",
    3: "<i2",
    4: "<i4",
    5: "<i8",
    6: "<u1",
    7: "<u2",
    8: "<u4",
    9: "<u8",
    10: "<f2",
    11: "<f4",
    12: "<f8",
}
SPECIAL_FLOATS = (math.nan, math.inf, -math.inf, 1e300, -0.0, 5e-324)


@st.composite
def tensors(draw: Draw) -> values_pb2.Tensor:
    """Tensors of any dtype and shape; the data is often the right length, often not."""
    dtype = draw(DTYPES)
    shape = draw(st.one_of(st.lists(st.integers(0, 4), max_size=3), st.lists(INT32, max_size=5)))
    size = math.prod(shape) * ITEMSIZE.get(dtype, 1) if min(shape, default=0) >= 0 else -1
    if 0 <= size <= 256 and draw(st.booleans()):
        data = draw(st.binary(min_size=size, max_size=size))
    else:
        data = draw(st.binary(max_size=64))
    return values_pb2.Tensor(dtype=dtype, shape=shape, data=data)


def overflowing_shape() -> st.SearchStrategy[list[int]]:
    """Shapes whose element count overflows int64 (or comes near): 4+ dims of 2**16 and up."""
    return st.lists(st.integers(2**16, 2**31 - 1), min_size=4, max_size=8)


def _list(items: list[values_pb2.Value]) -> values_pb2.Value:
    value = values_pb2.Value()
    value.list_value.SetInParent()
    value.list_value.values.extend(items)
    return value


def _map(entries: list[tuple[str, values_pb2.Value]]) -> values_pb2.MapValue:
    out = values_pb2.MapValue()
    for key, item in entries:
        out.entries.add(key=key).value.CopyFrom(item)
    return out


def _map_value(entries: list[tuple[str, values_pb2.Value]]) -> values_pb2.Value:
    value = values_pb2.Value()
    value.map_value.CopyFrom(_map(entries))
    return value


_LEAVES = st.one_of(
    tensors().map(lambda t: values_pb2.Value(tensor=t)),
    INT64.map(lambda i: values_pb2.Value(int_value=i)),
    st.floats().map(lambda f: values_pb2.Value(double_value=f)),
    st.booleans().map(lambda b: values_pb2.Value(bool_value=b)),
    st.text(max_size=16).map(lambda s: values_pb2.Value(string_value=s)),
    st.binary(max_size=16).map(lambda b: values_pb2.Value(bytes_value=b)),
    st.sampled_from([0, 1, 7, -1]).map(lambda n: values_pb2.Value(null_value=n)),
    st.just(values_pb2.Value()),  # no kind at all
)
KEYS = st.one_of(
    st.sampled_from(["image", "vector", "text", "nested", "z", "k"]), st.text(max_size=8)
)

values: st.SearchStrategy[values_pb2.Value] = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(_list),
        st.lists(st.tuples(KEYS, children), max_size=4).map(_map_value),
    ),
    max_leaves=8,
)
maps: st.SearchStrategy[values_pb2.MapValue] = st.lists(st.tuples(KEYS, values), max_size=3).map(
    _map
)


# --- actions near the action space -------------------------------------------


_COPIES: dict[int, tuple[gs.Space[Any], gs.Space[Any]]] = {}


def _own(space: gs.Space[Any]) -> gs.Space[Any]:
    """A copy of the space made once (spaces are unhashable; the original is kept alive)."""
    if id(space) not in _COPIES:
        _COPIES[id(space)] = (space, copy.deepcopy(space))
    return _COPIES[id(space)][1]


def sample(space: gs.Space[Any], seed: int) -> values_pb2.Value:
    """A sample of the space, encoded; drawn from a copy of the space (the server samples its
    own), seeded each time, so that hypothesis can replay it."""
    own = _own(space)
    own.seed(seed)
    return encode_value(own.sample())


def _walk(value: values_pb2.Value) -> list[values_pb2.Value]:
    nodes = [value]
    kind = value.WhichOneof("kind")
    if kind == "list_value":
        for item in value.list_value.values:
            nodes += _walk(item)
    elif kind == "map_value":
        for entry in value.map_value.entries:
            nodes += _walk(entry.value)
    return nodes


def _mutate_tensor(draw: Draw, tensor: values_pb2.Tensor) -> None:
    edit = draw(st.sampled_from(["dtype", "shape", "cut", "extend", "poison", "overflow"]))
    if edit == "dtype":
        tensor.dtype = draw(DTYPES)
    elif edit == "shape":
        tensor.shape[:] = draw(st.lists(st.integers(0, 6), max_size=4))
    elif edit == "cut":
        tensor.data = tensor.data[: draw(st.integers(0, max(len(tensor.data) - 1, 0)))]
    elif edit == "extend":
        tensor.data += draw(st.binary(min_size=1, max_size=9))
    elif edit == "overflow":
        tensor.shape[:] = draw(overflowing_shape())
        tensor.data = draw(st.sampled_from([b"", tensor.data]))
    else:  # a value out of range: NaN, inf, or an integer far from the bounds
        dtype = np.dtype(NUMPY.get(tensor.dtype, "<u1"))
        array = np.frombuffer(tensor.data, dtype=dtype, count=len(tensor.data) // dtype.itemsize)
        if not array.size:
            return
        array = array.copy()
        at = draw(st.integers(0, array.size - 1))
        if dtype.kind == "f":
            with np.errstate(over="ignore"):  # 1e300 as float16 is inf, as meant
                array[at] = draw(st.sampled_from(SPECIAL_FLOATS))
        elif dtype.kind == "b":
            array.view(np.uint8)[at] = draw(st.integers(2, 255))  # neither False nor True
        else:
            info = np.iinfo(dtype)
            array[at] = draw(st.integers(int(info.min), int(info.max)))
        tensor.data = array.tobytes() + tensor.data[array.nbytes :]


def _mutate(draw: Draw, node: values_pb2.Value) -> None:
    """One edit of one node of a Value tree, chosen among those that fit its kind."""
    kind = node.WhichOneof("kind")
    edits = ["replace", "clear", "scalar"]
    if kind == "tensor":
        edits += ["tensor"] * 4
    if kind == "map_value" and node.map_value.entries:
        edits += ["drop", "add", "repeat_key", "rename"]
    if kind == "list_value":
        edits += ["drop", "add"]
    edit = draw(st.sampled_from(edits))
    if edit == "replace":
        node.CopyFrom(draw(values))
    elif edit == "clear":
        node.Clear()
    elif edit == "scalar":
        node.CopyFrom(
            draw(
                st.one_of(
                    st.sampled_from(SPECIAL_FLOATS).map(lambda f: values_pb2.Value(double_value=f)),
                    INT64.map(lambda i: values_pb2.Value(int_value=i)),
                    st.booleans().map(lambda b: values_pb2.Value(bool_value=b)),
                    st.text(max_size=13).map(lambda s: values_pb2.Value(string_value=s)),
                )
            )
        )
    elif edit == "tensor":
        _mutate_tensor(draw, node.tensor)
    elif kind == "map_value":
        entries = node.map_value.entries
        at = draw(st.integers(0, len(entries) - 1))
        if edit == "drop":
            del entries[at]
        elif edit == "add":
            entries.add(key=draw(KEYS)).value.CopyFrom(draw(values))
        elif edit == "repeat_key":
            entries.add(key=entries[at].key).value.CopyFrom(entries[at].value)
        else:
            entries[at].key = draw(KEYS)
    else:
        items = node.list_value.values
        if edit == "drop" and items:
            del items[draw(st.integers(0, len(items) - 1))]
        else:
            items.add().CopyFrom(draw(values))


@dataclass(frozen=True)
class Action:
    """A serialized action Value, with what it was made from (for reading failures)."""

    data: bytes
    edits: int
    deepened: int


def _deepen(value: values_pb2.Value, at: int, depth: int) -> bytes:
    """The Value serialized with its entry (or item) `at` wrapped in `depth` lists.

    Done on bytes: upb will not even copy a message nested that deep.
    """
    kind = value.WhichOneof("kind")
    if kind == "map_value" and value.map_value.entries:
        entries = value.map_value.entries
        body = b"".join(
            field_bytes(
                1,
                field_bytes(1, entry.key.encode())
                + field_bytes(
                    2,
                    deep_value(depth, "list", entry.value.SerializeToString())
                    if i == at % len(entries)
                    else entry.value.SerializeToString(),
                ),
            )
            for i, entry in enumerate(entries)
        )
        return field_bytes(8, body)
    return deep_value(depth, "list", value.SerializeToString())


@st.composite
def actions(draw: Draw, space: gs.Space[Any]) -> Action:
    """A sample of `space` with zero to three edits, sometimes with one part nested deep."""
    value = sample(space, draw(st.integers(0, 2**32 - 1)))
    edits = draw(st.integers(0, 3))
    for _ in range(edits):
        nodes = _walk(value)
        _mutate(draw, nodes[draw(st.integers(0, len(nodes) - 1))])
    depth = draw(st.one_of(st.just(0), st.integers(1, 60)))
    if depth:
        return Action(_deepen(value, draw(st.integers(0, 7)), depth), edits, depth)
    return Action(value.SerializeToString(), edits, 0)


_BATCHED: dict[tuple[int, int], tuple[gs.Space[Any], gs.Space[Any]]] = {}


def batched(space: gs.Space[Any], num_envs: int) -> gs.Space[Any]:
    """Gymnasium's batched form of the space, as StepBatch wants its actions (made once)."""
    key = (id(space), num_envs)
    if key not in _BATCHED:
        _BATCHED[key] = (space, batch_space(space, num_envs))
    return _BATCHED[key][1]


# --- well-formed requests with random contents -------------------------------


@dataclass(frozen=True)
class Targets:
    """Live sessions a request may name, so that fuzzing reaches past the session lookup."""

    single: str
    batched: str
    action_space: gs.Space[Any]
    num_envs: int
    on_stream: bool = False  # then requests mostly leave session_id empty, as streams do

    def session_ids(self) -> st.SearchStrategy[str]:
        named = st.one_of(st.sampled_from([self.single, self.batched, ""]), st.text(max_size=40))
        return st.one_of(st.just(""), named) if self.on_stream else named

    def any_action(self) -> st.SearchStrategy[values_pb2.Value]:
        return st.one_of(
            values,
            st.integers(0, 2**32 - 1).map(lambda seed: sample(self.action_space, seed)),
        )

    def any_actions(self) -> st.SearchStrategy[values_pb2.Value]:
        return st.one_of(
            values,
            st.tuples(st.integers(1, self.num_envs + 1), st.integers(0, 2**32 - 1)).map(
                lambda n_seed: sample(batched(self.action_space, n_seed[0]), n_seed[1])
            ),
        )


REQUEST_IDS = st.one_of(st.just(""), st.text(max_size=12))
ENV_IDS = st.lists(st.one_of(st.integers(-1, 3), INT32), max_size=5)
STEP_INDEXES = st.one_of(st.just(0), INT64)


@st.composite
def sub_env_resets(draw: Draw) -> pb.SubEnvReset:
    reset = pb.SubEnvReset(task_id=draw(st.text(max_size=6)))
    if draw(st.booleans()):
        reset.seed = draw(UINT64)
    if draw(st.booleans()):
        reset.options.CopyFrom(draw(maps))
    return reset


@st.composite
def reset_requests(draw: Draw, t: Targets) -> pb.ResetRequest:
    request = pb.ResetRequest(request_id=draw(REQUEST_IDS), task_id=draw(st.text(max_size=6)))
    which = draw(st.sampled_from(["session_id", "new_session", "none"]))
    if which == "session_id":
        request.session_id = draw(t.session_ids())
    elif which == "new_session":
        request.new_session.request_id = draw(REQUEST_IDS)
    if draw(st.booleans()):
        request.seed = draw(UINT64)
    if draw(st.booleans()):
        request.options.CopyFrom(draw(maps))
    return request


@st.composite
def step_requests(draw: Draw, t: Targets) -> pb.StepRequest:
    request = pb.StepRequest(session_id=draw(t.session_ids()), step_index=draw(STEP_INDEXES))
    if draw(st.integers(0, 5)):
        request.action.CopyFrom(draw(t.any_action()))
    return request


@st.composite
def reset_batch_requests(draw: Draw, t: Targets) -> pb.ResetBatchRequest:
    request = pb.ResetBatchRequest(request_id=draw(REQUEST_IDS), env_ids=draw(ENV_IDS))
    which = draw(st.sampled_from(["session_id", "new_session", "none"]))
    if which == "session_id":
        request.session_id = draw(t.session_ids())
    elif which == "new_session":
        new = request.new_session
        new.request_id = draw(REQUEST_IDS)
        new.num_envs = draw(st.one_of(st.integers(-1, t.num_envs + 1), INT32))
        new.autoreset_mode = draw(st.one_of(st.integers(0, 3), INT32))
    if draw(st.booleans()):
        request.all.CopyFrom(draw(sub_env_resets()))
    request.sub_envs.extend(draw(st.lists(sub_env_resets(), max_size=3)))
    return request


@st.composite
def step_batch_requests(draw: Draw, t: Targets) -> pb.StepBatchRequest:
    request = pb.StepBatchRequest(
        session_id=draw(t.session_ids()),
        env_ids=draw(ENV_IDS),
        step_index=draw(STEP_INDEXES),
    )
    if draw(st.integers(0, 5)):
        request.actions.CopyFrom(draw(t.any_actions()))
    return request


def state_requests(t: Targets) -> st.SearchStrategy[pb.StateRequest]:
    return t.session_ids().map(lambda s: pb.StateRequest(session_id=s))


def close_requests(t: Targets) -> st.SearchStrategy[pb.CloseSessionRequest]:
    return t.session_ids().map(lambda s: pb.CloseSessionRequest(session_id=s))


@st.composite
def send_requests(draw: Draw, t: Targets) -> pb.SendRequest:
    request = pb.SendRequest(env_ids=draw(ENV_IDS))
    if draw(st.integers(0, 5)):
        request.actions.CopyFrom(draw(t.any_actions()))
    return request


def requests(rpc: str, t: Targets) -> st.SearchStrategy[Any]:
    """Well-formed requests of one unary RPC, with random contents."""
    return {
        "Describe": st.just(pb.DescribeRequest()),
        "Reset": reset_requests(t),
        "Step": step_requests(t),
        "ResetBatch": reset_batch_requests(t),
        "StepBatch": step_batch_requests(t),
        "State": state_requests(t),
        "CloseSession": close_requests(t),
    }[rpc]


@st.composite
def stream_requests(draw: Draw, t: Targets) -> pb.StepStreamRequest:
    """Well-formed StepStreamRequests of every kind (or none), with random contents."""
    t = dataclasses.replace(t, on_stream=True)
    request = pb.StepStreamRequest(
        seq=draw(UINT64),
        trace_context=draw(st.dictionaries(st.text(max_size=12), st.text(max_size=24), max_size=2)),
    )
    kind = draw(
        st.sampled_from(
            [
                "reset_request",
                "step_request",
                "reset_batch_request",
                "step_batch_request",
                "state_request",
                "attach_request",
                "send_request",
                "recv_request",
                "none",
            ]
        )
    )
    inner = {
        "reset_request": lambda: reset_requests(t),
        "step_request": lambda: step_requests(t),
        "reset_batch_request": lambda: reset_batch_requests(t),
        "step_batch_request": lambda: step_batch_requests(t),
        "state_request": lambda: state_requests(t),
        "attach_request": lambda: t.session_ids().map(lambda s: pb.AttachRequest(session_id=s)),
        "send_request": lambda: send_requests(t),
        "recv_request": lambda: st.integers(-1, 3).map(lambda n: pb.RecvRequest(num_envs=n)),
    }.get(kind)
    if inner is not None:
        getattr(request, kind).CopyFrom(draw(inner()))
    return request
