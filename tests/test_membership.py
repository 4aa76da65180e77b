"""`membership.contains(space)` answers exactly as `space.contains`, only faster."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces as gs

from openenv_grpc.membership import contains

SPACES: list[gs.Space[Any]] = [
    gs.Box(-1.0, 1.0, (3,), np.float32),
    gs.Box(-np.inf, np.inf, (4,), np.float32),
    gs.Box(np.array([0.0, -2.0]), np.array([1.0, 2.0]), dtype=np.float64),
    gs.Box(0, 255, (2, 2), np.uint8),
    gs.Box(0, 100, (2,), np.uint8),
    gs.Box(-5, 5, (2,), np.int64),
    gs.Box(0, 1, (3,), np.bool_),
    gs.Box(0.0, 1.0, (0,), np.float32),
    gs.Discrete(4),
    gs.Discrete(3, start=-1),
    gs.Discrete(2, dtype=np.int8),
    gs.MultiDiscrete([2, 3]),
]

VALUES: list[Any] = [
    np.array([0.5, -0.5, 0.0], np.float32),
    np.array([0.5, -0.5, 2.0], np.float32),
    np.array([0.5, np.nan, 0.0], np.float32),
    np.array([np.inf, 0.0, 0.0, 0.0], np.float32),
    np.array([1.0, 2.0, 3.0, 4.0], np.float64),
    np.array([1.0, 2.0, 3.0, 4.0], np.float16),
    np.zeros(4, np.float32),
    np.array([np.nan] * 4, np.float32),
    np.array([0.5, 1.5]),
    np.array([0.5, -2.5]),
    np.array([[0, 255], [3, 4]], np.uint8),
    np.array([[0, 255], [3, 4]], np.int64),
    np.array([[0, 1], [3, 4]], np.int8),
    np.array([50, 101], np.uint8),
    np.array([50, 100], np.uint8),
    np.array([5, -5], np.int64),
    np.array([6, 0], np.int64),
    np.array([5, 0], np.int32),
    np.array([True, False, True]),
    np.array([1, 0, 1], np.uint8),
    np.zeros(0, np.float32),
    np.zeros((2, 3), np.float32),
    np.float32(0.5),
    [0.5, -0.5, 0.0],
    0,
    3,
    4,
    -1,
    True,
    np.int64(2),
    np.int64(4),
    np.int8(-1),
    np.uint64(3),
    np.array(2),
    np.array([1]),
    np.array([1, 2]),
    np.array([1, 3]),
    2.0,
    "a",
    None,
]


@pytest.mark.parametrize("space", SPACES, ids=str)
def test_the_fast_check_answers_as_the_space_does(space: gs.Space[Any]) -> None:
    check = contains(space)
    values = [*VALUES, space.sample(), space.sample()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium warns when it casts a list
        for value in values:
            assert check(value) == space.contains(value), (space, value)
