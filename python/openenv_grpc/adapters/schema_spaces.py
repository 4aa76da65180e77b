"""JSON Schema (as pydantic writes it) to Gymnasium spaces, and values both ways.

OpenEnv describes actions and observations as pydantic models; the contract
describes them as spaces. `converter(schema)` derives, from a model's JSON
Schema alone, the space that carries its values and the two conversions:
`to_space` (a JSON value, as `model_dump(mode="json")` gives it, to a sample
of the space) and `from_space` (a sample back to a JSON value that the model
validates). The server's OpenEnv adapter and the OpenEnv-shaped client both
derive theirs from the same schema (the adapter publishes it in Describe's
metadata), so they agree on every mapping without a contract of their own.

The mapping, node by node (the value in the space in brackets):

- `number`: `Box(shape=(), float64)`, bounds from minimum/maximum [0-d array]
- `integer` with minimum and maximum (a range under 2**31):
  `Discrete(max - min + 1, start=min)` [the int]; other integers:
  `Box(shape=(), int64)` [0-d array]
- `boolean`: `Discrete(2)` [0 or 1]
- `string`: `Text(maxLength or 65536, minLength, TEXT_CHARSET or "x-charset")`
  [the str]
- `enum` or `const` (an Enum, a `Literal`): `Discrete(len(values))` [the
  value's index]
- `object` with `properties` (a nested model): `Dict`, in the model's field
  order [dict]
- `array` of a fixed length of numbers, integers or booleans (nested too):
  `Box` (float64, int64) or `MultiBinary` [array]; of anything else, and fixed
  tuples: `Tuple` [tuple]
- anything else (`anyOf` such as an `Optional`, lists of no fixed length, free
  dicts, `Any`, recursive models): `Text` of JSON (`JSON_CHARSET`: ASCII, with
  `\\u` escapes) [the value as compact JSON]

The contract has no Sequence space, so a list whose length the schema does
not fix travels as JSON text; `Field(min_length=n, max_length=n)` makes it
a Box. A string may only hold characters of its charset: TEXT_CHARSET by
default (printable ASCII with whitespace, Latin-1 and Latin Extended-A
letters, general punctuation, the euro sign, arrows), or the field's own,
given as `Field(json_schema_extra={"x-charset": "..."})`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces as gs

TEXT_MAX_LENGTH = 65536
JSON_MAX_LENGTH = 1 << 20
DISCRETE_MAX = 1 << 31  # a bounded integer range up to this size is Discrete, wider a Box
TEXT_CHARSET = (
    string.printable
    + "".join(chr(c) for c in range(0xA0, 0x180))  # Latin-1 Supplement, Latin Extended-A
    + "".join(chr(c) for c in range(0x2010, 0x2028))  # dashes, quotes, bullets, ellipsis
    + "".join(chr(c) for c in range(0x2030, 0x205F))  # per mille, primes, more punctuation
    + "\u20ac"  # euro sign
    + "".join(chr(c) for c in range(0x2190, 0x219A))  # arrows
)
JSON_CHARSET = "".join(chr(c) for c in range(0x20, 0x7F))  # json.dumps(ensure_ascii=True) output
CHARSET_KEY = "x-charset"


class SchemaValueError(ValueError):
    """A value that does not fit the schema's space (or a sample that is no JSON value)."""


class Converter:
    """A space and the conversions of values between JSON and that space."""

    space: gs.Space[Any]

    def to_space(self, value: Any) -> Any:
        """A JSON value (as `model_dump(mode="json")` gives it) as a sample of `space`."""
        raise NotImplementedError

    def from_space(self, sample: Any) -> Any:
        """A sample of `space` as the JSON value a pydantic model validates."""
        raise NotImplementedError


