// Values to and from plain JavaScript, through the wire.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Dtype,
  ValueSchema,
  arrayToTensor,
  fromValue,
  intValue,
  toMapValue,
  toValue,
  type NdArray,
} from "../src/index.js";

describe("values", () => {
  test("every kind round-trips", () => {
    const value = toValue({
      int: 2n ** 62n,
      double: 0.5,
      bool: true,
      text: "héllo",
      bytes: new Uint8Array([0, 255]),
      none: null,
      list: [1n, [2.5]],
      tensor: arrayToTensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }),
    });
    const decoded = fromValue(fromBinary(ValueSchema, toBinary(ValueSchema, value))) as Map<string, unknown>;
    assert.deepEqual([...decoded.keys()], ["int", "double", "bool", "text", "bytes", "none", "list", "tensor"]);
    assert.equal(decoded.get("int"), 2n ** 62n);
    assert.equal(decoded.get("double"), 0.5);
    assert.equal(decoded.get("bool"), true);
    assert.equal(decoded.get("text"), "héllo");
    assert.deepEqual([...(decoded.get("bytes") as Uint8Array)], [0, 255]);
    assert.equal(decoded.get("none"), null);
    assert.deepEqual(decoded.get("list"), [1n, [2.5]]);
    const tensor = decoded.get("tensor") as NdArray<Dtype.INT32>;
    assert.deepEqual([tensor.dtype, tensor.shape, [...tensor.data]], [Dtype.INT32, [2, 2], [1, 2, 3, 4]]);
  });

  test("map keys keep their order, numeric-looking keys too", () => {
    const map = toMapValue(new Map<string, bigint>([["b", 1n], ["10", 2n], ["a", 3n]]));
    assert.deepEqual(map.entries.map((e) => e.key), ["b", "10", "a"]);
  });

  test("an NdArray encodes as a tensor; intValue makes an int", () => {
    const nd: NdArray<Dtype.FLOAT32> = { dtype: Dtype.FLOAT32, shape: [1], data: new Float32Array([3]) };
    assert.equal(toValue(nd).kind.case, "tensor");
    assert.deepEqual(intValue(2).kind, { case: "intValue", value: 2n });
  });
});
