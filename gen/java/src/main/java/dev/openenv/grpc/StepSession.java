package dev.openenv.grpc;

import dev.openenv.grpc.v1.AttachRequest;
import dev.openenv.grpc.v1.EnvServiceGrpc;
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
import dev.openenv.grpc.v1.StepStreamRequest;
import dev.openenv.grpc.v1.StepStreamResponse;
import dev.openenv.grpc.v1.Value;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One session driven over one StepStream: the fast path, one message per step each way, and no
 * session routing needed behind a load balancer.
 *
 * <p>Each method sends one request and waits for its answer. The session numbers its steps itself
 * ({@code step_index} 1, 2, ... after each reset, {@link #state()} re-reads the server's count), so
 * a step the server already applied is never applied twice. A failed request throws {@link
 * OpenEnvException} with the server's reason, read from the in-band {@code
 * StepStreamResponse.error}, and the session goes on; only the end of the stream itself (session
 * reaped, server stopping) fails every later call. Methods are synchronized: one request at a time,
 * as the server takes them. {@link #close()} half-closes the stream and reads it to its end; the
 * server then closes a session this stream created.
 */
public final class StepSession implements AutoCloseable {
  /** What the response observer hands over: an answer, or the end of the stream. */
  private static final class Event {
    final StepStreamResponse response; // null at the end
    final Throwable error; // null for a clean end or an answer

    Event(StepStreamResponse response, Throwable error) {
      this.response = response;
      this.error = error;
    }
  }

  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final StreamObserver<StepStreamRequest> requests;
  private String sessionId = "";
  private ResetResponse lastReset;
  private ResetBatchResponse lastResetBatch;
  private long seq;
  private long stepIndex; // steps applied in the current episode (batched: batched steps)
  private Event end; // the stream's end, once read
  private boolean closed;

  private StepSession(EnvServiceGrpc.EnvServiceStub stub) {
    this.requests =
        stub.stepStream(
            new StreamObserver<StepStreamResponse>() {
              @Override
              public void onNext(StepStreamResponse response) {
                events.add(new Event(response, null));
              }

              @Override
              public void onError(Throwable t) {
                events.add(new Event(null, t));
              }

              @Override
              public void onCompleted() {
                events.add(new Event(null, null));
              }
            });
  }

  /** A stream whose first request creates its session (a reset with new_session). */
  static StepSession open(EnvServiceGrpc.EnvServiceStub stub, ResetRequest first) {
    StepSession session = new StepSession(stub);
    try {
      session.reset(first);
      return session;
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** A stream whose first request creates a batched session (a reset_batch with new_session). */
  static StepSession open(EnvServiceGrpc.EnvServiceStub stub, ResetBatchRequest first) {
    StepSession session = new StepSession(stub);
    try {
      session.resetBatch(first);
      return session;
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** A stream bound to an existing session. */
  static StepSession attach(EnvServiceGrpc.EnvServiceStub stub, String sessionId) {
    StepSession session = new StepSession(stub);
    try {
      StateResponse state =
          session
              .send(
                  StepStreamRequest.newBuilder()
                      .setAttachRequest(AttachRequest.newBuilder().setSessionId(sessionId)))
              .getAttachResponse()
              .getState();
      session.sessionId = state.getSessionId();
      session.stepIndex = state.getStepCount();
      return session;
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** The id of the stream's session ("" until its first reset). */
  public synchronized String sessionId() {
    return sessionId;
  }

  /** Steps applied in the current episode, as this session counts them (batched: batched steps). */
  public synchronized long stepIndex() {
    return stepIndex;
  }

  /**
   * The answer to the latest reset, the one that opened the stream included (its first
   * observation); null before any.
   */
  public synchronized ResetResponse lastReset() {
    return lastReset;
  }

  /** The answer to the latest batched reset, the opening one included; null before any. */
  public synchronized ResetBatchResponse lastResetBatch() {
    return lastResetBatch;
  }

  /** A new episode of the stream's session, unseeded. */
  public ResetResponse reset() {
    return reset(ResetRequest.getDefaultInstance());
  }

  /** A new episode of the stream's session with this seed. */
  public ResetResponse reset(long seed) {
    return reset(ResetRequest.newBuilder().setSeed(seed).build());
  }

  /** A new episode with any reset fields (seed, options, task_id, request_id). */
  public synchronized ResetResponse reset(ResetRequest request) {
    ResetResponse response =
        send(StepStreamRequest.newBuilder().setResetRequest(request)).getResetResponse();
    sessionId = response.getSessionId();
    stepIndex = 0;
    lastReset = response;
    return response;
  }

  /** One step with this action, as the next {@code step_index}. */
  public synchronized StepResponse step(Value action) {
    StepResponse response =
        send(StepStreamRequest.newBuilder()
                .setStepRequest(
                    StepRequest.newBuilder().setAction(action).setStepIndex(stepIndex + 1)))
            .getStepResponse();
    stepIndex = response.getStepIndex();
    return response;
  }

  /** One step with an integer action (Discrete). */
  public StepResponse step(long action) {
    return step(Values.of(action));
  }

  /**
   * Reset sub-envs of the stream's batched session (or create it, as the first request). A reset of
   * every sub-env starts the batched step count again.
   */
  public synchronized ResetBatchResponse resetBatch(ResetBatchRequest request) {
    ResetBatchResponse response =
        send(StepStreamRequest.newBuilder().setResetBatchRequest(request)).getResetBatchResponse();
    sessionId = response.getSessionId();
    if (request.getEnvIdsCount() == 0) {
      stepIndex = 0;
    }
    lastResetBatch = response;
    return response;
  }

  /**
   * Step every sub-env together: one action per sub-env, in the batched form of the action space.
   */
  public StepBatchResponse stepBatch(Value actions) {
    return stepBatch(actions, new int[0]);
  }

  /** Step these sub-envs together, one action each, as the next batched {@code step_index}. */
  public synchronized StepBatchResponse stepBatch(Value actions, int[] envIds) {
    StepBatchRequest.Builder request =
        StepBatchRequest.newBuilder().setActions(actions).setStepIndex(stepIndex + 1);
    for (int id : envIds) {
      request.addEnvIds(id);
    }
    StepBatchResponse response =
        send(StepStreamRequest.newBuilder().setStepBatchRequest(request)).getStepBatchResponse();
    stepIndex = response.getStepIndex();
    return response;
  }

  /** Where the session stands; this session's step count follows the server's. */
  public synchronized StateResponse state() {
    StateResponse state =
        send(StepStreamRequest.newBuilder().setStateRequest(StateRequest.getDefaultInstance()))
            .getStateResponse();
    stepIndex = state.getStepCount();
    return state;
  }

  /**
   * Send any request and wait for its answer (for send/recv and whatever the helpers above do not
   * cover); its {@code seq} is filled in. The step count is not tracked for these.
   */
  public synchronized StepStreamResponse send(StepStreamRequest.Builder request) {
    if (closed) {
      throw new IllegalStateException("the session is closed");
    }
    if (end != null) {
      throw ended(end);
    }
    long mine = ++seq;
    requests.onNext(request.setSeq(mine).build());
    Event event = take();
    if (event.response == null) {
      end = event;
      throw ended(event);
    }
    StepStreamResponse response = event.response;
    if (response.getSeq() != mine) {
      throw new IllegalStateException(
          "answer to request " + response.getSeq() + " arrived while waiting for " + mine);
    }
    if (response.getResponseCase() == StepStreamResponse.ResponseCase.ERROR) {
      throw OpenEnvException.fromStatus(response.getError());
    }
    return response;
  }

  /** Half-close the stream and read it to its end; later calls fail. Never throws. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (end != null) {
      return;
    }
    try {
      requests.onCompleted();
    } catch (RuntimeException e) {
      return; // the call is already gone
    }
    while (end == null) {
      Event event = take();
      if (event.response == null) {
        end = event;
      }
    }
  }

  private Event take() {
    try {
      return events.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requests.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
      throw OpenEnvException.fromThrowable(Status.CANCELLED.withCause(e).asRuntimeException());
    }
  }

  private static OpenEnvException ended(Event event) {
    if (event.error != null) {
      return OpenEnvException.fromThrowable(event.error);
    }
    return OpenEnvException.fromThrowable(
        Status.UNAVAILABLE
            .withDescription("the stream ended before answering")
            .asRuntimeException());
  }
}
