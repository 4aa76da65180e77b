// One session over one StepStream: the fast path of the contract.
//
// A StepStream is its own session (docs/protocol.md): the first request
// creates it (a reset with `new_session`), every request is answered by one
// response with the same `seq`, in order, and a failed request is answered
// in-band while the stream goes on. EnvSession turns that into one awaitable
// method per request:
//   * requests may be pipelined: each call gets its seq and its own promise;
//   * creation carries a fresh `request_id` (a UUID), so a retried creation
//     never makes a second env;
//   * steps carry `step_index` (1, 2, ... after each reset, also when
//     pipelined; a failed step is not counted), so the server applies each
//     step once and refuses one out of order;
//   * a failed request rejects with OpenEnvError (reason and metadata as on
//     unary calls) and the session goes on;
//   * close() half-closes the stream and reads it to its end, which closes
//     the session on the server.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import {
  StepStreamRequestSchema,
  type AutoresetMode,
  type ResetBatchResponse,
  type ResetResponse,
  type StateResponse,
  type StepBatchResponse,
  type StepResponse,
  type StepStreamRequest,
  type StepStreamResponse,
} from "./gen/openenv/v1/env_service_pb.js";
import type { MapValue } from "./gen/openenv/v1/values_pb.js";
import type { EnvClient } from "./client.js";
import { OpenEnvError } from "./errors.js";
import { toMapValue, toValue, type JsValueInit } from "./values.js";

/** How an episode starts (ResetRequest / SubEnvReset fields). */
export interface ResetOptions {
  /** Seed of the env's random number generator; unset leaves it unseeded. */
  seed?: number | bigint;
  /** Env-specific reset options, e.g. `{ step_seconds: 1.0 }`. */
  options?: MapValue | { readonly [key: string]: JsValueInit };
  /** Which task of a multi-task env ("" for its default). */
  taskId?: string;
  /** Id of this reset (or creation), for a safe retry; creation picks a UUID when unset. */
  requestId?: string;
}

/** A new batched session: N sub-environments stepped together. */
export interface BatchOptions extends ResetOptions {
  numEnvs: number;
  autoresetMode?: AutoresetMode;
}

type RequestCase = NonNullable<StepStreamRequest["request"]["case"]>;
type RequestValue<C extends RequestCase> = Extract<
  MessageInitShape<typeof StepStreamRequestSchema>["request"],
  { case: C }
>["value"];
type Answer = StepStreamResponse["response"];
type AnswerValue<A extends Answer["case"]> = Extract<Answer, { case: A }>["value"];

interface Pending {
  readonly seq: bigint;
  readonly expect: Answer["case"];
  resolve(value: Answer["value"]): void;
  reject(error: OpenEnvError): void;
}

/** A session on its own StepStream. Create one with EnvSession.create or createBatch. */
export class EnvSession {
  private id = "";
  /** The last step index the server applied (see stepIndex). */
  private appliedIndex = 0n;
  /** The index the last step sent carries: ahead of appliedIndex while steps are pipelined. */
  private sentIndex = 0n;

  private readonly outbox = new Outbox<StepStreamRequest>();
  private readonly pending: Pending[] = [];
  private readonly finished: Promise<void>;
  private seq = 0n;
  private failure: OpenEnvError | undefined;
  private failureSeen = false;
  private ended = false;

  private constructor(client: EnvClient, callOptions: CallOptions) {
    this.finished = this.read(client.stepStream(this.outbox, callOptions));
  }

  /** The session's id on the server. */
  get sessionId(): string {
    return this.id;
  }

  /** The last step index the server applied (single: steps of the episode; batched: batched steps). */
  get stepIndex(): bigint {
    return this.appliedIndex;
  }

