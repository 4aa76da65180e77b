package dev.openenv.grpc;

import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.openenv.grpc.v1.CloseSessionRequest;
import dev.openenv.grpc.v1.DescribeRequest;
import dev.openenv.grpc.v1.DescribeResponse;
import dev.openenv.grpc.v1.EnvServiceGrpc;
import dev.openenv.grpc.v1.NewBatchSession;
import dev.openenv.grpc.v1.NewSession;
import dev.openenv.grpc.v1.ResetBatchRequest;
import dev.openenv.grpc.v1.ResetBatchResponse;
import dev.openenv.grpc.v1.ResetRequest;
import dev.openenv.grpc.v1.ResetResponse;
import dev.openenv.grpc.v1.StateRequest;
import dev.openenv.grpc.v1.StateResponse;
import dev.openenv.grpc.v1.StepBatchRequest;
import dev.openenv.grpc.v1.StepBatchResponse;
import dev.openenv.grpc.v1.StepRequest;
import dev.openenv.grpc.v1.StepResponse;
import dev.openenv.grpc.v1.Value;
import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A client of one openenv.v1 server: the unary calls, and {@link StepSession}s over StepStream.
 *
 * <p>Over the generated stub it adds what every call of the protocol needs: the {@code
 * openenv-protocol-version} header, the {@code openenv-session-id} header on calls that name a
 * session (so an L7 load balancer can route them), a protocol check on {@link #describe()}, and
 * failures as {@link OpenEnvException} with the server's reason. Instances are immutable and
 * thread-safe; {@link #withDeadline}, {@link #withHeader} and {@link #withToken} return views over
 * the same channel.
 */
public final class EnvClient implements AutoCloseable {
  /** The protocol version this client speaks, "MAJOR.MINOR". */
  public static final String PROTOCOL_VERSION = "1.1";

  /** The request header that carries {@link #PROTOCOL_VERSION}. */
  public static final Metadata.Key<String> PROTOCOL_HEADER =
      Metadata.Key.of("openenv-protocol-version", Metadata.ASCII_STRING_MARSHALLER);

  /** The request header that names the session of a unary call, for session-affine routing. */
  public static final Metadata.Key<String> SESSION_HEADER =
      Metadata.Key.of("openenv-session-id", Metadata.ASCII_STRING_MARSHALLER);

  /** The largest message sent or received, as the Python server's default. */
  public static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private final Channel channel;
  private final ManagedChannel owned; // null when the caller owns the channel
  private final Metadata headers;
  private final Duration deadline; // per call; null for none
  private final CallCredentials credentials; // per call; null for none

  private EnvClient(
      Channel channel,
      ManagedChannel owned,
      Metadata headers,
      Duration deadline,
      CallCredentials credentials) {
    this.channel = channel;
    this.owned = owned;
    this.headers = headers;
    this.deadline = deadline;
    this.credentials = credentials;
  }

  /**
   * A client over a plaintext channel of its own to {@code target} ("localhost:50051" or any gRPC
   * target), which {@link #close()} shuts down. Describe and State, which change nothing, are
   * retried on UNAVAILABLE, as the Python clients do.
   */
  public static EnvClient connect(String target) {
    return connect(target, InsecureChannelCredentials.create());
  }

  /**
   * {@link #connect(String)} with these channel credentials: TLS from PEM files with {@link
   * Tls#credentials}, or any grpc-java {@code ChannelCredentials}.
   */
  public static EnvClient connect(String target, ChannelCredentials channelCredentials) {
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, channelCredentials)
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .defaultServiceConfig(retryConfig())
            .enableRetry()
            .build();
    return new EnvClient(channel, channel, new Metadata(), null, null);
  }

  /** A client over a channel the caller built and keeps (TLS, interceptors, ...). */
  public static EnvClient over(Channel channel) {
    return new EnvClient(channel, null, new Metadata(), null, null);
  }

  /** This client with a deadline on each unary call, and on each whole stream it opens. */
  public EnvClient withDeadline(Duration perCall) {
    return new EnvClient(channel, owned, headers, perCall, credentials);
  }

  /**
   * This client sending {@code authorization: Bearer TOKEN} on every unary call and stream, for a
   * server started with {@code --tokens-file}. Use it over TLS: see {@link BearerToken}.
   */
  public EnvClient withToken(String token) {
    return withCallCredentials(new BearerToken(token));
  }

  /** This client attaching these call credentials to every unary call and stream. */
  public EnvClient withCallCredentials(CallCredentials perCall) {
    return new EnvClient(channel, owned, headers, deadline, perCall);
  }

  /** This client sending one more request header (for example W3C {@code traceparent}). */
  public EnvClient withHeader(String key, String value) {
    Metadata more = new Metadata();
    more.merge(headers);
    more.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
    return new EnvClient(channel, owned, more, deadline, credentials);
  }

  /** The channel, for other services on the same server (health, reflection). */
  public Channel channel() {
    return channel;
  }

  /**
   * A fresh creation id for {@code new_session.request_id}: retrying with it never makes a second
   * session.
   */
  public static String newRequestId() {
    return UUID.randomUUID().toString();
  }

  /**
   * The environment's spec. Fails with FAILED_PRECONDITION / PROTOCOL_MISMATCH when the server
   * speaks another MAJOR version of the protocol.
   */
  public DescribeResponse describe() {
    DescribeResponse spec = call("", stub -> stub.describe(DescribeRequest.getDefaultInstance()));
    String theirs = spec.getProtocolVersion();
    if (!major(theirs).equals(major(PROTOCOL_VERSION))) {
      throw OpenEnvException.fromStatus(
          com.google.rpc.Status.newBuilder()
              .setCode(Code.FAILED_PRECONDITION_VALUE)
              .setMessage(
                  "the server speaks openenv protocol "
                      + theirs
                      + " but this client speaks "
                      + PROTOCOL_VERSION
                      + "; upgrade the older side to the same major version")
              .addDetails(
                  com.google.protobuf.Any.pack(
                      ErrorInfo.newBuilder()
                          .setDomain(OpenEnvException.DOMAIN)
                          .setReason("PROTOCOL_MISMATCH")
                          .putMetadata("server_version", theirs)
                          .putMetadata("client_version", PROTOCOL_VERSION)
                          .build()))
              .build());
    }
    return spec;
  }

  /**
   * Reset: a new session when the request sets {@code new_session}, else the named one's new
   * episode.
   */
  public ResetResponse reset(ResetRequest request) {
    return call(request.getSessionId(), stub -> stub.reset(request));
  }

  /** A new single-env session (with a fresh request id), reset with {@code seed} when not null. */
  public ResetResponse newSession(Long seed) {
    ResetRequest.Builder request =
        ResetRequest.newBuilder()
            .setNewSession(NewSession.newBuilder().setRequestId(newRequestId()));
    if (seed != null) {
      request.setSeed(seed);
    }
    return reset(request.build());
  }

  /** Step a single-env session. */
  public StepResponse step(StepRequest request) {
    return call(request.getSessionId(), stub -> stub.step(request));
  }

  /** Step a single-env session with this action as step {@code stepIndex} (1 for the first). */
  public StepResponse step(String sessionId, Value action, long stepIndex) {
    return step(
        StepRequest.newBuilder()
            .setSessionId(sessionId)
            .setAction(action)
            .setStepIndex(stepIndex)
            .build());
  }

  /** ResetBatch: create a batched session ({@code new_session}) or reset sub-envs of one. */
  public ResetBatchResponse resetBatch(ResetBatchRequest request) {
    return call(request.getSessionId(), stub -> stub.resetBatch(request));
  }

  /** A new batched session of {@code numEnvs} sub-envs (with a fresh request id). */
  public ResetBatchResponse newBatchSession(int numEnvs) {
    return resetBatch(
        ResetBatchRequest.newBuilder()
            .setNewSession(
                NewBatchSession.newBuilder().setRequestId(newRequestId()).setNumEnvs(numEnvs))
            .build());
  }

  /** Step sub-envs of a batched session together. */
  public StepBatchResponse stepBatch(StepBatchRequest request) {
    return call(request.getSessionId(), stub -> stub.stepBatch(request));
  }

  /** Where a session stands. */
  public StateResponse state(String sessionId) {
    return call(
        sessionId, stub -> stub.state(StateRequest.newBuilder().setSessionId(sessionId).build()));
  }

  /** Close a session and free its environment. */
  public void closeSession(String sessionId) {
    call(
        sessionId,
        stub ->
            stub.closeSession(CloseSessionRequest.newBuilder().setSessionId(sessionId).build()));
  }

  /**
   * A StepStream session of its own: the stream's first request resets a new single-env session (a
   * fresh {@code new_session.request_id} is filled in unless {@code first} names a session to
   * create). Closing the session closes the stream, and the server closes the env.
   */
  public StepSession openSession(ResetRequest first) {
    ResetRequest.Builder reset = first.toBuilder();
    if (!first.hasNewSession()) {
      reset.setNewSession(NewSession.newBuilder().setRequestId(newRequestId()));
    } else if (first.getNewSession().getRequestId().isEmpty()) {
      reset.getNewSessionBuilder().setRequestId(newRequestId());
    }
    return StepSession.open(asyncStub(""), reset.build());
  }

  /** {@link #openSession(ResetRequest)} with only a seed (null: unseeded). */
  public StepSession openSession(Long seed) {
    ResetRequest.Builder first = ResetRequest.newBuilder();
    if (seed != null) {
      first.setSeed(seed);
    }
    return openSession(first.build());
  }

  /**
   * A StepStream over a new batched session: {@code first} is its ResetBatch (with {@code
   * new_session.num_envs}; a fresh request id is filled in when empty).
   */
  public StepSession openBatchSession(ResetBatchRequest first) {
    ResetBatchRequest.Builder reset = first.toBuilder();
    if (reset.getNewSession().getRequestId().isEmpty()) {
      reset.getNewSessionBuilder().setRequestId(newRequestId());
    }
    return StepSession.open(asyncStub(""), reset.build());
  }

  /**
   * A StepStream attached to a session created by a unary Reset; closing it leaves the session
   * open.
   */
  public StepSession attach(String sessionId) {
    return StepSession.attach(asyncStub(sessionId), sessionId);
  }

  /**
   * The generated blocking stub with this client's headers, credentials and deadline, for anything
   * else.
   */
  public EnvServiceGrpc.EnvServiceBlockingStub blockingStub(String sessionId) {
    EnvServiceGrpc.EnvServiceBlockingStub stub =
        EnvServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headersFor(sessionId)))
            .withMaxInboundMessageSize(MAX_MESSAGE_BYTES)
            .withMaxOutboundMessageSize(MAX_MESSAGE_BYTES)
            .withCallCredentials(credentials);
    return deadline == null
        ? stub
        : stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Shut the channel down if this client made it. */
  @Override
  public void close() {
    if (owned != null) {
      owned.shutdown();
      try {
        if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
          owned.shutdownNow();
        }
      } catch (InterruptedException e) {
        owned.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  private EnvServiceGrpc.EnvServiceStub asyncStub(String sessionId) {
    EnvServiceGrpc.EnvServiceStub stub =
        EnvServiceGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headersFor(sessionId)))
            .withMaxInboundMessageSize(MAX_MESSAGE_BYTES)
            .withMaxOutboundMessageSize(MAX_MESSAGE_BYTES)
            .withCallCredentials(credentials);
    return deadline == null
        ? stub
        : stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  private <T> T call(String sessionId, Function<EnvServiceGrpc.EnvServiceBlockingStub, T> rpc) {
    try {
      return rpc.apply(blockingStub(sessionId));
    } catch (StatusRuntimeException e) {
      throw OpenEnvException.fromThrowable(e);
    }
  }

  private Metadata headersFor(String sessionId) {
    Metadata out = new Metadata();
    out.put(PROTOCOL_HEADER, PROTOCOL_VERSION);
    if (!sessionId.isEmpty()) {
      out.put(SESSION_HEADER, sessionId);
    }
    out.merge(headers);
    return out;
  }

  private static String major(String version) {
    int dot = version.indexOf('.');
    return dot < 0 ? version : version.substring(0, dot);
  }

  /** gRPC service config: retry Describe and State (read-only) on UNAVAILABLE. */
  private static Map<String, ?> retryConfig() {
    String service = EnvServiceGrpc.SERVICE_NAME;
    Map<String, Object> retry =
        Map.of(
            "maxAttempts",
            4.0,
            "initialBackoff",
            "0.1s",
            "maxBackoff",
            "2s",
            "backoffMultiplier",
            2.0,
            "retryableStatusCodes",
            List.of("UNAVAILABLE"));
    Map<String, Object> method =
        Map.of(
            "name",
            List.of(
                Map.of("service", service, "method", "Describe"),
                Map.of("service", service, "method", "State")),
            "retryPolicy",
            retry);
    return Map.of("methodConfig", List.of(method));
  }
}
