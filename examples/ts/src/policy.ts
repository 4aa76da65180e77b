// A random policy for any Discrete or Box action space, read from Describe,
// sampling as Gymnasium's spaces do: Discrete uniformly over
// [start, start + n); Box uniformly between finite bounds, exponentially
// beyond a single finite bound, normally when unbounded, every element in
// the space's dtype and shape.

import {
  Dtype,
  arrayToTensor,
  intValue,
  tensorToArray,
  toValue,
  type BoxSpace,
  type Space,
  type TensorDtype,
  type Value,
} from "@openenv-grpc/client";

/** A function returning a fresh random action of the space, as a Value. */
export type Policy = () => Value;

export function randomPolicy(space: Space | undefined): Policy {
  switch (space?.kind.case) {
    case "discrete": {
      const { n, start } = space.kind.value;
      return () => intValue(start + randomBigInt(n));
    }
    case "box": {
      const box = space.kind.value;
      return () => toValue(arrayToTensor(sampleBox(box), { dtype: box.dtype as TensorDtype, shape: box.shape }));
    }
    default:
      throw new Error(`this example samples Discrete and Box actions, not ${space?.kind.case ?? "no space"}`);
  }
}

function sampleBox(box: BoxSpace): number[] | bigint[] {
  const count = box.shape.reduce((a, b) => a * b, 1);
  const low = bounds(box.low, count, -Infinity);
  const high = bounds(box.high, count, Infinity);
  const floats = box.dtype === Dtype.FLOAT16 || box.dtype === Dtype.FLOAT32 || box.dtype === Dtype.FLOAT64;
  if (box.dtype === Dtype.INT64 || box.dtype === Dtype.UINT64) {
    return low.map((lo, i) => BigInt(lo) + randomBigInt(BigInt(high[i]!) - BigInt(lo) + 1n));
  }
  return low.map((lo, i) => {
    const hi = Number(high[i]);
    const l = Number(lo);
    if (!floats) return l + Math.floor(Math.random() * (hi - l + 1));
    if (Number.isFinite(l) && Number.isFinite(hi)) return l + Math.random() * (hi - l);
    if (Number.isFinite(l)) return l - Math.log(1 - Math.random());
    if (Number.isFinite(hi)) return hi + Math.log(1 - Math.random());
    return normal();
  });
}

/** The bound of every element: one per element, or one scalar broadcast to all. */
function bounds(tensor: BoxSpace["low"], count: number, missing: number): (number | bigint)[] {
  if (tensor === undefined) return new Array<number>(count).fill(missing);
  const values = [...tensorToArray(tensor).data] as (number | bigint)[];
  return values.length === count ? values : new Array<number | bigint>(count).fill(values[0] ?? missing);
}

/** A uniform integer in [0, n), for n up to 2^64. */
function randomBigInt(n: bigint): bigint {
  if (n <= 1n) return 0n;
  if (n <= 2n ** 53n) return BigInt(Math.floor(Math.random() * Number(n)));
  const wide = (BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
  return wide % n;
}

function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}
