#!/usr/bin/env node
// The TypeScript conformance client (tests/conformance/README.md):
//
//   node dist/main.js --address 127.0.0.1:PORT --scenario tests/conformance/scenario.json \
//       --golden tests/conformance/golden
//
// Runs the 13 checks in order, one line each (`PASS name` or
// `FAIL name: why`), then `N passed, M failed` alone on the last line;
// exits 0 only when nothing failed. Every call has a 30 s deadline unless
// the check sets its own, so a hung server fails a check, not the run.

import { parseArgs } from "node:util";
import { OpenEnvError, createEnvClient, createEnvTransport } from "@openenv-grpc/client";
import { liveChecks, type Check } from "./checks.js";
import { CheckFailure } from "./expect.js";
import { checkGolden } from "./golden.js";
import { loadScenario } from "./scenario.js";

const { values: args } = parseArgs({
  options: {
    address: { type: "string" },
    scenario: { type: "string" },
    golden: { type: "string" },
  },
});

async function main(): Promise<number> {
  if (!args.address || !args.scenario || !args.golden) {
    console.error("usage: conformance --address HOST:PORT --scenario scenario.json --golden DIR");
    return 2;
  }
  const scenario = loadScenario(args.scenario);
  const client = createEnvClient(createEnvTransport(args.address, { defaultTimeoutMs: 30_000 }));
  const golden = args.golden;
  const checks: Check[] = [...liveChecks(client, scenario), ["golden", () => checkGolden(golden)]];
  let failed = 0;
  for (const [name, run] of checks) {
    try {
      await run();
      console.log(`PASS ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${why(e).replace(/\s*\n\s*/g, " ")}`);
    }
  }
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function why(e: unknown): string {
  if (e instanceof CheckFailure) return e.message;
  const error = OpenEnvError.from(e);
  return `unexpected error: ${error.message}`;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
