// What a check expects, and why it fails: each helper throws a CheckFailure
// whose message is the one-line "why" of a `FAIL name: why` line.

import { inspect } from "node:util";
import {
  Dtype,
  OpenEnvError,
  tensorToArray,
  type Tensor,
  type Value,
} from "@openenv-grpc/client";

export class CheckFailure extends Error {}

export function show(x: unknown): string {
  return inspect(x, { breakLength: Infinity, depth: 6, maxArrayLength: 20 });
}

export function expect(condition: boolean, why: string): asserts condition {
  if (!condition) throw new CheckFailure(why);
}

/** Strict equality (Object.is, so -0 and NaN count), element by element for arrays. */
export function expectEqual(what: string, got: unknown, want: unknown): void {
  const same =
    Array.isArray(want) && isArrayLike(got)
      ? got.length === want.length && want.every((w, i) => Object.is(got[i], w))
      : Object.is(got, want);
  expect(same, `${what}: got ${show(got)}, want ${show(want)}`);
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || ArrayBuffer.isView(x);
}

/** A map of names to numbers equal to the expected one (same keys, same values). */
export function expectRecord(what: string, got: Record<string, number>, want: Record<string, number>): void {
  const keys = (r: Record<string, number>) => Object.keys(r).sort();
  expect(
    show(keys(got)) === show(keys(want)) && keys(want).every((k) => Object.is(got[k], want[k])),
    `${what}: got ${show(got)}, want ${show(want)}`,
  );
}

/** A tensor of the dtype and shape, whose elements are `values` in C order. */
export function expectTensor(what: string, tensor: Tensor | undefined, dtype: Dtype, shape: number[], values: unknown[]): void {
  expect(tensor !== undefined, `${what}: no tensor`);
  const array = tensorToArray(tensor);
  expectEqual(`${what} dtype`, Dtype[array.dtype], Dtype[dtype]);
  expectEqual(`${what} shape`, array.shape, shape);
  expectEqual(`${what} values`, [...array.data], values);
}

/** The tensor a Value holds (observations are float32 tensors). */
export function tensorOf(what: string, value: Value | undefined): Tensor {
  expect(value?.kind.case === "tensor", `${what}: not a tensor but ${value?.kind.case ?? "unset"}`);
  return value.kind.value;
}

/** The call fails with this code (and reason, when given); returns the error to read on. */
export async function expectError(
  what: string,
  call: Promise<unknown>,
  want: { code: number; reason?: string },
): Promise<OpenEnvError> {
  let error: OpenEnvError;
  try {
    const answer = await call;
    throw new CheckFailure(`${what} succeeded (${show(answer)}), want code ${want.code} ${want.reason ?? ""}`);
  } catch (e) {
    if (e instanceof CheckFailure) throw e;
    error = OpenEnvError.from(e);
  }
  const got = `code ${error.code} reason ${error.reason || "(none)"} (${error.rawMessage})`;
  expect(error.code === want.code, `${what}: got ${got}, want code ${want.code}`);
  if (want.reason !== undefined) {
    expect(error.reason === want.reason, `${what}: got ${got}, want reason ${want.reason}`);
    expect(error.domain === "openenv.v1", `${what}: ErrorInfo domain ${show(error.domain)}, want "openenv.v1"`);
  }
  return error;
}
