"""`space.contains`, made once per space and cheap on the hot path of every step.

The server checks every action and every observation against its space.
Gymnasium's `Box.contains` spends most of its time in numpy's Python
wrappers (`np.all` of two comparisons, `np.can_cast` per call), several
times what the check itself needs. `contains(space)` returns a function with
the same answers: for Box, the dtype rule is decided once per dtype, bounds
that are the same for every element are compared with the array's min and
max (a NaN fails both, as it fails Gymnasium's comparisons), and an integer
dtype whose whole range lies within the bounds needs no comparison at all;
for Discrete, a numpy integer is compared with the range directly (its
dtype rule decided once per dtype). Any
other space, and any value these shortcuts do not cover, goes to the space's
own `contains`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces as gs

Contains = Callable[[Any], bool]


def contains(space: gs.Space[Any]) -> Contains:
    """A function answering `space.contains(x)`, faster for Box and Discrete."""
    if isinstance(space, gs.Box):
        return _box(space)
    if isinstance(space, gs.Discrete):
        return _discrete(space)
    return space.contains


def _box(space: gs.Box) -> Contains:
    dtype, shape, slow = space.dtype, space.shape, space.contains
    assert dtype is not None
    low, high = space.low, space.high
    uniform = low.size > 0 and bool(np.all(low == low.flat[0]) and np.all(high == high.flat[0]))
    lo, hi = (low.flat[0], high.flat[0]) if uniform else (0, 0)  # (unused unless uniform)
    castable: dict[np.dtype[Any], bool] = {}
    whole: dict[np.dtype[Any], bool] = {}  # an integer dtype always within the bounds

    def within_for_any_value(kind: np.dtype[Any]) -> bool:
        if not uniform or kind.kind not in "biu":
            return False
        info = np.iinfo(kind) if kind.kind != "b" else np.iinfo(np.uint8)
        top = 1 if kind.kind == "b" else info.max
        return bool(lo <= info.min and top <= hi)

    def check(x: Any) -> bool:
        if type(x) is not np.ndarray:
            return slow(x)
        kind = x.dtype
        ok = castable.get(kind)
        if ok is None:
            ok = castable[kind] = bool(np.can_cast(kind, dtype))
            whole[kind] = within_for_any_value(kind)
        if not ok or x.shape != shape:
            return False
        if whole[kind] or x.size == 0:
            return True
        if uniform:
            return bool(x.min() >= lo and x.max() <= hi)
        return bool((x >= low).all() and (x <= high).all())

    return check


def _discrete(space: gs.Discrete) -> Contains:
    start, end, slow = int(space.start), int(space.start) + int(space.n), space.contains
    castable: dict[np.dtype[Any], bool] = {}

    def check(x: Any) -> bool:
        if isinstance(x, np.integer):
            kind = x.dtype
            ok = castable.get(kind)
            if ok is None:
                ok = castable[kind] = bool(np.can_cast(kind, space.dtype))
            return ok and start <= int(x) < end
        return slow(x)

    return check
