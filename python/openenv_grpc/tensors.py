"""numpy arrays <-> the proto `Tensor`: raw little-endian bytes + dtype + shape.

This is the hot path of every observation, so it does the least work that is
correct: one `tobytes()` copy to encode (protobuf needs a bytes object), and
`numpy.frombuffer` to decode, which shares the message's buffer instead of
copying it. Decoded arrays are therefore read-only; copy one to write to it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from openenv_proto.v1 import values_pb2

from .errors import InvalidValue

Dtype = values_pb2.Dtype


class UnencodableValue(TypeError):
    """A value the contract cannot carry (an object, a complex array, a non-string dict key, ...).

    Raised while encoding, so it is the sender's own error: a client sees it
    locally, and a server turns it into INTERNAL (the env returned it).
    """


_TO_NUMPY: dict[values_pb2.Dtype.ValueType, np.dtype[Any]] = {
    Dtype.DTYPE_BOOL: np.dtype("bool"),
    Dtype.DTYPE_INT8: np.dtype("<i1"),
    Dtype.DTYPE_INT16: np.dtype("<i2"),
    Dtype.DTYPE_INT32: np.dtype("<i4"),
    Dtype.DTYPE_INT64: np.dtype("<i8"),
    Dtype.DTYPE_UINT8: np.dtype("<u1"),
    Dtype.DTYPE_UINT16: np.dtype("<u2"),
    Dtype.DTYPE_UINT32: np.dtype("<u4"),
    Dtype.DTYPE_UINT64: np.dtype("<u8"),
    Dtype.DTYPE_FLOAT16: np.dtype("<f2"),
    Dtype.DTYPE_FLOAT32: np.dtype("<f4"),
    Dtype.DTYPE_FLOAT64: np.dtype("<f8"),
}
# Keyed by (kind, itemsize) so that both byte orders of a type find its entry.
_FROM_NUMPY: dict[tuple[str, int], values_pb2.Dtype.ValueType] = {
    (dt.kind, dt.itemsize): code for code, dt in _TO_NUMPY.items()
}


def dtype_to_numpy(dtype: values_pb2.Dtype.ValueType) -> np.dtype[Any]:
    """The little-endian numpy dtype of a proto Dtype; INVALID_ARGUMENT for unknown ones."""
    try:
        return _TO_NUMPY[dtype]
    except KeyError:
        raise InvalidValue(
            f"tensor dtype {dtype} is not supported; use one of "
            f"{', '.join(Dtype.Name(d) for d in _TO_NUMPY)}"
        ) from None


def dtype_from_numpy(dtype: npt.DTypeLike) -> values_pb2.Dtype.ValueType:
    """The proto Dtype of a numpy dtype; UnencodableValue for ones the contract lacks."""
    dt = np.dtype(dtype)
    try:
        return _FROM_NUMPY[(dt.kind, dt.itemsize)]
    except KeyError:
        raise UnencodableValue(
            f"numpy dtype {dt} cannot travel as a tensor; convert it to a bool, integer "
            "or float dtype of 8 to 64 bits"
        ) from None


def encode_tensor(array: npt.ArrayLike, out: values_pb2.Tensor | None = None) -> values_pb2.Tensor:
    """Encode an array (or numpy scalar) as a Tensor, converting to little-endian if needed."""
    arr = np.asarray(array)
    code = dtype_from_numpy(arr.dtype)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    tensor = values_pb2.Tensor() if out is None else out
    tensor.dtype = code
    tensor.shape[:] = arr.shape
    tensor.data = arr.tobytes(order="C")
    return tensor


def decode_tensor(tensor: values_pb2.Tensor) -> npt.NDArray[Any]:
    """Decode a Tensor without copying its bytes.

    INVALID_ARGUMENT when its dtype, shape and byte count disagree.
    """
    dt = dtype_to_numpy(tensor.dtype)
    shape = tuple(tensor.shape)
    if shape and min(shape) < 0:
        raise InvalidValue(f"tensor shape {list(shape)} has a negative dimension")
    data = tensor.data
    expected = math.prod(shape) * dt.itemsize
    if len(data) != expected:
        raise InvalidValue(
            f"tensor of dtype {Dtype.Name(tensor.dtype)} and shape {list(shape)} needs "
            f"{expected} bytes of data but carries {len(data)}"
        )
    try:
        return np.frombuffer(data, dtype=dt).reshape(shape)
    except ValueError as exc:  # an empty array whose dimensions overflow numpy's size
        raise InvalidValue(
            f"tensor shape {list(shape)[:8]} is not a valid array shape: {exc}"
        ) from None
