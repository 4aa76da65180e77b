package dev.openenv.grpc;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Call credentials sending {@code authorization: Bearer TOKEN} on every call and stream, the header
 * an openenv-grpc server started with {@code --tokens-file} checks (a missing or unknown token
 * fails with UNAUTHENTICATED, reason {@code UNAUTHENTICATED}).
 *
 * <p>Give it to {@link EnvClient#withToken} (or to any stub's {@code withCallCredentials}). grpc
 * attaches it to plaintext channels too, so that a server behind a TLS-terminating proxy works;
 * anywhere else a token belongs on a TLS channel ({@link Tls#credentials}), where no one on the
 * path can read it.
 */
public final class BearerToken extends CallCredentials {
  /** The request header that carries the token. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String header;

  /** Credentials for this token (printable ASCII, no spaces: the server's tokens-file form). */
  public BearerToken(String token) {
    if (token == null || token.isEmpty() || !token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
      throw new IllegalArgumentException("a bearer token is one word of printable ASCII");
    }
    this.header = "Bearer " + token;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, header);
    try {
      applier.apply(md);
    } catch (RuntimeException e) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("bearer token").withCause(e));
    }
  }

  /** The token stays out of logs. */
  @Override
  public String toString() {
    return "BearerToken[redacted]";
  }
}
