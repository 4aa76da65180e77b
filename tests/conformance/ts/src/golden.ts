// Check 13, `golden`: every golden message decodes as its type and
// re-encodes to the same bytes, and every golden tensor decodes through
// the package's tensor helper to the values golden.json lists.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Dtype,
  file_openenv_v1_env_service,
  file_openenv_v1_spaces,
  file_openenv_v1_values,
  type Tensor,
  type Value,
} from "@openenv-grpc/client";
import { expect, expectTensor } from "./expect.js";

interface Entry {
  file: string;
  type: string;
  tensor?: { dtype: string; shape: number[]; values: (number | string | boolean)[] };
}

const registry = createRegistry(file_openenv_v1_values, file_openenv_v1_spaces, file_openenv_v1_env_service);

export async function checkGolden(dir: string): Promise<void> {
  const entries = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as Entry[];
  expect(entries.length > 0, "golden.json lists no files");
  for (const entry of entries) {
    const desc = registry.getMessage(entry.type);
    expect(desc !== undefined, `${entry.file}: unknown type ${entry.type}`);
    const bytes = new Uint8Array(readFileSync(join(dir, entry.file)));
    const message = fromBinary(desc, bytes);
    const again = toBinary(desc, message);
    expect(
      Buffer.compare(Buffer.from(again), Buffer.from(bytes)) === 0,
      `${entry.file}: re-encoded to ${Buffer.from(again).toString("hex")}, ` +
        `not ${Buffer.from(bytes).toString("hex")}`,
    );
    if (entry.tensor) {
      const tensor = entry.type === "openenv.v1.Tensor" ? (message as Tensor) : tensorIn(entry.file, message as Value);
      const { dtype, shape, values } = entry.tensor;
      const want = Dtype[dtype.toUpperCase() as keyof typeof Dtype];
      expect(want !== undefined, `${entry.file}: unknown dtype ${dtype}`);
      expectTensor(entry.file, tensor, want, shape, values.map((v) => expected(v, want)));
    }
  }
}

function tensorIn(file: string, value: Value): Tensor {
  expect(value.kind.case === "tensor", `${file}: the Value holds ${value.kind.case}, not a tensor`);
  return value.kind.value;
}

/** A golden.json value as the helper decodes it: bigint for 64-bit ints, 0/1 for bool. */
function expected(v: number | string | boolean, dtype: Dtype): number | bigint {
  if (dtype === Dtype.INT64 || dtype === Dtype.UINT64) return BigInt(v);
  if (typeof v === "boolean") return Number(v);
  return Number(v); // "Infinity", "-Infinity" and numbers
}
