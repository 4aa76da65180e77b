"""Infos of a batch in Gymnasium's vector layout, and their wire form.

Gymnasium's vector envs return one info dict per batch: every key of any
sub-env's info maps to an array with one entry per sub-env, and `_key` to
a bool mask of the sub-envs that have it; a dict value nests in the same
layout. `build` lays sub-env infos out that way with Gymnasium's own code
(`VectorEnv._add_info`), so keys, masks and dtypes are exactly
`SyncVectorEnv`'s; `scatter` places the layout of some sub-envs into the
layout of a larger batch (several servers, a reset_mask, failed
sub-envs); `unbatch` gives each sub-env's info back.

On the wire (`encode`, `decode`) a layout is one MapValue: a Tensor for
each array of numbers or bools, a ListValue (null where a sub-env lacks the
key) for each object array, a nested MapValue for each dict. A batch of
256 sub-envs with a few numeric info keys is then a few tensors instead of
256 maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.vector import VectorEnv

from openenv_proto.v1 import values_pb2

from .codec import decode_value, encode_value
from .errors import InvalidValue
from .tensors import decode_tensor, encode_tensor

__all__ = ["build", "decode", "encode", "scatter", "unbatch"]


class _Layout(VectorEnv[Any, Any, Any]):
    """Just enough of a vector env of n sub-envs to call Gymnasium's `_add_info`."""

    def __init__(self, n: int) -> None:
        self.num_envs = n


def build(infos: Sequence[tuple[int, dict[str, Any]]], n: int) -> dict[str, Any]:
    """The vector layout of n sub-envs from the infos of some of them, (position, info)
    in position order (as SyncVectorEnv adds them, so the first one sets each dtype)."""
    layout = _Layout(n)
    out: dict[str, Any] = {}
    for k, info in infos:
        out = layout._add_info(out, info, k)
    return out


def scatter(
    into: dict[str, Any], part: dict[str, Any], where: npt.NDArray[np.int64], n: int
) -> dict[str, Any]:
    """Place the layout of len(where) sub-envs at positions `where` of a layout of n; keys
    new to `into` get arrays as Gymnasium makes them (zeros, or None in object arrays)."""
    for key, value in part.items():
        if isinstance(value, dict):
            into[key] = scatter(into.get(key, {}), value, where, n)
            continue
        array = into.get(key)
        if array is None:
            array = (
                np.full(n, None, dtype=object)
                if value.dtype == object
                else np.zeros((n, *value.shape[1:]), dtype=value.dtype)
            )
            into[key] = array
        array[where] = value
    return into


def unbatch(layout: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Each of the n sub-envs' own info: the keys its mask marks, numbers as Python numbers."""
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, value in layout.items():
        mask = layout.get(f"_{key}")
        if mask is None:  # a mask itself
            continue
        present = np.flatnonzero(mask).tolist()
        if isinstance(value, dict):
            inner = unbatch(value, n)
            for k in present:
                out[k][key] = inner[k]
        elif value.ndim == 1 and value.dtype.kind in "bif":
            items = value.tolist()  # the Python bool, int or float each one came from
            for k in present:
                out[k][key] = items[k]
        else:
            for k in present:
                out[k][key] = value[k]
    return out


def encode(layout: dict[str, Any], out: values_pb2.MapValue) -> values_pb2.MapValue:
    """A layout as one MapValue (see the module docstring)."""
    for key, value in layout.items():
        entry = out.entries.add()
        entry.key = key
        if isinstance(value, dict):
            entry.value.map_value.SetInParent()
            encode(value, entry.value.map_value)
        elif value.dtype == object:
            entry.value.list_value.SetInParent()
            items = entry.value.list_value.values
            for item in value:
                encode_value(item, out=items.add())
        else:
            encode_tensor(value, entry.value.tensor)
    return out


def decode(msg: values_pb2.MapValue) -> dict[str, Any]:
    """A layout from its MapValue; arrays share the message's bytes (read-only)."""
    out: dict[str, Any] = {}
    for entry in msg.entries:
        value = entry.value
        kind = value.WhichOneof("kind")
        if kind == "tensor":
            out[entry.key] = decode_tensor(value.tensor)
        elif kind == "map_value":
            out[entry.key] = decode(value.map_value)
        elif kind == "list_value":
            items = value.list_value.values
            array = np.empty(len(items), dtype=object)
            for k, item in enumerate(items):
                array[k] = decode_value(item)
            out[entry.key] = array
        else:
            raise InvalidValue(
                f"vector info key {entry.key!r} holds a {kind}; the vector layout has only "
                "tensors, lists (object arrays) and maps"
            )
    if len(out) != len(msg.entries):
        raise InvalidValue("a vector info repeats a key; keys must be unique")
    return out