def converter(schema: Mapping[str, Any], *, exclude: Collection[str] = ()) -> Converter:
    """The converter of a JSON Schema; `exclude` drops top-level properties (OpenEnv's
    `metadata`, `reward`, `done`, which travel outside the observation and action)."""
    builder = _Builder(schema.get("$defs", {}))
    node = builder.resolve(schema, ())
    if node is None:
        return _Json()
    node_, refs = node
    if _is_closed_object(node_):
        properties = {k: v for k, v in node_["properties"].items() if k not in exclude}
        return _Object({key: builder.build(sub, refs) for key, sub in properties.items()})
    return builder.build(schema, ())


def _is_closed_object(node: Mapping[str, Any]) -> bool:
    """An object of named fields and no others (a pydantic model)."""
    return (
        node.get("type") == "object"
        and isinstance(node.get("properties"), Mapping)
        and node.get("additionalProperties", False) is False
        and "patternProperties" not in node
    )


class _Builder:
    """Walks one schema, following `$ref`s into its `$defs` (a ref met again inside
    itself, a recursive model, becomes JSON text)."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs

    def resolve(
        self, node: Mapping[str, Any], refs: tuple[str, ...]
    ) -> tuple[Mapping[str, Any], tuple[str, ...]] | None:
        """The node with its `$ref` (or single `allOf`) merged in; None for recursion."""
        while True:
            if "$ref" in node:
                ref = str(node["$ref"])
                name = ref.rsplit("/", 1)[-1]
                if ref in refs or not ref.startswith("#/$defs/") or name not in self.defs:
                    return None
                refs = (*refs, ref)
                node = {**self.defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
            else:
                return node, refs

    def build(self, raw: Mapping[str, Any], refs: tuple[str, ...]) -> Converter:
        resolved = self.resolve(raw, refs)
        if resolved is None:
            return _Json()
        node, refs = resolved
        if "enum" in node and isinstance(node["enum"], list) and node["enum"]:
            return _Choice(list(node["enum"]))
        if "const" in node:
            return _Choice([node["const"]])
        kind = node.get("type")
        if kind == "number":
            return _Box(_bounds(node, np.float64), np.float64, ())
        if kind == "integer":
            low, high = _bounds(node, np.int64)
            bounded = ("minimum" in node or "exclusiveMinimum" in node) and (
                "maximum" in node or "exclusiveMaximum" in node
            )
            if bounded and low <= high and high - low < DISCRETE_MAX:
                return _Integer(int(low), int(high))
            return _Box((low, high), np.int64, ())
        if kind == "boolean":
            return _Boolean()
        if kind == "string":
            return _Text(
                int(node.get("maxLength", TEXT_MAX_LENGTH)),
                int(node.get("minLength", 0)),
                str(node.get(CHARSET_KEY, TEXT_CHARSET)),
            )
        if _is_closed_object(node):
            return _Object({k: self.build(v, refs) for k, v in node["properties"].items()})
        if kind == "array":
            return self._array(node, refs)
        return _Json()

    def _array(self, node: Mapping[str, Any], refs: tuple[str, ...]) -> Converter:
        length = _fixed_length(node)
        if length is None:
            return _Json()
        prefix = node.get("prefixItems")
        if isinstance(prefix, list):
            if len(prefix) != length or node.get("items", False) not in (False, None):
                return _Json()
            return _Tuple([self.build(item, refs) for item in prefix])
        items = node.get("items")
        if not isinstance(items, Mapping):
            return _Json()
        numeric = self._numeric(node, refs)
        if numeric is not None:
            return numeric
        return _Tuple([self.build(items, refs)] * length)

    def _numeric(self, node: Mapping[str, Any], refs: tuple[str, ...]) -> Converter | None:
        """A fixed-shape array of numbers, integers or booleans as one Box (or MultiBinary)."""
        shape: list[int] = []
        while True:
            resolved = self.resolve(node, refs)
            if resolved is None:
                return None
            node, refs = resolved
            if node.get("type") != "array":
                break
            length = _fixed_length(node)
            items = node.get("items")
            if length is None or "prefixItems" in node or not isinstance(items, Mapping):
                return None
            shape.append(length)
            node = items
        if "enum" in node or "const" in node:
            return None
        kind = node.get("type")
        if kind == "boolean":
            return _MultiBinary(tuple(shape))
        if kind == "number":
            return _Box(_bounds(node, np.float64), np.float64, tuple(shape))
        if kind == "integer":
            return _Box(_bounds(node, np.int64), np.int64, tuple(shape))
        return None


def _fixed_length(node: Mapping[str, Any]) -> int | None:
    low, high = node.get("minItems"), node.get("maxItems")
    if isinstance(low, int) and low == high and low >= 0:
        return low
    return None


def _bounds(node: Mapping[str, Any], dtype: type[np.generic]) -> tuple[Any, Any]:
    """The inclusive bounds of a number or integer node, in the dtype's terms."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(np.int64)
        low, high = int(info.min), int(info.max)
        if "minimum" in node:
            low = max(low, _ceil(node["minimum"]))
        if "exclusiveMinimum" in node:
            low = max(low, _floor(node["exclusiveMinimum"]) + 1)
        if "maximum" in node:
            high = min(high, _floor(node["maximum"]))
        if "exclusiveMaximum" in node:
            high = min(high, _ceil(node["exclusiveMaximum"]) - 1)
        return low, high
    flow, fhigh = -np.inf, np.inf
    if "minimum" in node:
        flow = float(node["minimum"])
    if "exclusiveMinimum" in node:
        flow = float(np.nextafter(float(node["exclusiveMinimum"]), np.inf))
    if "maximum" in node:
        fhigh = float(node["maximum"])
    if "exclusiveMaximum" in node:
        fhigh = float(np.nextafter(float(node["exclusiveMaximum"]), -np.inf))
    return flow, fhigh


