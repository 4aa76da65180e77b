"""Python and numpy values <-> the proto `Value`, generic or driven by a space.

Encoding is generic: arrays and numpy scalars become tensors, dicts become
ordered maps, lists and tuples become lists, and plain `int`, `float`,
`bool`, `str`, `bytes` and `None` keep their own kinds. Decoding is generic
too, unless a space is given: then the value is shaped into what a
Gymnasium env expects from that space (a tuple for Tuple, a dict in the
space's key order for Dict, an array of the space's dtype for Box), and
`decode_action` also checks that the result lies in the space.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from gymnasium import spaces as gs

from openenv_proto.v1 import values_pb2

from .errors import ActionOutOfSpace, InvalidArgument, InvalidValue, echo
from .tensors import UnencodableValue, decode_tensor, encode_tensor

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
_SUMMARY_LIMIT = 120

__all__ = [
    "UnencodableValue",
    "decode_action",
    "decode_for_space",
    "decode_map",
    "decode_value",
    "encode_map",
    "encode_value",
]


def encode_value(value: Any, out: values_pb2.Value | None = None) -> values_pb2.Value:
    """Encode any supported Python or numpy value as a proto Value."""
    msg = values_pb2.Value() if out is None else out
    kind = type(value)
    if kind is np.ndarray:
        encode_tensor(value, out=msg.tensor)
    elif kind is bool:
        msg.bool_value = value
    elif kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            msg.int_value = value
        elif 0 <= value <= _UINT64_MAX:
            encode_tensor(np.uint64(value), out=msg.tensor)
        else:
            raise UnencodableValue(f"integer {value} does not fit in 64 bits")
    elif kind is float:
        msg.double_value = value
    elif kind is str:
        _set_text(msg, "string_value", value)
    elif value is None:
        msg.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, (np.ndarray, np.bool_, np.number)):
        encode_tensor(value, out=msg.tensor)
    elif isinstance(value, Mapping):
        msg.map_value.SetInParent()  # so that an empty dict still sets the oneof
        encode_map(value, out=msg.map_value)
    elif isinstance(value, (list, tuple)):
        msg.list_value.SetInParent()
        values = msg.list_value.values
        for item in value:
            encode_value(item, out=values.add())
    elif isinstance(value, (bytes, bytearray, memoryview)):
        msg.bytes_value = bytes(value)
    elif isinstance(value, str):
        _set_text(msg, "string_value", str(value))
    elif isinstance(value, bool):
        msg.bool_value = bool(value)
    elif isinstance(value, int):
        encode_value(int(value), out=msg)
    elif isinstance(value, float):
        msg.double_value = float(value)
    else:
        raise UnencodableValue(
            f"cannot encode a {kind.__module__}.{kind.__qualname__}: values must be numpy "
            "arrays or scalars, int, float, bool, str, bytes, None, or lists, tuples and "
            "string-keyed dicts of those"
        )
    return msg


def encode_map(
    mapping: Mapping[Any, Any], out: values_pb2.MapValue | None = None
) -> values_pb2.MapValue:
    """Encode a string-keyed mapping as an ordered MapValue."""
    msg = values_pb2.MapValue() if out is None else out
    entries = msg.entries
    for key, item in mapping.items():
        if not isinstance(key, str):
            raise UnencodableValue(f"dict key {key!r} is not a string; only string keys travel")
        entry = entries.add()
        _set_text(entry, "key", key)
        encode_value(item, out=entry.value)
    return msg


def decode_value(msg: values_pb2.Value) -> Any:
    """Decode a Value into plain Python and numpy values (no space needed)."""
    kind = msg.WhichOneof("kind")
    if kind == "tensor":
        array = decode_tensor(msg.tensor)
        return array[()] if array.ndim == 0 else array
    if kind == "int_value":
        return msg.int_value
    if kind == "double_value":
        return msg.double_value
    if kind == "bool_value":
        return msg.bool_value
    if kind == "string_value":
        return msg.string_value
    if kind == "bytes_value":
        return msg.bytes_value
    if kind == "list_value":
        return [decode_value(item) for item in msg.list_value.values]
    if kind == "map_value":
        return decode_map(msg.map_value)
    if kind == "null_value":
        return None
    raise InvalidValue("a Value has no kind set; set one of its fields (tensor, int_value, ...)")


def decode_map(msg: values_pb2.MapValue) -> dict[str, Any]:
    """Decode a MapValue into a dict, keeping its key order (INVALID_ARGUMENT on a repeated key)."""
    decoded = {entry.key: decode_value(entry.value) for entry in msg.entries}
    if len(decoded) != len(msg.entries):
        raise InvalidValue(f"a map repeats a key: {echo(_repeated_keys(msg))}; keys must be unique")
    return decoded


def decode_for_space(msg: values_pb2.Value, space: gs.Space[Any]) -> Any:
    """Decode a Value into the Python form Gymnasium uses for samples of `space`."""
    if msg.WhichOneof("kind") is None:
        raise InvalidValue(
            "a Value has no kind set; set one of its fields (tensor, int_value, ...)"
        )
    if isinstance(space, (gs.Box, gs.MultiDiscrete, gs.MultiBinary)):
        return _as_array(decode_value(msg), space)
    if isinstance(space, gs.Discrete):
        value = decode_value(msg)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            low, high = _int_range(space.dtype)
            if low <= int(value) <= high:
                return space.dtype.type(value)
        raise InvalidArgument(f"expected an integer in {space}, got {summary(value)}")
    if isinstance(space, gs.Text):
        if msg.WhichOneof("kind") != "string_value":
            raise InvalidArgument(
                f"expected a string_value for {space}, got {msg.WhichOneof('kind')}"
            )
        return msg.string_value
    if isinstance(space, gs.Dict):
        if msg.WhichOneof("kind") != "map_value":
            raise InvalidArgument(f"expected a map_value for {space}, got {msg.WhichOneof('kind')}")
        given = {entry.key: entry.value for entry in msg.map_value.entries}
        if len(given) != len(msg.map_value.entries):
            raise InvalidValue(
                f"a map repeats a key: {echo(_repeated_keys(msg.map_value))}; send each key "
                f"of {echo(space)} once"
            )
        if set(given) != set(space.spaces):
            raise InvalidArgument(
                f"expected exactly the keys {echo(sorted(space.spaces))} for {echo(space)}, "
                f"got {echo(sorted(given))}"
            )
        return {key: decode_for_space(given[key], sub) for key, sub in space.spaces.items()}
    if isinstance(space, gs.Tuple):
        if msg.WhichOneof("kind") != "list_value":
            raise InvalidArgument(
                f"expected a list_value for {space}, got {msg.WhichOneof('kind')}"
            )
        items = msg.list_value.values
        if len(items) != len(space.spaces):
            raise InvalidArgument(
                f"expected {len(space.spaces)} items for {space}, got {len(items)}"
            )
        return tuple(
            decode_for_space(item, sub) for item, sub in zip(items, space.spaces, strict=True)
        )
    return decode_value(msg)


def decode_action(
    msg: values_pb2.Value, space: gs.Space[Any], contains: Callable[[Any], bool] | None = None
) -> Any:
    """Decode an action and check it lies in the action space (with `contains`, the
    space's own check or one of `membership.contains(space)`).

    A malformed value is INVALID_VALUE; a well-formed value of the wrong kind,
    shape, dtype or range is ACTION_OUT_OF_SPACE (both INVALID_ARGUMENT).
    """
    try:
        action = decode_for_space(msg, space)
    except InvalidValue:
        raise
    except InvalidArgument as exc:
        raise ActionOutOfSpace(f"{exc.message}; send a sample of the action space", space) from None
    if not (contains or space.contains)(action):
        raise ActionOutOfSpace(
            f"action {summary(action)} is not in the action space {space}; send a sample of "
            "that space (Describe returns it)",
            space,
        )
    return action


def _as_array(value: Any, space: gs.Space[Any]) -> Any:
    """An array in the space's dtype where the values survive the cast, else as it came.

    Integers are cast only when every value fits the target type, so 300
    sent for an int8 Box is refused by the space check instead of wrapping
    around to 44; floats may narrow (float64 to float32), as Gymnasium does.
    """
    dtype = space.dtype
    assert dtype is not None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"expected an array of {space}, got {summary(value)}") from exc
    if array.dtype == dtype or array.dtype.kind not in "biuf":
        return array
    if np.can_cast(array.dtype, dtype, casting="safe"):
        return array.astype(dtype)
    if array.dtype.kind in "biu" and dtype.kind in "biu":
        low, high = (0, 1) if dtype.kind == "b" else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        if array.size == 0 or (low <= array.min() and array.max() <= high):
            return array.astype(dtype)
        return array
    if np.can_cast(array.dtype, dtype, casting="same_kind"):
        with np.errstate(over="ignore"):  # 1e300 for float32 becomes inf: the space refuses it
            return array.astype(dtype)
    return array


def _set_text(msg: Any, field: str, text: str) -> None:
    try:
        setattr(msg, field, text)
    except (UnicodeEncodeError, ValueError) as exc:
        raise UnencodableValue(f"text {text[:40]!r} is not valid Unicode: {exc}") from None


def _repeated_keys(msg: values_pb2.MapValue) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for entry in msg.entries:
        if entry.key in seen:
            repeated.append(entry.key)
        seen.add(entry.key)
    return repeated


def summary(value: Any) -> str:
    if isinstance(value, np.ndarray):
        head = value.ravel()[:8].tolist()
        text = f"array(shape={list(value.shape)}, dtype={value.dtype}, values={head})"
    else:
        text = repr(value)
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3] + "..."


@functools.cache
def _int_range(dtype: np.dtype[Any]) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)
