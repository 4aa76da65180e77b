// Values to and from plain JavaScript.
//
// A Value (values.proto) carries observations, actions, info, reset options
// and env state. JavaScript has one number type where the contract has two
// (int_value and double_value), so the mapping is by JS type:
//
//   Value kind     JavaScript
//   tensor         NdArray (typed array + dtype + shape, see tensors.ts)
//   int_value      bigint
//   double_value   number
//   bool_value     boolean
//   string_value   string
//   bytes_value    Uint8Array
//   list_value     array
//   map_value      Map<string, JsValue> (keeps the wire's key order); plain
//                  objects are accepted when encoding
//   null_value     null
//
// So a Discrete action is `1n` (or `intValue(1)`), a Box action an NdArray
// or `arrayToTensor(...)`, and `{ step_seconds: 1.0 }` encodes as a map.

import { create } from "@bufbuild/protobuf";
import { NullValue } from "@bufbuild/protobuf/wkt";
import {
  ListValueSchema,
  MapValueSchema,
  ValueSchema,
  type MapValue,
  type Tensor,
  type Value,
} from "./gen/openenv/v1/values_pb.js";
import { arrayToTensor, tensorToArray, type NdArray } from "./tensors.js";

/** A decoded Value. */
export type JsValue =
  | NdArray
  | bigint
  | number
  | boolean
  | string
  | Uint8Array
  | null
  | JsValue[]
  | Map<string, JsValue>;

/** Anything `toValue` encodes: a JsValue, a plain object, or a Value/Tensor message. */
export type JsValueInit =
  | JsValue
  | Value
  | Tensor
  | readonly JsValueInit[]
  | ReadonlyMap<string, JsValueInit>
  | { readonly [key: string]: JsValueInit };

/** Encodes a plain JavaScript value as a Value (see the table above). */
export function toValue(x: JsValueInit): Value {
  if (x === null) return create(ValueSchema, { kind: { case: "nullValue", value: NullValue.NULL_VALUE } });
  switch (typeof x) {
    case "bigint":
      return create(ValueSchema, { kind: { case: "intValue", value: x } });
    case "number":
      return create(ValueSchema, { kind: { case: "doubleValue", value: x } });
    case "boolean":
      return create(ValueSchema, { kind: { case: "boolValue", value: x } });
    case "string":
      return create(ValueSchema, { kind: { case: "stringValue", value: x } });
  }
  if (x instanceof Uint8Array) return create(ValueSchema, { kind: { case: "bytesValue", value: x } });
  if (Array.isArray(x)) {
    const values = (x as readonly JsValueInit[]).map(toValue);
    return create(ValueSchema, { kind: { case: "listValue", value: create(ListValueSchema, { values }) } });
  }
  if ("$typeName" in x && x.$typeName === "openenv.v1.Value") return x as Value;
  if ("$typeName" in x && x.$typeName === "openenv.v1.Tensor") {
    return create(ValueSchema, { kind: { case: "tensor", value: x as Tensor } });
  }
  if ("data" in x && "dtype" in x && "shape" in x) {
    return create(ValueSchema, { kind: { case: "tensor", value: arrayToTensor(x as NdArray) } });
  }
  return create(ValueSchema, { kind: { case: "mapValue", value: toMapValue(x as Record<string, JsValueInit>) } });
}

/** Encodes a Map or a plain object (reset options, for example) as a MapValue, in key order. */
export function toMapValue(x: ReadonlyMap<string, JsValueInit> | { readonly [key: string]: JsValueInit }): MapValue {
  const entries = x instanceof Map ? [...x.entries()] : Object.entries(x);
  return create(MapValueSchema, {
    entries: entries.map(([key, value]) => ({ key, value: toValue(value as JsValueInit) })),
  });
}

/** Decodes a Value to plain JavaScript (see the table above). Tensors decode without a copy where aligned. */
export function fromValue(value: Value | undefined): JsValue {
  if (value === undefined) return null;
  const kind = value.kind;
  switch (kind.case) {
    case "tensor":
      return tensorToArray(kind.value);
    case "intValue":
    case "doubleValue":
    case "boolValue":
    case "stringValue":
    case "bytesValue":
      return kind.value;
    case "listValue":
      return kind.value.values.map(fromValue);
    case "mapValue":
      return fromMapValue(kind.value);
    case "nullValue":
      return null;
    case undefined:
      throw new TypeError("a Value with no kind");
  }
}

/** Decodes a MapValue (an info dict, an env's state) to a Map in its key order. */
export function fromMapValue(map: MapValue | undefined): Map<string, JsValue> {
  return new Map((map?.entries ?? []).map((entry) => [entry.key, fromValue(entry.value)]));
}

/** An integer Value (Discrete actions): `intValue(2)`. */
export function intValue(n: number | bigint): Value {
  return toValue(BigInt(n));
}