def _ceil(x: Any) -> int:
    return int(np.ceil(x))


def _floor(x: Any) -> int:
    return int(np.floor(x))


def _is_number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    return not integer or float(value).is_integer()


@dataclass
class _Box(Converter):
    bounds: tuple[Any, Any]
    dtype: type[np.generic]
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        low, high = self.bounds
        self.space = gs.Box(low=low, high=high, shape=self.shape, dtype=self.dtype)

    def to_space(self, value: Any) -> Any:
        integer = np.issubdtype(self.dtype, np.integer)
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            array = np.asarray(None)
        ok = array.shape == self.shape and array.dtype.kind in "iuf"
        if ok and integer and array.dtype.kind == "f":
            ok = bool(np.all(np.isfinite(array) & (array == np.floor(array))))
        if not ok:
            kind = "integers" if integer else "numbers"
            raise SchemaValueError(f"expected {kind} of shape {self.shape}, got {_short(value)}")
        return array.astype(self.dtype)

    def from_space(self, sample: Any) -> Any:
        return np.asarray(sample).tolist()


@dataclass
class _MultiBinary(Converter):
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        # The contract's own form: a 1-D MultiBinary is MultiBinary(n), equal only to itself.
        n = self.shape[0] if len(self.shape) == 1 else list(self.shape)
        self.space = gs.MultiBinary(n)

    def to_space(self, value: Any) -> Any:
        array = np.asarray(value, dtype=object)
        if array.shape != self.shape or not all(
            isinstance(x, bool) for x in array.reshape(-1).tolist()
        ):
            raise SchemaValueError(f"expected booleans of shape {self.shape}, got {_short(value)}")
        return array.astype(np.int8)

    def from_space(self, sample: Any) -> Any:
        return np.asarray(sample).astype(bool).tolist()


