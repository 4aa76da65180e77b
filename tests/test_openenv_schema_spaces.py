"""JSON Schemas (as pydantic writes them) to spaces, and values both ways, node by node."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Optional

import numpy as np
import pytest
from gymnasium import spaces as gs
from pydantic import BaseModel, Field

from openenv_grpc import spaces as proto_spaces
from openenv_grpc.adapters.schema_spaces import (
    JSON_CHARSET,
    TEXT_CHARSET,
    SchemaValueError,
    converter,
)


class Mood(enum.StrEnum):
    CALM = "calm"
    ANGRY = "angry"


class Inner(BaseModel):
    x: float = Field(ge=-1, le=1)
    flag: bool


class Tree(BaseModel):
    """A recursive model: its children cannot have a space of their own."""

    label: str
    children: list[Tree] = Field(default_factory=list)


class Everything(BaseModel):
    direction: Literal["left", "right"]
    mood: Mood = Mood.CALM
    cells: int = Field(ge=1, le=3)
    count: int
    huge: int = Field(ge=0, le=2**40)
    ratio: float = Field(gt=0, lt=1)
    vector: list[float] = Field(min_length=3, max_length=3)
    grid: list[list[int]] = Field(min_length=2, max_length=2)
    fixed_grid: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        min_length=2, max_length=2
    )
    bits: list[bool] = Field(min_length=4, max_length=4)
    pair: tuple[int, str]
    inner: Inner
    maybe: Optional[int] = None  # noqa: UP045 (the Optional spelling is the point)
    note: str = Field(default="", max_length=10)
    code: str = Field(default="", json_schema_extra={"x-charset": "01"})
    anything: Any = None
    table: dict[str, int] = Field(default_factory=dict)
    tree: Tree | None = None


def test_each_kind_of_node_has_its_space() -> None:
    space = converter(Everything.model_json_schema()).space
    assert isinstance(space, gs.Dict)
    assert list(space.spaces) == list(Everything.model_fields)  # field order kept
    assert space["direction"] == gs.Discrete(2)
    assert space["mood"] == gs.Discrete(2)
    assert space["cells"] == gs.Discrete(3, start=1)
    assert space["count"] == gs.Box(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (), np.int64)
    assert space["huge"] == gs.Box(0, 2**40, (), np.int64)  # too wide a range for Discrete
    ratio = space["ratio"]
    assert isinstance(ratio, gs.Box)
    assert 0 < ratio.low < 1e-300
    assert ratio.high < 1.0
    assert space["vector"] == gs.Box(-np.inf, np.inf, (3,), np.float64)
    assert isinstance(space["grid"], gs.Tuple)  # inner lists have no fixed length: JSON each
    assert space["bits"] == gs.MultiBinary(4)
    assert space["fixed_grid"] == gs.Box(
        np.iinfo(np.int64).min, np.iinfo(np.int64).max, (2, 2), np.int64
    )
    pair = space["pair"]
    assert isinstance(pair, gs.Tuple)
    assert pair[0] == space["count"]
    assert isinstance(pair[1], gs.Text)
    assert space["inner"] == gs.Dict(
        [("x", gs.Box(-1.0, 1.0, (), np.float64)), ("flag", gs.Discrete(2))]
    )
    note = space["note"]
    assert isinstance(note, gs.Text)
    assert (note.min_length, note.max_length) == (0, 10)
    assert set(note.character_set) == set(TEXT_CHARSET)
    assert set(space["code"].character_set) == {"0", "1"}
    for fallback in ("maybe", "anything", "table", "tree"):
        text = space[fallback]
        assert isinstance(text, gs.Text)
        assert set(text.character_set) == set(JSON_CHARSET)


def test_every_space_travels_in_the_contract() -> None:
    space = converter(Everything.model_json_schema()).space
    assert proto_spaces.from_proto(proto_spaces.to_proto(space)) == space


def test_values_round_trip_through_the_space() -> None:
    conv = converter(Everything.model_json_schema())
    value = Everything(
        direction="right",
        mood=Mood.ANGRY,
        cells=2,
        count=-5,
        huge=2**39,
        ratio=0.25,
        vector=[1.0, 2.5, -3.0],
        grid=[[1], [2, 3]],
        fixed_grid=[[1, 2], [3, 4]],
        bits=[True, False, False, True],
        pair=(7, "seven"),
        inner=Inner(x=-0.5, flag=True),
        maybe=None,
        note="héllo…",
        code="0110",
        anything={"nested": [1, "two", None]},
        table={"a": 1},
        tree=Tree(label="root", children=[Tree(label="leaf")]),
    )
    sample = conv.to_space(value.model_dump(mode="json"))
    assert conv.space.contains(sample)
    assert sample["direction"] == 1
    assert sample["mood"] == 1
    assert sample["maybe"] == "null"
    assert sample["table"] == '{"a":1}'
    assert Everything.model_validate(conv.from_space(sample)) == value


def test_non_ascii_goes_through_json_as_escapes() -> None:
    conv = converter(Everything.model_json_schema())
    space = conv.space
    assert isinstance(space, gs.Dict)
    anything = space["anything"]
    text = conv.fields["anything"].to_space("日本 🎉")  # type: ignore[attr-defined]
    assert anything.contains(text)
    assert conv.fields["anything"].from_space(text) == "日本 🎉"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("direction", "up", "expected one of"),
        ("cells", 4, r"in \[1, 3\]"),
        ("vector", [1.0, 2.0], r"shape \(3,\)"),
        ("bits", [1, 0, 0, 1], "booleans"),
        ("inner", {"x": 0.0}, r"lacks \['flag'\]"),
        ("note", 5, "a string"),
        ("count", 1.5, "integers"),
    ],
)
def test_values_that_do_not_fit_say_where(field: str, value: Any, problem: str) -> None:
    conv = converter(Everything.model_json_schema())
    good = Everything(
        direction="left",
        cells=1,
        count=0,
        huge=0,
        ratio=0.5,
        vector=[0, 0, 0],
        grid=[[], []],
        fixed_grid=[[0, 0], [0, 0]],
        bits=[False] * 4,
        pair=(0, ""),
        inner=Inner(x=0, flag=False),
    ).model_dump(mode="json")
    with pytest.raises(SchemaValueError, match=rf"^{field}: .*{problem}"):
        conv.to_space({**good, field: value})


def test_a_sample_that_is_no_json_is_refused() -> None:
    conv = converter({"type": "object", "properties": {"a": {}}, "additionalProperties": False})
    with pytest.raises(SchemaValueError, match="expected JSON text"):
        conv.from_space({"a": "{not json"})


def test_excluded_top_level_fields_have_no_space() -> None:
    schema = Everything.model_json_schema()
    space = converter(schema, exclude={"anything", "table"}).space
    assert isinstance(space, gs.Dict)
    assert "anything" not in space.spaces
    assert "table" not in space.spaces
