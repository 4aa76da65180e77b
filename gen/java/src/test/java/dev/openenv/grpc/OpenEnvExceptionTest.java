package dev.openenv.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.openenv.grpc.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OpenEnvExceptionTest {
  /** What a server sends for a step whose index is out of order. */
  private static final com.google.rpc.Status OUT_OF_ORDER =
      com.google.rpc.Status.newBuilder()
          .setCode(Code.ABORTED_VALUE)
          .setMessage("step_index 5 is not the next step (1)")
          .addDetails(
              Any.pack(
                  ErrorInfo.newBuilder()
                      .setDomain("openenv.v1")
                      .setReason("STEP_OUT_OF_ORDER")
                      .putMetadata("step_index", "5")
                      .putMetadata("step_count", "0")
                      .build()))
          .build();

  @Test
  void readsTheUnaryTrailer() {
    // StatusProto puts the Status into grpc-status-details-bin, as the server's trailer does.
    StatusRuntimeException thrown = StatusProto.toStatusRuntimeException(OUT_OF_ORDER);
    OpenEnvException e = OpenEnvException.fromThrowable(thrown);
    assertEquals(Status.Code.ABORTED, e.getCode());
    assertEquals("STEP_OUT_OF_ORDER", e.getReason());
    assertEquals(ErrorReason.ERROR_REASON_STEP_OUT_OF_ORDER, e.getErrorReason());
    assertTrue(e.is(ErrorReason.ERROR_REASON_STEP_OUT_OF_ORDER));
    assertEquals(Map.of("step_index", "5", "step_count", "0"), e.getMetadata());
    assertEquals("step_index 5 is not the next step (1)", e.getDescription());
    assertEquals(
        "ABORTED (STEP_OUT_OF_ORDER): step_index 5 is not the next step (1)", e.getMessage());
    assertSame(thrown, e.getCause());
  }

  @Test
  void readsAnInBandStatusTheSameWay() {
    OpenEnvException unary =
        OpenEnvException.fromThrowable(StatusProto.toStatusRuntimeException(OUT_OF_ORDER));
    OpenEnvException inBand = OpenEnvException.fromStatus(OUT_OF_ORDER);
    assertEquals(unary.getCode(), inBand.getCode());
    assertEquals(unary.getReason(), inBand.getReason());
    assertEquals(unary.getMetadata(), inBand.getMetadata());
    assertEquals(unary.getMessage(), inBand.getMessage());
    assertEquals(OUT_OF_ORDER, inBand.getStatus());
  }

  @Test
  void aStatusWithoutDetailsHasNoReason() {
    OpenEnvException e =
        OpenEnvException.fromThrowable(
            Status.DEADLINE_EXCEEDED
                .withDescription("deadline exceeded after 0.1s")
                .asRuntimeException());
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getCode());
    assertEquals("", e.getReason());
    assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, e.getErrorReason());
    assertFalse(e.is(ErrorReason.ERROR_REASON_UNSPECIFIED));
    assertTrue(e.getMetadata().isEmpty());
    assertEquals(Optional.empty(), e.getRetryDelay());
  }

  @Test
  void anUnknownReasonIsUnrecognizedAndKeepsItsCode() {
    OpenEnvException e =
        OpenEnvException.fromStatus(
            com.google.rpc.Status.newBuilder()
                .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
                .addDetails(
                    Any.pack(
                        ErrorInfo.newBuilder()
                            .setDomain("openenv.v1")
                            .setReason("FROM_THE_FUTURE")
                            .build()))
                .addDetails(
                    Any.pack(
                        RetryInfo.newBuilder()
                            .setRetryDelay(
                                com.google.protobuf.Duration.newBuilder()
                                    .setSeconds(2)
                                    .setNanos(500_000_000))
                            .build()))
                .build());
    assertEquals("FROM_THE_FUTURE", e.getReason());
    assertEquals(ErrorReason.UNRECOGNIZED, e.getErrorReason());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getCode());
    assertEquals(Optional.of(Duration.ofMillis(2500)), e.getRetryDelay());
  }

  @Test
  void prefersTheOpenEnvDomainAndSkipsMalformedDetails() {
    OpenEnvException e =
        OpenEnvException.fromStatus(
            com.google.rpc.Status.newBuilder()
                .setCode(Code.NOT_FOUND_VALUE)
                .addDetails(
                    Any.newBuilder()
                        .setTypeUrl("type.googleapis.com/google.rpc.ErrorInfo")
                        .setValue(com.google.protobuf.ByteString.copyFromUtf8("\u00ff\u00ff")))
                .addDetails(
                    Any.pack(
                        ErrorInfo.newBuilder().setDomain("example.com").setReason("OTHER").build()))
                .addDetails(
                    Any.pack(
                        ErrorInfo.newBuilder()
                            .setDomain("openenv.v1")
                            .setReason("SESSION_NOT_FOUND")
                            .putMetadata("session_id", "abc")
                            .build()))
                .build());
    assertTrue(e.is(ErrorReason.ERROR_REASON_SESSION_NOT_FOUND));
    assertEquals("abc", e.getMetadata().get("session_id"));
  }
}