@dataclass
class _Integer(Converter):
    low: int
    high: int

    def __post_init__(self) -> None:
        self.space = gs.Discrete(self.high - self.low + 1, start=self.low)

    def to_space(self, value: Any) -> Any:
        if not _is_number(value, integer=True) or not self.low <= int(value) <= self.high:
            raise SchemaValueError(
                f"expected an integer in [{self.low}, {self.high}], got {_short(value)}"
            )
        return np.int64(value)

    def from_space(self, sample: Any) -> Any:
        return int(sample)


class _Boolean(Converter):
    def __init__(self) -> None:
        self.space = gs.Discrete(2)

    def to_space(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise SchemaValueError(f"expected a boolean, got {_short(value)}")
        return np.int64(value)

    def from_space(self, sample: Any) -> Any:
        return bool(int(sample))


@dataclass
class _Text(Converter):
    max_length: int
    min_length: int
    charset: str

    def __post_init__(self) -> None:
        self.space = gs.Text(
            max_length=self.max_length, min_length=self.min_length, charset=self.charset
        )

    def to_space(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise SchemaValueError(f"expected a string, got {_short(value)}")
        return value

    def from_space(self, sample: Any) -> Any:
        return str(sample)


@dataclass
class _Choice(Converter):
    values: list[Any]

    def __post_init__(self) -> None:
        self.space = gs.Discrete(len(self.values))

    def to_space(self, value: Any) -> Any:
        for index, known in enumerate(self.values):
            if known == value and isinstance(known, bool) == isinstance(value, bool):
                return np.int64(index)
        raise SchemaValueError(f"expected one of {self.values}, got {_short(value)}")

    def from_space(self, sample: Any) -> Any:
        return self.values[int(sample)]


@dataclass
class _Object(Converter):
    fields: dict[str, Converter]

    def __post_init__(self) -> None:
        self.space = gs.Dict([(key, conv.space) for key, conv in self.fields.items()])

    def to_space(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise SchemaValueError(f"expected an object, got {_short(value)}")
        missing = [key for key in self.fields if key not in value]
        if missing:
            raise SchemaValueError(f"the object lacks {missing}")
        return {key: _at(key, conv.to_space, value[key]) for key, conv in self.fields.items()}

    def from_space(self, sample: Any) -> Any:
        return {key: _at(key, conv.from_space, sample[key]) for key, conv in self.fields.items()}


@dataclass
class _Tuple(Converter):
    items: list[Converter]

    def __post_init__(self) -> None:
        self.space = gs.Tuple([item.space for item in self.items])

    def to_space(self, value: Any) -> Any:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise SchemaValueError(f"expected an array, got {_short(value)}")
        if len(value) != len(self.items):
            raise SchemaValueError(f"expected {len(self.items)} items, got {len(value)}")
        return tuple(
            _at(str(i), conv.to_space, item)
            for i, (conv, item) in enumerate(zip(self.items, value, strict=True))
        )

    def from_space(self, sample: Any) -> Any:
        return [
            _at(str(i), conv.from_space, item)
            for i, (conv, item) in enumerate(zip(self.items, sample, strict=True))
        ]


class _Json(Converter):
    def __init__(self) -> None:
        self.space = gs.Text(max_length=JSON_MAX_LENGTH, min_length=1, charset=JSON_CHARSET)

    def to_space(self, value: Any) -> Any:
        try:
            text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise SchemaValueError(f"not a JSON value: {exc}") from None
        if len(text) > JSON_MAX_LENGTH:
            raise SchemaValueError(f"its JSON has {len(text)} characters, over {JSON_MAX_LENGTH}")
        return text

    def from_space(self, sample: Any) -> Any:
        try:
            return json.loads(str(sample))
        except json.JSONDecodeError as exc:
            raise SchemaValueError(f"expected JSON text, got {_short(sample)}: {exc}") from None


def _at(where: str, convert: Any, value: Any) -> Any:
    """Convert one part of a value, naming the part in the error."""
    try:
        return convert(value)
    except SchemaValueError as exc:
        raise SchemaValueError(f"{where}: {exc}") from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
