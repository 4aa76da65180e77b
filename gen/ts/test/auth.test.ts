// The token reaches the server on unary calls and streams alike, through
// Connect's in-process router (a real server side, without a socket); TLS
// files are read as given and refused when half of a client identity.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createRouterTransport } from "@connectrpc/connect";
import {
  AUTHORIZATION_HEADER,
  EnvService,
  PROTOCOL_HEADER,
  bearerToken,
  createEnvClient,
  createEnvTransport,
  openenvHeaders,
  tlsOptions,
  wantsTls,
} from "../src/index.js";

/** A server answering Describe and StepStream, recording each call's authorization header. */
function recordingServer(seen: string[]) {
  return createRouterTransport(
    (router) =>
      router.service(EnvService, {
        describe(_req, ctx) {
          seen.push(`describe ${ctx.requestHeader.get(AUTHORIZATION_HEADER)}`);
          return { envName: "recorder" };
        },
        async *stepStream(requests, ctx) {
          seen.push(`stream ${ctx.requestHeader.get(AUTHORIZATION_HEADER)}`);
          for await (const _ of requests) yield {};
        },
      }),
    { transport: { interceptors: [openenvHeaders, bearerToken("s3cret")] } },
  );
}

describe("bearer token", () => {
  test("is sent on unary calls and streams", async () => {
    const seen: string[] = [];
    const client = createEnvClient(recordingServer(seen));
    assert.equal((await client.describe({})).envName, "recorder");
    async function* one() {
      yield {};
    }
    for await (const _ of client.stepStream(one())) break;
    assert.deepEqual(seen, ["describe Bearer s3cret", "stream Bearer s3cret"]);
  });

  test("refuses an empty token or one with spaces", () => {
    assert.throws(() => bearerToken(""));
    assert.throws(() => bearerToken("two words"));
  });
});

describe("TLS files", () => {
  const dir = mkdtempSync(join(tmpdir(), "openenv-ts-auth-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string) => {
    const path = join(dir, name);
    writeFileSync(path, `-----${name}-----\n`);
    return path;
  };

  test("none means plaintext", () => {
    assert.equal(wantsTls({}), false);
    assert.equal(wantsTls({ caFile: "" }), false);
  });

  test("are read into http2 options", () => {
    const options = tlsOptions({ caFile: file("ca"), certFile: file("cert"), keyFile: file("key") });
    assert.equal(String(options.ca), "-----ca-----\n");
    assert.equal(String(options.cert), "-----cert-----\n");
    assert.equal(String(options.key), "-----key-----\n");
    assert.deepEqual(Object.keys(tlsOptions({ caFile: file("ca") })), ["ca"]);
  });

  test("a certificate needs its key", () => {
    assert.throws(() => tlsOptions({ certFile: file("cert") }), /go together/);
    assert.throws(() => tlsOptions({ keyFile: file("key") }), /go together/);
  });

  test("are refused with a plaintext address, and a missing file fails at once", () => {
    assert.throws(() => createEnvTransport("http://localhost:1", { caFile: file("ca") }), /plaintext/);
    assert.throws(() => createEnvTransport("localhost:1", { caFile: join(dir, "absent") }), /ENOENT/);
  });
});

// PROTOCOL_HEADER is sent beside the token: both interceptors run.
test("the protocol header still goes with the token", async () => {
  let version: string | null = null;
  const transport = createRouterTransport(
    (router) =>
      router.service(EnvService, {
        describe(_req, ctx) {
          version = ctx.requestHeader.get(PROTOCOL_HEADER);
          return {};
        },
      }),
    { transport: { interceptors: [openenvHeaders, bearerToken("t")] } },
  );
  await createEnvClient(transport).describe({});
  assert.equal(version, "1.1");
});
