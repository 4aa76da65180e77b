"""Gymnasium spaces <-> the proto `Space` message.

The contract describes spaces the way Gymnasium does, so a remote env's
spaces are real `gymnasium.spaces` objects on the client: trainers sample,
check and flatten them exactly as they would locally. Conversion is exact:
`from_proto(to_proto(s)) == s` for every supported space, nesting included.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces as gs

from openenv_proto.v1 import spaces_pb2

from .errors import InvalidArgument
from .tensors import decode_tensor, dtype_from_numpy, dtype_to_numpy, encode_tensor


class UnsupportedSpace(ValueError):
    """A Gymnasium space the contract has no message for (Sequence, Graph, OneOf)."""


def to_proto(space: gs.Space[Any]) -> spaces_pb2.Space:
    """Describe a Gymnasium space as a proto Space."""
    msg = spaces_pb2.Space()
    if isinstance(space, gs.Box):
        msg.box.dtype = dtype_from_numpy(space.dtype)
        msg.box.shape[:] = space.shape
        encode_tensor(_compact(space.low), out=msg.box.low)
        encode_tensor(_compact(space.high), out=msg.box.high)
        if space.dtype.kind != "f":  # floats say "unbounded" with their infinities
            if not space.bounded_below.all():
                encode_tensor(_compact(~space.bounded_below), out=msg.box.unbounded_below)
            if not space.bounded_above.all():
                encode_tensor(_compact(~space.bounded_above), out=msg.box.unbounded_above)
    elif isinstance(space, gs.Discrete):
        msg.discrete.n = int(space.n)
        msg.discrete.start = int(space.start)
        msg.discrete.dtype = dtype_from_numpy(space.dtype)
    elif isinstance(space, gs.MultiDiscrete):
        encode_tensor(space.nvec, out=msg.multi_discrete.nvec)
        encode_tensor(space.start, out=msg.multi_discrete.start)
        msg.multi_discrete.dtype = dtype_from_numpy(space.dtype)
    elif isinstance(space, gs.MultiBinary):
        msg.multi_binary.shape[:] = space.shape
    elif isinstance(space, gs.Text):
        msg.text.min_length = space.min_length
        msg.text.max_length = space.max_length
        msg.text.charset = "".join(space.character_list)  # Gymnasium's order: it indexes by it
    elif isinstance(space, gs.Dict):
        msg.dict.SetInParent()  # so that an empty Dict still sets the kind
        for key, sub in space.spaces.items():
            if not isinstance(key, str):
                raise UnsupportedSpace(f"Dict space key {key!r} is not a string")
            msg.dict.fields.add(key=key, space=to_proto(sub))
    elif isinstance(space, gs.Tuple):
        msg.tuple.SetInParent()
        msg.tuple.spaces.extend(to_proto(sub) for sub in space.spaces)
    else:
        raise UnsupportedSpace(
            f"{type(space).__name__} spaces have no message in the openenv.v1 contract; "
            "use Box, Discrete, MultiDiscrete, MultiBinary, Text, Dict or Tuple"
        )
    return msg


def from_proto(msg: spaces_pb2.Space) -> gs.Space[Any]:
    """Rebuild the Gymnasium space a proto Space describes (INVALID_ARGUMENT if it is not valid)."""
    kind = msg.WhichOneof("kind")
    try:
        return _build(msg, kind)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"the {kind} space in the spec is not valid: {exc}") from exc


def _build(msg: spaces_pb2.Space, kind: str | None) -> gs.Space[Any]:
    if kind == "box":
        return _box(msg.box)
    if kind == "discrete":
        d = msg.discrete
        dtype = dtype_to_numpy(d.dtype) if d.dtype else np.dtype(np.int64)
        return gs.Discrete(d.n, start=d.start, dtype=dtype.newbyteorder("="))
    if kind == "multi_discrete":
        md = msg.multi_discrete
        return gs.MultiDiscrete(
            np.array(decode_tensor(md.nvec)),
            dtype=dtype_to_numpy(md.dtype).newbyteorder("="),
            start=np.array(decode_tensor(md.start)),
        )
    if kind == "multi_binary":
        dims = list(msg.multi_binary.shape)
        return gs.MultiBinary(dims[0] if len(dims) == 1 else dims)
    if kind == "text":
        return gs.Text(
            max_length=msg.text.max_length,
            min_length=msg.text.min_length,
            charset=msg.text.charset,
        )
    if kind == "dict":
        keys = [f.key for f in msg.dict.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a Dict space repeats a key: {keys}")
        return gs.Dict([(f.key, from_proto(f.space)) for f in msg.dict.fields])
    if kind == "tuple":
        return gs.Tuple([from_proto(sub) for sub in msg.tuple.spaces])
    raise InvalidArgument("space has no kind set; the server sent an empty Space message")


def _box(msg: spaces_pb2.BoxSpace) -> gs.Box:
    dtype = dtype_to_numpy(msg.dtype).newbyteorder("=")
    shape = tuple(msg.shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {list(shape)}")
    box = gs.Box(
        low=np.broadcast_to(decode_tensor(msg.low), shape).astype(dtype),
        high=np.broadcast_to(decode_tensor(msg.high), shape).astype(dtype),
        shape=shape,
        dtype=dtype,
    )
    # Integer bounds cannot hold infinities: Gymnasium keeps them as flags.
    if msg.HasField("unbounded_below"):
        box.bounded_below = ~np.broadcast_to(decode_tensor(msg.unbounded_below), shape).astype(bool)
    if msg.HasField("unbounded_above"):
        box.bounded_above = ~np.broadcast_to(decode_tensor(msg.unbounded_above), shape).astype(bool)
    return box


def _compact(bounds: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """One scalar when every element shares the same bound, else the bounds as they are."""
    if bounds.size > 1 and (bounds == bounds.flat[0]).all():
        return bounds.flat[0:1].reshape(())
    return bounds
