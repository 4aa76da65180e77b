// Connecting: a gRPC transport to an EnvService server and the typed client.
//
// The client is Connect-ES's own (`createClient(EnvService, transport)`),
// with two things every caller of the contract needs:
//   * the request headers of docs/protocol.md: `openenv-protocol-version`
//     on every call (a server refuses another MAJOR) and
//     `openenv-session-id` on unary calls that name a session, so an L7
//     load balancer can keep a session on its backend;
//   * failures as OpenEnvError, the same type the StepStream session
//     helper rejects with, so a reason is read the same way everywhere.
// Plaintext by default; TLS files and a bearer token (auth.ts) are options.

import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import type { DescMethod } from "@bufbuild/protobuf";
import { EnvService } from "./gen/openenv/v1/env_service_pb.js";
import { OpenEnvError } from "./errors.js";
import { bearerToken, tlsOptions, wantsTls, type TlsFiles } from "./auth.js";

/** The protocol version this package speaks ("MAJOR.MINOR"). */
export const PROTOCOL_VERSION = "1.1";
/** The request header carrying PROTOCOL_VERSION. */
export const PROTOCOL_HEADER = "openenv-protocol-version";
/** The request header naming the session of a unary call, for session-affine routing. */
export const SESSION_HEADER = "openenv-session-id";

/** The generated Connect client of EnvService; its calls reject with OpenEnvError. */
export type EnvClient = Client<typeof EnvService>;

/** Adds the protocol version to every call and the session id to unary calls that name one. */
export const openenvHeaders: Interceptor = (next) => async (req) => {
  req.header.set(PROTOCOL_HEADER, PROTOCOL_VERSION);
  if (!req.stream) {
    const sessionId = sessionIdOf(req.message);
    if (sessionId) req.header.set(SESSION_HEADER, sessionId);
  }
  return next(req);
};

function sessionIdOf(message: object): string {
  if ("sessionId" in message && typeof message.sessionId === "string") return message.sessionId;
  if ("session" in message) {
    const session = message.session as { case?: string; value?: unknown };
    if (session.case === "sessionId" && typeof session.value === "string") return session.value;
  }
  return "";
}

/** How to reach a server: Connect's transport options, TLS files and a token. */
export interface EnvTransportOptions extends Omit<GrpcTransportOptions, "baseUrl">, TlsFiles {
  /** Sent as `authorization: Bearer <token>` on every call; none when empty. */
  token?: string;
}

/**
 * A gRPC (HTTP/2) transport to `host:port`, e.g. "localhost:50051", with the
 * openenv headers. Plaintext unless a TLS file is given (`caFile`, and
 * `certFile` + `keyFile` for mutual TLS) or the address is `https://...`;
 * `token` adds a bearer token to every call. Other options tune Connect's
 * transport (`defaultTimeoutMs`, `readMaxBytes`, `nodeOptions`, ...).
 */
export function createEnvTransport(address: string, options: EnvTransportOptions = {}): Transport {
  const { caFile, certFile, keyFile, token, ...transport } = options;
  const tls = wantsTls({ caFile, certFile, keyFile });
  const scheme = /^https?:\/\//.exec(address)?.[0];
  if (tls && scheme === "http://") throw new Error(`TLS files given for a plaintext address: ${address}`);
  const baseUrl = scheme ? address : `${tls ? "https" : "http"}://${address}`;
  const interceptors: Interceptor[] = [openenvHeaders];
  if (token) interceptors.push(bearerToken(token));
  return createGrpcTransport({
    ...transport,
    baseUrl,
    nodeOptions: tls
      ? { ...tlsOptions({ caFile, certFile, keyFile }), ...transport.nodeOptions }
      : transport.nodeOptions,
    interceptors: [...interceptors, ...(transport.interceptors ?? [])],
  });
}

/**
 * The EnvService client over a transport, or over an address and the options
 * of `createEnvTransport(address, options)`. Unary calls reject with
 * OpenEnvError, and StepStream's response iterable throws one; see
 * EnvSession for streams.
 */
export function createEnvClient(transport: Transport | string, options?: EnvTransportOptions): EnvClient {
  const raw = createClient(
    EnvService,
    typeof transport === "string" ? createEnvTransport(transport, options) : transport,
  );
  const client: Record<string, unknown> = {};
  for (const method of Object.values(EnvService.method) as DescMethod[]) {
    const call = raw[method.localName as keyof EnvClient] as (...args: unknown[]) => unknown;
    client[method.localName] =
      method.methodKind === "unary"
        ? async (...args: unknown[]) => {
            try {
              return await call(...args);
            } catch (e) {
              throw OpenEnvError.from(e);
            }
          }
        : (...args: unknown[]) => rethrowing(call(...args) as AsyncIterable<unknown>);
  }
  return client as EnvClient;
}

async function* rethrowing<T>(responses: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* responses;
  } catch (e) {
    throw OpenEnvError.from(e);
  }
}
