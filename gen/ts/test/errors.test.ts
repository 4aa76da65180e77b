// One error type from both paths: a unary call's grpc-status-details-bin trailer
// and a stream answer's in-band google.rpc.Status.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  ErrorReason,
  OpenEnvError,
  RetryInfoSchema,
  RpcCode,
  RpcStatusSchema,
  type RpcStatus,
} from "../src/index.js";

function crafted(): RpcStatus {
  return create(RpcStatusSchema, {
    code: RpcCode.ABORTED,
    message: "step_index 5 is not the next step (1) nor the last applied (0)",
    details: [
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: "step_index" }] })),
      anyPack(
        ErrorInfoSchema,
        create(ErrorInfoSchema, {
          domain: "openenv.v1",
          reason: "STEP_OUT_OF_ORDER",
          metadata: { step_index: "5", step_count: "0" },
        }),
      ),
      anyPack(
        RetryInfoSchema,
        create(RetryInfoSchema, { retryDelay: create(DurationSchema, { seconds: 1n, nanos: 500_000_000 }) }),
      ),
    ],
  });
}

/** The trailer a gRPC server sends with this status, parsed by Connect as on a unary call. */
function unaryError(status: RpcStatus): ConnectError {
  const trailer = new Headers({
    "grpc-status": String(status.code),
    "grpc-message": encodeURIComponent(status.message),
    "grpc-status-details-bin": Buffer.from(toBinary(RpcStatusSchema, status)).toString("base64"),
  });
  const error = findTrailerError(trailer);
  assert.ok(error instanceof ConnectError);
  return error;
}

function check(error: OpenEnvError): void {
  assert.equal(error.code, Code.Aborted);
  assert.equal(error.reason, "STEP_OUT_OF_ORDER");
  assert.equal(error.errorReason, ErrorReason.STEP_OUT_OF_ORDER);
  assert.equal(error.domain, "openenv.v1");
  assert.deepEqual(error.metadata, { step_index: "5", step_count: "0" });
  assert.equal(error.rawMessage, "step_index 5 is not the next step (1) nor the last applied (0)");
  assert.equal(error.retryDelayMs, 1500);
  assert.equal(error.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field, "step_index");
  assert.match(error.message, /STEP_OUT_OF_ORDER/);
  assert.ok(error instanceof Error);
}

describe("OpenEnvError", () => {
  test("from a stream answer's in-band status", () => {
    check(OpenEnvError.fromStatus(crafted()));
  });

  test("from a unary call's trailer", () => {
    check(OpenEnvError.from(unaryError(crafted())));
  });

  test("both paths agree", () => {
    const a = OpenEnvError.fromStatus(crafted());
    const b = OpenEnvError.from(unaryError(crafted()));
    assert.deepEqual([a.code, a.reason, a.metadata, a.rawMessage], [b.code, b.reason, b.metadata, b.rawMessage]);
  });

  test("an error without ErrorInfo has an empty reason", () => {
    const error = OpenEnvError.from(new ConnectError("deadline", Code.DeadlineExceeded));
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.equal(error.reason, "");
    assert.equal(error.errorReason, undefined);
    assert.deepEqual(error.metadata, {});
    assert.equal(error.retryDelayMs, undefined);
  });

  test("a reason newer than this package keeps its name", () => {
    const status = create(RpcStatusSchema, {
      code: RpcCode.FAILED_PRECONDITION,
      message: "new",
      details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { domain: "openenv.v1", reason: "SOMETHING_NEW" }))],
    });
    const error = OpenEnvError.fromStatus(status);
    assert.equal(error.reason, "SOMETHING_NEW");
    assert.equal(error.errorReason, undefined);
    assert.equal(error.code, Code.FailedPrecondition);
  });

  test("anything thrown becomes one, and one stays itself", () => {
    const error = OpenEnvError.from(new Error("boom"));
    assert.equal(error.code, Code.Unknown);
    assert.equal(OpenEnvError.from(error), error);
  });
});
