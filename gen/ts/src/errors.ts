// The contract's rich errors as one JavaScript error type.
//
// A server of openenv.v1 reports every failure as a google.rpc.Status with
// a google.rpc.ErrorInfo detail (errors.proto): in the
// `grpc-status-details-bin` trailer of a failed unary call, and in-band in
// `StepStreamResponse.error` on a stream, where the stream goes on. Both
// paths end up here as an OpenEnvError, so callers match `err.reason`
// ("SESSION_NOT_FOUND", ...) the same way wherever the error came from.
//
// OpenEnvError wraps the ConnectError (its `cause`) rather than extending
// it: ConnectError.metadata is the call's headers and trailers, while here
// `metadata` is the ErrorInfo's map, as in every other language of the
// contract. The numeric `code` is Connect's Code, whose numbers are the
// google.rpc.Code numbers.

import { Code, ConnectError } from "@connectrpc/connect";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import type { Status } from "./gen/google/rpc/status_pb.js";
import { ErrorReason } from "./gen/openenv/v1/errors_pb.js";

/** ErrorInfo.domain of every error this contract defines. */
export const ERROR_DOMAIN = "openenv.v1";

/** The `reason` strings of the contract: ErrorReason names without their prefix. */
export type ErrorReasonName = Exclude<keyof typeof ErrorReason, "UNSPECIFIED" | number>;

/** A failed call or stream request of EnvService, with its stable reason. */
export class OpenEnvError extends Error {
  override readonly name = "OpenEnvError";
  /** The gRPC status code (Connect's Code; the numbers are google.rpc.Code's). */
  readonly code: Code;
  /** The server's message, without the code in front. For people: never match on it. */
  readonly rawMessage: string;
  /** ErrorInfo.reason, e.g. "SESSION_NOT_FOUND"; "" when the error carries no ErrorInfo. */
  readonly reason: string;
  /** ErrorInfo.domain: "openenv.v1" for the contract's errors; "" without ErrorInfo. */
  readonly domain: string;
  /** ErrorInfo.metadata: the keys errors.proto documents for the reason. */
  readonly metadata: Readonly<Record<string, string>>;
  /** RetryInfo.retry_delay in milliseconds, where the server says when to retry. */
  readonly retryDelayMs: number | undefined;
  /** The ConnectError this was read from (its `details` hold every detail). */
  override readonly cause: ConnectError;

  constructor(cause: ConnectError) {
    const infos = cause.findDetails(ErrorInfoSchema);
    const info = infos.find((i) => i.domain === ERROR_DOMAIN) ?? infos[0];
    const reason = info?.reason ?? "";
    super(reason ? `${cause.message} (${reason})` : cause.message, { cause });
    this.cause = cause;
    this.code = cause.code;
    this.rawMessage = cause.rawMessage;
    this.reason = reason;
    this.domain = info?.domain ?? "";
    this.metadata = { ...(info?.metadata ?? {}) };
    const delay = cause.findDetails(RetryInfoSchema)[0]?.retryDelay;
    this.retryDelayMs = delay ? Number(delay.seconds) * 1000 + delay.nanos / 1e6 : undefined;
  }

  /**
   * Any caught error as an OpenEnvError: a ConnectError of a unary call or
   * stream (its trailer's details read), an OpenEnvError as it is, anything
   * else as code Unknown (timeouts and aborts as Connect maps them).
   */
  static from(reason: unknown): OpenEnvError {
    return reason instanceof OpenEnvError ? reason : new OpenEnvError(ConnectError.from(reason));
  }

  /** The in-band error of a StepStream answer (`StepStreamResponse.error`). */
  static fromStatus(status: Status): OpenEnvError {
    const code = status.code in Code && status.code !== 0 ? (status.code as Code) : Code.Unknown;
    const error = new ConnectError(status.message, code);
    // Incoming details, exactly as Connect stores the trailer's: type name and bytes.
    error.details = status.details.map((any) => ({
      type: any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1),
      value: any.value,
    }));
    return new OpenEnvError(error);
  }

  /** The reason as the ErrorReason enum; undefined for no reason or one newer than this package. */
  get errorReason(): ErrorReason | undefined {
    return Object.hasOwn(ErrorReason, this.reason) && this.reason !== "UNSPECIFIED"
      ? ErrorReason[this.reason as ErrorReasonName]
      : undefined;
  }

  /** Every detail of one type (BadRequest, DebugInfo, ...), decoded. */
  findDetails<Desc extends DescMessage>(desc: Desc): MessageShape<Desc>[] {
    return this.cause.findDetails(desc);
  }
}
