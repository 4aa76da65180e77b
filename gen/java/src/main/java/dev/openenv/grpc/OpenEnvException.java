package dev.openenv.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.openenv.grpc.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A failed openenv.v1 request: its gRPC code, the server's message, and the stable {@code reason}
 * with its {@code metadata} from the {@code google.rpc.ErrorInfo} detail (domain "openenv.v1").
 *
 * <p>The server reports a failure in two places: a unary call ends with a status whose {@code
 * grpc-status-details-bin} trailer holds a {@code google.rpc.Status}, and a StepStream answers with
 * the same {@code google.rpc.Status} in-band. {@link #fromThrowable} reads the first, {@link
 * #fromStatus} the second, so a caller matches reasons the same way on both paths:
 *
 * <pre>{@code
 * try {
 *   session.step(Values.of(7));
 * } catch (OpenEnvException e) {
 *   if (e.is(ErrorReason.ERROR_REASON_ACTION_OUT_OF_SPACE)) { ... }
 * }
 * }</pre>
 *
 * <p>Match on the reason, never on the message, which is English for people. A status without an
 * ErrorInfo (a deadline the client itself enforced, an unreachable server) has the reason "".
 */
public class OpenEnvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The ErrorInfo domain of every reason this contract defines. */
  public static final String DOMAIN = "openenv.v1";

  private static final String REASON_PREFIX = "ERROR_REASON_";

  private final Status.Code code;
  private final String description;
  private final String reason;
  private final String domain;
  private final Map<String, String> metadata;
  private final com.google.rpc.Status status;

  /** The error of this status, caused by {@code cause} (null for an in-band error). */
  protected OpenEnvException(com.google.rpc.Status status, Throwable cause) {
    super(summary(status), cause);
    this.status = status;
    this.code = Status.fromCodeValue(status.getCode()).getCode();
    this.description = status.getMessage();
    ErrorInfo info = errorInfo(status);
    this.reason = info == null ? "" : info.getReason();
    this.domain = info == null ? "" : info.getDomain();
    this.metadata =
        info == null
            ? Collections.emptyMap()
            : Collections.unmodifiableMap(new LinkedHashMap<>(info.getMetadataMap()));
  }

  /**
   * The error of a failed unary call or stream: its status and, when the server sent one, the
   * {@code google.rpc.Status} of its {@code grpc-status-details-bin} trailer.
   */
  public static OpenEnvException fromThrowable(Throwable t) {
    if (t instanceof OpenEnvException) {
      return (OpenEnvException) t;
    }
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    if (details == null) {
      Status status = Status.fromThrowable(t);
      details =
          com.google.rpc.Status.newBuilder()
              .setCode(status.getCode().value())
              .setMessage(status.getDescription() == null ? "" : status.getDescription())
              .build();
    }
    return new OpenEnvException(details, t);
  }

  /** The error of an in-band {@code google.rpc.Status} ({@code StepStreamResponse.error}). */
  public static OpenEnvException fromStatus(com.google.rpc.Status status) {
    return new OpenEnvException(status, null);
  }

  /** The gRPC status code. */
  public Status.Code getCode() {
    return code;
  }

  /** The server's message for people (without the code). */
  public String getDescription() {
    return description;
  }

  /** The ErrorInfo reason, e.g. "SESSION_NOT_FOUND"; "" when the status carried none. */
  public String getReason() {
    return reason;
  }

  /**
   * The reason as this contract's enum: {@code ERROR_REASON_UNSPECIFIED} when there was none, and
   * {@code UNRECOGNIZED} for a reason newer than this client (then go by {@link #getCode()}).
   */
  public ErrorReason getErrorReason() {
    if (reason.isEmpty() || !DOMAIN.equals(domain)) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      return ErrorReason.valueOf(REASON_PREFIX + reason);
    } catch (IllegalArgumentException e) {
      return ErrorReason.UNRECOGNIZED;
    }
  }

  /** Whether this error has the given reason. */
  public boolean is(ErrorReason expected) {
    return getErrorReason() == expected && expected != ErrorReason.ERROR_REASON_UNSPECIFIED;
  }

  /** The ErrorInfo domain ("openenv.v1"), or "" without an ErrorInfo. */
  public String getDomain() {
    return domain;
  }

  /** The ErrorInfo metadata, as each reason documents it (for example {@code step_count}). */
  public Map<String, String> getMetadata() {
    return metadata;
  }

  /**
   * How long to wait before retrying, when the server sent a RetryInfo (SESSION_LIMIT, DRAINING).
   */
  public Optional<Duration> getRetryDelay() {
    for (Any detail : status.getDetailsList()) {
      RetryInfo info = unpack(detail, RetryInfo.class);
      if (info != null) {
        com.google.protobuf.Duration delay = info.getRetryDelay();
        return Optional.of(Duration.ofSeconds(delay.getSeconds(), delay.getNanos()));
      }
    }
    return Optional.empty();
  }

  /** The whole {@code google.rpc.Status}, details included. */
  public com.google.rpc.Status getStatus() {
    return status;
  }

  /** The ErrorInfo of our domain, else the first ErrorInfo, else null. */
  private static ErrorInfo errorInfo(com.google.rpc.Status status) {
    ErrorInfo first = null;
    for (Any detail : status.getDetailsList()) {
      ErrorInfo info = unpack(detail, ErrorInfo.class);
      if (info != null) {
        if (DOMAIN.equals(info.getDomain())) {
          return info;
        }
        first = first == null ? info : first;
      }
    }
    return first;
  }

  /** The detail as {@code type}, or null when it is another type or malformed (never throws). */
  private static <T extends com.google.protobuf.Message> T unpack(Any detail, Class<T> type) {
    try {
      return detail.is(type) ? detail.unpack(type) : null;
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static String summary(com.google.rpc.Status status) {
    Status.Code code = Status.fromCodeValue(status.getCode()).getCode();
    ErrorInfo info = errorInfo(status);
    String reason = info == null ? "" : " (" + info.getReason() + ")";
    return code + reason + ": " + status.getMessage();
  }
}