  /**
   * Opens a stream and creates its single-env session with a first reset
   * (`new_session` with `options.requestId`, or a fresh UUID). `callOptions`
   * hold for the whole stream (headers, signal, a deadline for all of it).
   */
  static async create(
    client: EnvClient,
    options: ResetOptions = {},
    callOptions: CallOptions = {},
  ): Promise<{ session: EnvSession; reset: ResetResponse }> {
    const session = new EnvSession(client, callOptions);
    const requestId = options.requestId ?? randomUUID();
    return session.opened(
      session.resetWith({ ...options, requestId: "" }, { case: "newSession", value: { requestId } }),
    );
  }

  /** Opens a stream and creates a batched session of `numEnvs` sub-environments, all reset. */
  static async createBatch(
    client: EnvClient,
    options: BatchOptions,
    callOptions: CallOptions = {},
  ): Promise<{ session: EnvSession; reset: ResetBatchResponse }> {
    const session = new EnvSession(client, callOptions);
    const newSession = {
      requestId: options.requestId ?? randomUUID(),
      numEnvs: options.numEnvs,
      autoresetMode: options.autoresetMode,
    };
    return session.opened(
      session.resetBatchWith({ ...options, requestId: "" }, [], { case: "newSession", value: newSession }),
    );
  }

  /** Starts a new episode of the stream's single-env session. */
  reset(options: ResetOptions = {}): Promise<ResetResponse> {
    return this.resetWith(options, { case: undefined });
  }

  /**
   * Applies one action: a Value, or anything toValue encodes (`1n` for a
   * Discrete action, an NdArray for a Box). Sends `step_index` = the last
   * one sent + 1, so pipelined steps carry 1, 2, 3, ... (or `stepIndex`
   * when given, to repeat a step on purpose).
   */
  step(action: JsValueInit, stepIndex?: bigint): Promise<StepResponse> {
    return this.stepping(stepIndex, (index) =>
      this.call("stepRequest", "stepResponse", { action: toValue(action), stepIndex: index }),
    );
  }

  /** Resets sub-environments of the stream's batched session (all when `envIds` is empty). */
  resetBatch(options: ResetOptions = {}, envIds: readonly number[] = []): Promise<ResetBatchResponse> {
    return this.resetBatchWith(options, envIds, { case: undefined });
  }

  /** Steps sub-environments together: one batched action value (an int64 tensor for Discrete). */
  stepBatch(actions: JsValueInit, envIds: readonly number[] = []): Promise<StepBatchResponse> {
    return this.stepping(undefined, (index) =>
      this.call("stepBatchRequest", "stepBatchResponse", {
        actions: toValue(actions),
        envIds: [...envIds],
        stepIndex: index,
      }),
    );
  }

  /** Where the session stands, and the env's own state. */
  state(): Promise<StateResponse> {
    return this.call("stateRequest", "stateResponse", {});
  }

  /**
   * Half-closes the stream and reads it to its end (the server then closes
   * the session). Rejects only with a failure of the stream no call saw.
   */
  async close(): Promise<void> {
    this.outbox.end();
    await this.finished;
    if (this.failure && !this.failureSeen) {
      this.failureSeen = true;
      throw this.failure;
    }
  }

  private async opened<R extends ResetResponse | ResetBatchResponse>(
    first: Promise<R>,
  ): Promise<{ session: EnvSession; reset: R }> {
    try {
      const reset = await first;
      this.id = reset.sessionId;
      return { session: this, reset };
    } catch (e) {
      await this.close().catch(() => undefined);
      throw e;
    }
  }

  /** Sends a step with its index and keeps both counters: a failed step is not applied. */
  private async stepping<R extends { stepIndex: bigint }>(
    stepIndex: bigint | undefined,
    send: (index: bigint) => Promise<R>,
  ): Promise<R> {
    this.sentIndex = stepIndex ?? this.sentIndex + 1n;
    try {
      const answer = await send(this.sentIndex);
      this.appliedIndex = answer.stepIndex;
      return answer;
    } catch (e) {
      this.sentIndex = this.appliedIndex;
      throw e;
    }
  }

  /** Sends a reset that starts the step count again (steps sent after it count from 1). */
  private async restarting<R>(restarts: boolean, send: Promise<R>): Promise<R> {
    if (restarts) this.sentIndex = 0n;
    try {
      const answer = await send;
      if (restarts) this.appliedIndex = 0n;
      return answer;
    } catch (e) {
      if (restarts) this.sentIndex = this.appliedIndex;
      throw e;
    }
  }

