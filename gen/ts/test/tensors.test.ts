// Tensors round-trip every dtype, with the wire's byte layout, alignment and float16 rounding.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Dtype,
  TensorSchema,
  ValueSchema,
  arrayToTensor,
  float16BitsToNumber,
  fromValue,
  numberToFloat16Bits,
  tensorToArray,
  toValue,
  type NdArray,
  type TensorDtype,
} from "../src/index.js";

// Per dtype: elements to encode (including the extremes) and the array type they decode to.
const CASES: [TensorDtype, ArrayLike<number> | ArrayLike<bigint> | boolean[], Function][] = [
  [Dtype.BOOL, [true, false, true], Uint8Array],
  [Dtype.INT8, new Int8Array([-128, -1, 0, 127]), Int8Array],
  [Dtype.INT16, new Int16Array([-32768, -2, 0, 32767]), Int16Array],
  [Dtype.INT32, new Int32Array([-(2 ** 31), -3, 0, 2 ** 31 - 1]), Int32Array],
  [Dtype.INT64, new BigInt64Array([-(2n ** 63n), -4n, 2n ** 53n + 1n, 2n ** 63n - 1n]), BigInt64Array],
  [Dtype.UINT8, new Uint8Array([0, 1, 254, 255]), Uint8Array],
  [Dtype.UINT16, new Uint16Array([0, 1, 65535]), Uint16Array],
  [Dtype.UINT32, new Uint32Array([0, 1, 2 ** 32 - 1]), Uint32Array],
  [Dtype.UINT64, new BigUint64Array([0n, 2n ** 53n + 1n, 2n ** 64n - 1n]), BigUint64Array],
  [Dtype.FLOAT16, [0, -0, 1, -2.5, 65504, 2 ** -24, Infinity, -Infinity], Float32Array],
  [Dtype.FLOAT32, new Float32Array([0, -1.5, 3.4028234663852886e38, 1e-45, Infinity, NaN]), Float32Array],
  [Dtype.FLOAT64, new Float64Array([0, -1.5, Number.MAX_VALUE, 5e-324, -Infinity, NaN]), Float64Array],
];

function same(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `element ${i}: ${a[i]} != ${b[i]}`);
}

