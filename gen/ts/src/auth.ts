// Transport security and tokens: what a client needs to reach a server run
// with `--tls-cert/--tls-key [--tls-client-ca] [--tokens-file]`.
//
//   * TLS is Node's own (http2.connect's SecureClientSessionOptions): the CA
//     that signed the server's certificate and, for mutual TLS, this client's
//     certificate and key, read from PEM files once, when the transport is made.
//   * The token is a bearer token in the `authorization` request header,
//     added by an interceptor, so every call carries it: unary calls and
//     streams alike (a StepStream sends its headers once, when it opens).

import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import type { Interceptor } from "@connectrpc/connect";

/** The request header carrying the token. */
export const AUTHORIZATION_HEADER = "authorization";

/** PEM files of a TLS connection; all optional, but a certificate needs its key. */
export interface TlsFiles {
  /** The CA certificate(s) the server's certificate must chain to; Node's roots without it. */
  caFile?: string;
  /** This client's certificate chain, for a server that asks for one (mutual TLS). */
  certFile?: string;
  /** The private key of `certFile`. */
  keyFile?: string;
}

/** True when any TLS file is named: the connection is then TLS, never plaintext. */
export function wantsTls(files: TlsFiles): boolean {
  return Boolean(files.caFile || files.certFile || files.keyFile);
}

/** The files' contents as http2.connect options (`nodeOptions` of a Connect transport). */
export function tlsOptions(files: TlsFiles): SecureClientSessionOptions {
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) {
    throw new Error("certFile and keyFile go together (a client certificate and its key)");
  }
  const options: SecureClientSessionOptions = {};
  if (files.caFile) options.ca = readFileSync(files.caFile);
  if (files.certFile) options.cert = readFileSync(files.certFile);
  if (files.keyFile) options.key = readFileSync(files.keyFile);
  return options;
}

/** Sends `authorization: Bearer <token>` on every call and stream. */
export function bearerToken(token: string): Interceptor {
  if (!token || /\s/.test(token)) throw new Error("a bearer token is a non-empty string without spaces");
  const value = `Bearer ${token}`;
  return (next) => async (req) => {
    req.header.set(AUTHORIZATION_HEADER, value);
    return next(req);
  };
}