  private resetWith(
    options: ResetOptions,
    session: NonNullable<RequestValue<"resetRequest">>["session"],
  ): Promise<ResetResponse> {
    const sent = this.call("resetRequest", "resetResponse", {
      session,
      ...startFields(options),
      requestId: options.requestId ?? "",
    });
    return this.restarting(true, sent);
  }

  private resetBatchWith(
    options: ResetOptions,
    envIds: readonly number[],
    session: NonNullable<RequestValue<"resetBatchRequest">>["session"],
  ): Promise<ResetBatchResponse> {
    const sent = this.call("resetBatchRequest", "resetBatchResponse", {
      session,
      envIds: [...envIds],
      all: startFields(options),
      requestId: options.requestId ?? "",
    });
    // Only a reset of every sub-env starts the count of batched steps again.
    return this.restarting(envIds.length === 0, sent);
  }

  /** Sends one request and resolves with its answer of the expected kind. */
  private call<C extends RequestCase, A extends NonNullable<Answer["case"]>>(
    request: C,
    expect: A,
    value: RequestValue<C>,
  ): Promise<AnswerValue<A>> {
    if (this.ended || this.outbox.closed) {
      this.failureSeen = true;
      return Promise.reject(this.failure ?? streamError(Code.FailedPrecondition, "the session's stream is closed"));
    }
    this.seq += 1n;
    const seq = this.seq;
    const answer = new Promise<AnswerValue<A>>((resolve, reject) => {
      this.pending.push({ seq, expect, resolve: resolve as Pending["resolve"], reject });
    });
    this.outbox.push(create(StepStreamRequestSchema, { seq, request: { case: request, value } as never }));
    return answer;
  }

  /** Reads answers in order and settles each call's promise; settles the rest when the stream ends. */
  private async read(responses: AsyncIterable<StepStreamResponse>): Promise<void> {
    try {
      for await (const response of responses) {
        const call = this.pending[0];
        if (call === undefined || response.seq !== call.seq) {
          throw streamError(Code.Internal, `answer seq ${response.seq} does not match request ${call?.seq}`);
        }
        this.pending.shift();
        const answer = response.response;
        if (answer.case === "error") {
          call.reject(OpenEnvError.fromStatus(answer.value));
        } else if (answer.case !== call.expect) {
          call.reject(streamError(Code.Internal, `expected ${call.expect}, got ${answer.case}`));
        } else {
          call.resolve(answer.value);
        }
      }
      if (this.pending.length > 0) {
        throw streamError(Code.Unavailable, "the stream ended before answering every request");
      }
    } catch (e) {
      this.failure = OpenEnvError.from(e);
    } finally {
      this.ended = true;
      this.outbox.end();
      for (const call of this.pending.splice(0)) {
        this.failureSeen = true;
        call.reject(this.failure ?? streamError(Code.Unavailable, "the stream ended"));
      }
    }
  }
}

function startFields(options: ResetOptions) {
  const mapped = options.options;
  return {
    seed: options.seed === undefined ? undefined : BigInt(options.seed),
    taskId: options.taskId ?? "",
    options: mapped === undefined ? undefined : "$typeName" in mapped ? (mapped as MapValue) : toMapValue(mapped),
  };
}

function streamError(code: Code, message: string): OpenEnvError {
  return new OpenEnvError(new ConnectError(message, code));
}

/** The request side of the stream: an async iterable the caller pushes to. */
class Outbox<T> implements AsyncIterable<T> {
  closed = false;
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;

  push(item: T): void {
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.closed = true;
    if (this.waiting && this.items.length === 0) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      // Connect stops reading requests through return() or, when the call
      // fails, throw(); either way nothing more is sent.
      return: () => this.stop(),
      throw: () => this.stop(),
    };
  }

  private stop(): Promise<IteratorResult<T, undefined>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }
}
