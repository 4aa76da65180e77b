// Tensors to and from native typed arrays.
//
// A Tensor is raw little-endian bytes in C order plus a dtype and a shape
// (values.proto). Reading one as a typed array is free when the bytes sit
// at an address aligned for the element type: the array is then a view of
// the message's own bytes, as numpy.frombuffer is on the Python side. The
// proto promises no alignment (protobuf-es hands out `bytes` fields as
// sub-arrays of the received frame, at any offset), so an unaligned tensor
// is copied first. A big-endian host, should one ever run this, decodes
// element by element through a DataView.
//
// JavaScript has no 16-bit float array on Node 20, so float16 tensors decode
// to Float32Array (every float16 value is exact in float32) and encode from
// any numbers with round-to-nearest-even. bool tensors decode to Uint8Array
// (0 or 1, one byte per element, as on the wire) and encode from a
// Uint8Array with `Dtype.BOOL` or from a boolean[].

import { create } from "@bufbuild/protobuf";
import { Dtype, TensorSchema, type Tensor } from "./gen/openenv/v1/values_pb.js";

/** The native array each dtype decodes to. */
export interface DtypeArrays {
  [Dtype.BOOL]: Uint8Array;
  [Dtype.INT8]: Int8Array;
  [Dtype.INT16]: Int16Array;
  [Dtype.INT32]: Int32Array;
  [Dtype.INT64]: BigInt64Array;
  [Dtype.UINT8]: Uint8Array;
  [Dtype.UINT16]: Uint16Array;
  [Dtype.UINT32]: Uint32Array;
  [Dtype.UINT64]: BigUint64Array;
  [Dtype.FLOAT16]: Float32Array;
  [Dtype.FLOAT32]: Float32Array;
  [Dtype.FLOAT64]: Float64Array;
}

/** Every dtype a tensor may carry (all but UNSPECIFIED). */
export type TensorDtype = keyof DtypeArrays;

/** Any of the typed arrays a tensor decodes to. */
export type TypedArray = DtypeArrays[TensorDtype];

/** A decoded tensor: its elements in C order, with dtype and shape. */
export interface NdArray<D extends TensorDtype = TensorDtype> {
  readonly dtype: D;
  readonly shape: number[];
  /**
   * The elements. For an aligned tensor on a little-endian host this is a
   * view of the message's bytes (no copy): copy it (`.slice()`) before
   * changing it if the message is still in use.
   */
  readonly data: DtypeArrays[D];
}

type ArrayCtor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
};

interface Spec {
  readonly size: number;
  readonly ctor: ArrayCtor;
  get(view: DataView, offset: number): number | bigint;
  set(view: DataView, offset: number, value: number | bigint): void;
}

const num = (v: number | bigint): number => Number(v);
const big = (v: number | bigint): bigint => (typeof v === "bigint" ? v : BigInt(v));

const SPECS: Readonly<Record<TensorDtype, Spec>> = {
  [Dtype.BOOL]: {
    size: 1,
    ctor: Uint8Array,
    get: (v, o) => v.getUint8(o),
    set: (v, o, x) => v.setUint8(o, num(x) ? 1 : 0),
  },
  [Dtype.INT8]: {
    size: 1,
    ctor: Int8Array,
    get: (v, o) => v.getInt8(o),
    set: (v, o, x) => v.setInt8(o, num(x)),
  },
  [Dtype.INT16]: {
    size: 2,
    ctor: Int16Array,
    get: (v, o) => v.getInt16(o, true),
    set: (v, o, x) => v.setInt16(o, num(x), true),
  },
  [Dtype.INT32]: {
    size: 4,
    ctor: Int32Array,
    get: (v, o) => v.getInt32(o, true),
    set: (v, o, x) => v.setInt32(o, num(x), true),
  },
  [Dtype.INT64]: {
    size: 8,
    ctor: BigInt64Array,
    get: (v, o) => v.getBigInt64(o, true),
    set: (v, o, x) => v.setBigInt64(o, big(x), true),
  },
  [Dtype.UINT8]: {
    size: 1,
    ctor: Uint8Array,
    get: (v, o) => v.getUint8(o),
    set: (v, o, x) => v.setUint8(o, num(x)),
  },
  [Dtype.UINT16]: {
    size: 2,
    ctor: Uint16Array,
    get: (v, o) => v.getUint16(o, true),
    set: (v, o, x) => v.setUint16(o, num(x), true),
  },
  [Dtype.UINT32]: {
    size: 4,
    ctor: Uint32Array,
    get: (v, o) => v.getUint32(o, true),
    set: (v, o, x) => v.setUint32(o, num(x), true),
  },
  [Dtype.UINT64]: {
    size: 8,
    ctor: BigUint64Array,
    get: (v, o) => v.getBigUint64(o, true),
    set: (v, o, x) => v.setBigUint64(o, big(x), true),
  },
  [Dtype.FLOAT16]: {
    size: 2,
    ctor: Float32Array,
    get: (v, o) => float16BitsToNumber(v.getUint16(o, true)),
    set: (v, o, x) => v.setUint16(o, numberToFloat16Bits(num(x)), true),
  },
  [Dtype.FLOAT32]: {
    size: 4,
    ctor: Float32Array,
    get: (v, o) => v.getFloat32(o, true),
    set: (v, o, x) => v.setFloat32(o, num(x), true),
  },
  [Dtype.FLOAT64]: {
    size: 8,
    ctor: Float64Array,
    get: (v, o) => v.getFloat64(o, true),
    set: (v, o, x) => v.setFloat64(o, num(x), true),
  },
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of a dtype. */
export function itemSize(dtype: Dtype): number {
  return spec(dtype).size;
}

function spec(dtype: Dtype): Spec {
  const found = SPECS[dtype as TensorDtype] as Spec | undefined;
  if (found === undefined) {
    throw new TypeError(`tensor dtype ${Dtype[dtype] ?? dtype} is not an element type`);
  }
  return found;
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new RangeError(`tensor shape [${shape.join(", ")}] has a bad dimension ${dim}`);
    }
    count *= dim;
  }
  return count;
}

