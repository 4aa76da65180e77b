package dev.openenv.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.openenv.grpc.v1.EnvServiceGrpc;
import dev.openenv.grpc.v1.ErrorReason;
import dev.openenv.grpc.v1.ResetResponse;
import dev.openenv.grpc.v1.StateResponse;
import dev.openenv.grpc.v1.StepRequest;
import dev.openenv.grpc.v1.StepResponse;
import dev.openenv.grpc.v1.StepStreamRequest;
import dev.openenv.grpc.v1.StepStreamResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The session helper against a real gRPC server in-process, serving a counter env by the contract's
 * rules (the Python server itself is exercised by the conformance client): step indexes, in-band
 * errors that leave the stream going, unary trailers, headers and tokens, and close.
 */
class StepSessionTest {
  private final List<Metadata> headers = new CopyOnWriteArrayList<>();
  private Server server;
  private ManagedChannel channel;
  private EnvClient client;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor recordHeaders =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
            headers.add(md);
            return next.startCall(call, md);
          }
        };
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(ServerInterceptors.intercept(new CounterService(), recordHeaders))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = EnvClient.over(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void stepsCarryTheirIndexAndErrorsLeaveTheStreamGoing() {
    try (StepSession session = client.openSession(7L)) {
      assertEquals("s-1", session.sessionId());
      assertEquals(1, session.step(1).getStepIndex());
      assertEquals(2, session.step(0).getStepIndex());

      OpenEnvException e = assertThrows(OpenEnvException.class, () -> session.step(9));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
      assertTrue(e.is(ErrorReason.ERROR_REASON_ACTION_OUT_OF_SPACE));
      assertEquals(2, session.stepIndex(), "a failed step is not counted");

      StepResponse third = session.step(1);
      assertEquals(3, third.getStepIndex());
      assertEquals(2, third.getObservation().getIntValue(), "1 + 0 + 1");
      StateResponse state = session.state();
      assertEquals(3, state.getStepCount());

      ResetResponse again = session.reset();
      assertEquals(0, again.getObservation().getIntValue());
      assertEquals(1, session.step(1).getStepIndex());
    }
    assertEquals(EnvClient.PROTOCOL_VERSION, headers.get(0).get(EnvClient.PROTOCOL_HEADER));
  }

  @Test
  void theFirstRequestCreatesTheSessionWithARequestId() {
    try (StepSession session = client.openSession((Long) null)) {
      session.step(1);
    }
    assertEquals(36, CounterService.lastRequestId.length(), "a UUID");
  }

  @Test
  void unaryErrorsCarryTheTrailerAndTheSessionHeader() {
    OpenEnvException e =
        assertThrows(OpenEnvException.class, () -> client.step("no-such-session", Values.of(1), 1));
    assertEquals(Status.Code.NOT_FOUND, e.getCode());
    assertTrue(e.is(ErrorReason.ERROR_REASON_SESSION_NOT_FOUND));
    assertEquals("no-such-session", e.getMetadata().get("session_id"));
    assertEquals("no-such-session", headers.get(0).get(EnvClient.SESSION_HEADER));
  }

  @Test
  void aTokenGoesOnEveryUnaryCallAndStream() {
    EnvClient authed = client.withToken("s3cret").withHeader("traceparent", "t");
    assertThrows(OpenEnvException.class, () -> authed.step("no-such-session", Values.of(1), 1));
    try (StepSession session = authed.openSession(7L)) {
      session.step(1);
    }
    assertThrows(OpenEnvException.class, () -> client.step("no-such-session", Values.of(1), 1));
    assertEquals(3, headers.size());
    assertEquals("Bearer s3cret", headers.get(0).get(BearerToken.AUTHORIZATION), "unary");
    assertEquals("Bearer s3cret", headers.get(1).get(BearerToken.AUTHORIZATION), "stream");
    assertEquals("t", headers.get(1).get(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER)));
    assertNull(headers.get(2).get(BearerToken.AUTHORIZATION), "the view, not the client");
  }

  @Test
  void aTokenIsOneWordOfPrintableAscii() {
    assertThrows(IllegalArgumentException.class, () -> new BearerToken(""));
    assertThrows(IllegalArgumentException.class, () -> new BearerToken("two words"));
    assertThrows(IllegalArgumentException.class, () -> new BearerToken("line\n"));
    assertEquals("BearerToken[redacted]", new BearerToken("s3cret").toString());
  }

  @Test
  void theEndOfTheStreamFailsLaterCalls() {
    StepSession session = client.openSession(1L);
    OpenEnvException e = assertThrows(OpenEnvException.class, () -> session.step(2));
    assertEquals(Status.Code.NOT_FOUND, e.getCode(), "the server ended the stream");
    assertThrows(OpenEnvException.class, () -> session.step(1));
    session.close();
    session.close();
  }

  /** s = sum of actions; actions 0 and 1 only; action 2 ends the stream as if reaped. */
  private static final class CounterService extends EnvServiceGrpc.EnvServiceImplBase {
    static volatile String lastRequestId = "";

    @Override
    public void step(StepRequest request, StreamObserver<StepResponse> out) {
      out.onError(
          StatusProto.toStatusRuntimeException(
              error(Code.NOT_FOUND, "SESSION_NOT_FOUND", request.getSessionId())));
    }

    @Override
    public StreamObserver<StepStreamRequest> stepStream(StreamObserver<StepStreamResponse> out) {
      return new StreamObserver<>() {
        long sum;
        long count;

        @Override
        public void onNext(StepStreamRequest request) {
          StepStreamResponse.Builder answer =
              StepStreamResponse.newBuilder().setSeq(request.getSeq());
          switch (request.getRequestCase()) {
            case RESET_REQUEST:
              if (request.getResetRequest().hasNewSession()) {
                lastRequestId = request.getResetRequest().getNewSession().getRequestId();
              }
              sum = 0;
              count = 0;
              answer.getResetResponseBuilder().setSessionId("s-1").setObservation(Values.of(0));
              break;
            case STEP_REQUEST:
              long action = request.getStepRequest().getAction().getIntValue();
              if (action == 2) {
                out.onError(Status.NOT_FOUND.withDescription("reaped").asRuntimeException());
                return;
              }
              if (action > 2 || request.getStepRequest().getStepIndex() != count + 1) {
                answer.setError(error(Code.INVALID_ARGUMENT, "ACTION_OUT_OF_SPACE", "s-1"));
                break;
              }
              sum += action;
              count += 1;
              answer.getStepResponseBuilder().setObservation(Values.of(sum)).setStepIndex(count);
              break;
            case STATE_REQUEST:
              answer.getStateResponseBuilder().setSessionId("s-1").setStepCount(count);
              break;
            default:
              answer.setError(error(Code.INVALID_ARGUMENT, "INVALID_REQUEST", "s-1"));
          }
          out.onNext(answer.build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    private static com.google.rpc.Status error(Code code, String reason, String sessionId) {
      return com.google.rpc.Status.newBuilder()
          .setCode(code.getNumber())
          .setMessage(reason.toLowerCase())
          .addDetails(
              Any.pack(
                  ErrorInfo.newBuilder()
                      .setDomain("openenv.v1")
                      .setReason(reason)
                      .putMetadata("session_id", sessionId)
                      .build()))
          .build();
    }
  }
}