describe("tensors", () => {
  for (const [dtype, elements, arrayType] of CASES) {
    test(`${Dtype[dtype]} round-trips through the wire`, () => {
      const tensor = arrayToTensor(elements, { dtype });
      const wire = fromBinary(TensorSchema, toBinary(TensorSchema, tensor));
      const decoded = tensorToArray(wire);
      assert.equal(decoded.dtype, dtype);
      assert.deepEqual(decoded.shape, [elements.length]);
      assert.ok(decoded.data instanceof arrayType, `decodes to ${arrayType.name}`);
      const expected = dtype === Dtype.BOOL ? (elements as boolean[]).map(Number) : elements;
      same(decoded.data, expected as ArrayLike<unknown>);
      assert.deepEqual(arrayToTensor(decoded).data, tensor.data, "re-encodes to the same bytes");
    });
  }

  test("bytes are little-endian in C order", () => {
    const t = arrayToTensor(new Int16Array([1, -2, 3, 4, 5, 6]), { shape: [2, 3] });
    assert.deepEqual([...t.data.subarray(0, 4)], [0x01, 0x00, 0xfe, 0xff]);
    assert.deepEqual(t.shape, [2, 3]);
    const f = arrayToTensor(new Float32Array([1]));
    assert.deepEqual([...f.data], [0x00, 0x00, 0x80, 0x3f]);
    const h = arrayToTensor([1], { dtype: Dtype.FLOAT16 });
    assert.deepEqual([...h.data], [0x00, 0x3c]);
  });

  test("aligned data is a view, unaligned data a copy", () => {
    const buffer = new ArrayBuffer(17);
    const raw = new Uint8Array(buffer);
    new DataView(buffer).setFloat64(1, 1.25, true);
    new DataView(buffer).setFloat64(9, -7, true);
    const unaligned = tensorToArray(
      create(TensorSchema, { dtype: Dtype.FLOAT64, shape: [2], data: raw.subarray(1) }),
    );
    same(unaligned.data, [1.25, -7]);
    assert.notEqual(unaligned.data.buffer, buffer);
    const aligned = tensorToArray(
      create(TensorSchema, { dtype: Dtype.FLOAT64, shape: [1], data: raw.subarray(8, 16).slice() }),
    );
    assert.equal(aligned.data.length, 1);
    const copyOf = raw.slice(0, 16);
    const view = tensorToArray(create(TensorSchema, { dtype: Dtype.UINT16, shape: [8], data: copyOf }));
    assert.equal(view.data.buffer, copyOf.buffer, "no copy when aligned");
  });

  test("tensors inside a decoded message decode wherever they sit", () => {
    const value = toValue([1n, arrayToTensor(new Float32Array([0.5, 2, -3]), { shape: [3, 1] }), "x"]);
    for (let pad = 0; pad < 8; pad++) {
      const bytes = toBinary(ValueSchema, create(ValueSchema, { kind: { case: "stringValue", value: "p".repeat(pad) } }));
      const wire = new Uint8Array([...bytes, ...toBinary(ValueSchema, value)]);
      const decoded = fromValue(fromBinary(ValueSchema, wire)) as unknown[];
      const array = decoded[1] as NdArray<Dtype.FLOAT32>;
      assert.deepEqual(array.shape, [3, 1]);
      same(array.data, [0.5, 2, -3]);
    }
  });

  test("scalars have shape [] and empty tensors have no bytes", () => {
    const scalar = tensorToArray(arrayToTensor(new Float64Array([2.5]), { shape: [] }));
    assert.deepEqual(scalar.shape, []);
    same(scalar.data, [2.5]);
    const empty = tensorToArray(arrayToTensor(new Int32Array(0), { shape: [0, 4] }));
    assert.deepEqual(empty.shape, [0, 4]);
    assert.equal(empty.data.length, 0);
  });

  test("bool encodes nonzero bytes as 1", () => {
    const t = arrayToTensor(new Uint8Array([0, 7, 1]), { dtype: Dtype.BOOL });
    assert.deepEqual([...t.data], [0, 1, 1]);
  });

  test("malformed tensors are refused", () => {
    assert.throws(() => tensorToArray(create(TensorSchema, { dtype: Dtype.INT32, shape: [2], data: new Uint8Array(7) })), RangeError);
    assert.throws(() => tensorToArray(create(TensorSchema, { dtype: Dtype.UNSPECIFIED, data: new Uint8Array(1) })), TypeError);
    assert.throws(() => arrayToTensor(new Float32Array(5), { shape: [2, 2] }), RangeError);
    assert.throws(() => arrayToTensor([1, 2]), TypeError, "a plain array needs a dtype");
  });
});

describe("float16", () => {
  test("known values", () => {
    const known: [number, number][] = [
      [0x0000, 0], [0x8000, -0], [0x3c00, 1], [0xc000, -2], [0x7bff, 65504],
      [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x3555, 0.333251953125],
      [0x7c00, Infinity], [0xfc00, -Infinity],
    ];
    for (const [bits, value] of known) {
      assert.ok(Object.is(float16BitsToNumber(bits), value), `decode ${bits.toString(16)}`);
      assert.equal(numberToFloat16Bits(value), bits, `encode ${value}`);
    }
    assert.ok(Number.isNaN(float16BitsToNumber(0x7e00)));
    assert.ok(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN))));
  });

  test("every half round-trips", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16BitsToNumber(bits);
      if (Number.isNaN(value)) continue;
      assert.equal(numberToFloat16Bits(value), bits);
      assert.equal(Math.fround(value), value, "exact in float32");
    }
  });

  test("rounds to nearest, ties to even", () => {
    assert.equal(numberToFloat16Bits(1 + 2 ** -11), 0x3c00, "tie goes down to even");
    assert.equal(numberToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02, "tie goes up to even");
    assert.equal(numberToFloat16Bits(1 + 2 ** -11 + 2 ** -30), 0x3c01, "above the tie goes up");
    assert.equal(numberToFloat16Bits(65519), 0x7bff);
    assert.equal(numberToFloat16Bits(65520), 0x7c00, "halfway to 2^16 overflows");
    assert.equal(numberToFloat16Bits(2 ** -25), 0x0000, "tie to the even zero");
    assert.equal(numberToFloat16Bits(3 * 2 ** -25), 0x0002);
    assert.equal(numberToFloat16Bits(2 ** -14 - 2 ** -25), 0x0400, "subnormal carries into the smallest normal");
    assert.equal(numberToFloat16Bits(-1e-10), 0x8000);
  });
});