/**
 * Decodes a Tensor into a typed array of its dtype (see DtypeArrays),
 * without a copy when the bytes are aligned. Throws a RangeError when the
 * data size is not dtype size times the shape's product.
 */
export function tensorToArray<D extends TensorDtype = TensorDtype>(tensor: Tensor): NdArray<D> {
  const { size, ctor, get } = spec(tensor.dtype);
  const shape = [...tensor.shape];
  const count = elementCount(shape);
  const bytes = tensor.data;
  if (bytes.byteLength !== count * size) {
    throw new RangeError(
      `tensor of ${Dtype[tensor.dtype]} and shape [${shape.join(", ")}] needs ` +
        `${count * size} bytes, has ${bytes.byteLength}`,
    );
  }
  let data: TypedArray;
  if (tensor.dtype === Dtype.FLOAT16 || !LITTLE_ENDIAN) {
    data = new ctor(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) data[i] = get(view, i * size) as never;
  } else if (bytes.byteOffset % size === 0) {
    data = new ctor(bytes.buffer, bytes.byteOffset, count);
  } else {
    const copy = bytes.slice();
    data = new ctor(copy.buffer, 0, count);
  }
  return { dtype: tensor.dtype as D, shape, data: data as DtypeArrays[D] };
}

/** Elements to encode: a typed array, or plain numbers, bigints or booleans. */
export type TensorSource = TypedArray | ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>;

/** How to encode: the dtype (else the typed array's own) and the shape (else [length]). */
export interface TensorOptions {
  dtype?: TensorDtype;
  shape?: readonly number[];
}

/**
 * Encodes elements in C order as a Tensor. The dtype defaults to the typed
 * array's (Uint8Array is uint8, Float32Array float32; boolean[] is bool);
 * give it for plain arrays, for bool from a Uint8Array and for float16. The
 * bytes are always a fresh copy, so the caller may reuse its array.
 */
export function arrayToTensor(source: TensorSource | NdArray, options: TensorOptions = {}): Tensor {
  const elements = isNdArray(source) ? source.data : source;
  const dtype = options.dtype ?? (isNdArray(source) ? source.dtype : dtypeOf(elements));
  const shape = [...(options.shape ?? (isNdArray(source) ? source.shape : [elements.length]))];
  if (elementCount(shape) !== elements.length) {
    throw new RangeError(
      `${elements.length} elements do not fill shape [${shape.join(", ")}]`,
    );
  }
  const { size, ctor, set } = spec(dtype);
  const data = new Uint8Array(elements.length * size);
  if (LITTLE_ENDIAN && dtype !== Dtype.FLOAT16 && dtype !== Dtype.BOOL && elements instanceof ctor) {
    data.set(new Uint8Array(elements.buffer, elements.byteOffset, elements.byteLength));
  } else {
    const view = new DataView(data.buffer);
    for (let i = 0; i < elements.length; i++) {
      const x = elements[i] as number | bigint | boolean;
      set(view, i * size, typeof x === "boolean" ? Number(x) : x);
    }
  }
  return create(TensorSchema, { dtype, shape, data });
}

function isNdArray(x: TensorSource | NdArray): x is NdArray {
  return "data" in x && "shape" in x && "dtype" in x && !ArrayBuffer.isView(x);
}

function dtypeOf(elements: TensorSource): TensorDtype {
  if (elements instanceof Float32Array) return Dtype.FLOAT32;
  if (elements instanceof Float64Array) return Dtype.FLOAT64;
  if (elements instanceof Int8Array) return Dtype.INT8;
  if (elements instanceof Int16Array) return Dtype.INT16;
  if (elements instanceof Int32Array) return Dtype.INT32;
  if (elements instanceof BigInt64Array) return Dtype.INT64;
  if (elements instanceof Uint8Array) return Dtype.UINT8;
  if (elements instanceof Uint16Array) return Dtype.UINT16;
  if (elements instanceof Uint32Array) return Dtype.UINT32;
  if (elements instanceof BigUint64Array) return Dtype.UINT64;
  if (elements.length > 0 && typeof elements[0] === "boolean") return Dtype.BOOL;
  throw new TypeError("give a dtype to encode a plain array as a tensor");
}

/** Decodes IEEE 754 half-precision bits (as a uint16) to a number, exactly. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Encodes a number as IEEE 754 half-precision bits, rounding to nearest even. */
export function numberToFloat16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is halfway between the largest half (65504) and 2^16: ties go to even, which is inf.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: a multiple of 2^-24; a carry to 1024 is the smallest normal, bits 0x0400.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent -= 1;
  if (2 ** (exponent + 1) <= a) exponent += 1;
  // Exact in double arithmetic; a carry to 1024 moves into the exponent bits.
  const fraction = roundHalfEven((a / 2 ** exponent - 1) * 1024);
  return sign | (((exponent + 15) << 10) + fraction);
}

function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const rest = v - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
