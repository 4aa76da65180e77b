#!/usr/bin/env node
// The example trainer: a random policy over any environment an openenv.v1
// server serves, one StepStream session for all of its episodes.
//
//   node dist/main.js [--address localhost:50051] [--episodes 3] [--seed 0]
//                     [--ca-file ca.crt [--cert-file client.crt --key-file client.key]]
//                     [--token TOKEN]
//
// Plaintext unless --ca-file (or a client certificate) is given; the token,
// by default $OPENENV_GRPC_TOKEN, goes with every call as a bearer token.
// It asks Describe for the action space, then plays each episode to its end
// (terminated or truncated) and prints the episode's return and length.

import { parseArgs } from "node:util";
import { Code, EnvSession, OpenEnvError, createEnvClient, type ResetOptions } from "@openenv-grpc/client";
import { randomPolicy } from "./policy.js";

const { values: args } = parseArgs({
  options: {
    address: { type: "string", default: "localhost:50051" },
    episodes: { type: "string", default: "3" },
    seed: { type: "string" },
    "ca-file": { type: "string" },
    "cert-file": { type: "string" },
    "key-file": { type: "string" },
    token: { type: "string", default: process.env.OPENENV_GRPC_TOKEN ?? "" },
  },
});

async function main(): Promise<number> {
  const episodes = Number(args.episodes);
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`--episodes must be a positive integer`);
  const client = createEnvClient(args.address!, {
    caFile: args["ca-file"],
    certFile: args["cert-file"],
    keyFile: args["key-file"],
    token: args.token,
  });
  const spec = await client.describe({}, { timeoutMs: 30_000 }).catch((e: unknown) => {
    throw hintTls(OpenEnvError.from(e));
  });
  console.log(`${spec.envName} (protocol ${spec.protocolVersion}) at ${args.address}`);
  const act = randomPolicy(spec.actionSpace);

  // Seed the first episode only, as Gymnasium does: later episodes differ.
  const first: ResetOptions = args.seed === undefined ? {} : { seed: BigInt(args.seed) };
  const { session } = await EnvSession.create(client, first);
  try {
    for (let episode = 1; episode <= episodes; episode++) {
      if (episode > 1) await session.reset();
      let total = 0;
      let length = 0;
      for (;;) {
        const step = await session.step(act());
        total += step.reward;
        length += 1;
        if (step.terminated || step.truncated) break;
      }
      console.log(`episode ${episode}: return ${total}, length ${length}`);
    }
  } finally {
    await session.close();
  }
  return 0;
}

/**
 * A server cuts off a plaintext call to its TLS port, or a TLS call without
 * the client certificate it requires, with no reason: say what may be missing.
 */
function hintTls(error: OpenEnvError): Error {
  if (![Code.Canceled, Code.Unavailable, Code.Internal].includes(error.code)) return error;
  const tls = args["ca-file"] || args["cert-file"] || /^https:/.test(args.address!);
  const hint = !tls
    ? "if the server serves TLS, pass --ca-file"
    : !args["cert-file"]
      ? "if the server requires client certificates, pass --cert-file and --key-file"
      : "";
  return hint ? new Error(`${error.message}; ${hint}`, { cause: error }) : error;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Calls reject with OpenEnvError (code, reason, message); anything else is ours.
    const message = e instanceof OpenEnvError || e instanceof Error ? e.message : String(e);
    console.error(`error: ${message}`);
    process.exit(1);
  },
);
