"""Values, spaces and frames as JSON for the page, and the page's actions back.

JSON has no arrays of a dtype, no infinities and no bytes: arrays become
nested lists (a large one a short summary, an image a PNG the page shows),
non-finite floats the strings "inf", "-inf" and "nan", bytes base64. A space
becomes the description the page builds its action form from.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
from gymnasium import spaces as gs

from .. import images

LARGEST_LIST = 4096  # array elements sent as a list; a larger array is summarized


def to_json(value: Any) -> Any:
    """Any decoded value as something `json.dumps(allow_nan=False)` accepts."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return to_json(value.item())
    if isinstance(value, np.ndarray):
        if value.size > LARGEST_LIST:
            if images.is_image(value):
                return {"image": data_url(images.PNG_TYPE, images.png(value))}
            return {"array": list(value.shape), "dtype": str(value.dtype)}
        return to_json(value.tolist())
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    return repr(value)


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def space_json(space: gs.Space[Any]) -> dict[str, Any]:
    """What the page needs to build a form for actions of this space."""
    if isinstance(space, gs.Discrete):
        return {"kind": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gs.Box):
        return {
            "kind": "box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bounds(space.low),
            "high": _bounds(space.high),
        }
    if isinstance(space, gs.Text):
        return {
            "kind": "text",
            "min_length": int(space.min_length),
            "max_length": int(space.max_length),
        }
    return {"kind": "json", "example": to_json(space.sample()), "text": str(space)}


def _bounds(array: np.ndarray[Any, Any]) -> list[Any]:
    """A Box bound, flattened, with None for an infinite (unbounded) element."""
    return [float(x) if math.isfinite(x) else None for x in array.astype(np.float64).ravel()]


def action_from_json(value: Any, space: gs.Space[Any]) -> Any:
    """The page's action as the value the action space holds (checked by the server)."""
    if isinstance(space, gs.Discrete):
        return int(value)
    if isinstance(space, (gs.Box, gs.MultiBinary, gs.MultiDiscrete)):
        return np.asarray(value, dtype=space.dtype).reshape(space.shape)
    if isinstance(space, gs.Text):
        return str(value)
    if isinstance(space, gs.Dict):
        return {key: action_from_json(value[key], sub) for key, sub in space.spaces.items()}
    if isinstance(space, gs.Tuple):
        return tuple(action_from_json(v, s) for v, s in zip(value, space.spaces, strict=True))
    return value
