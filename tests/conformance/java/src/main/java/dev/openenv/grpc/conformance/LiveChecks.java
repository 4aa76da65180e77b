package dev.openenv.grpc.conformance;

import static dev.openenv.grpc.conformance.Expect.equal;
import static dev.openenv.grpc.conformance.Expect.fails;
import static dev.openenv.grpc.conformance.Expect.float32;
import static dev.openenv.grpc.conformance.Expect.floats;
import static dev.openenv.grpc.conformance.Expect.that;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.openenv.grpc.EnvClient;
import dev.openenv.grpc.OpenEnvException;
import dev.openenv.grpc.StepSession;
import dev.openenv.grpc.Tensors;
import dev.openenv.grpc.Values;
import dev.openenv.grpc.v1.BoxSpace;
import dev.openenv.grpc.v1.DescribeResponse;
import dev.openenv.grpc.v1.DiscreteSpace;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.NewBatchSession;
import dev.openenv.grpc.v1.NewSession;
import dev.openenv.grpc.v1.ResetBatchRequest;
import dev.openenv.grpc.v1.ResetBatchResponse;
import dev.openenv.grpc.v1.ResetRequest;
import dev.openenv.grpc.v1.ResetResponse;
import dev.openenv.grpc.v1.Space;
import dev.openenv.grpc.v1.StepBatchRequest;
import dev.openenv.grpc.v1.StepBatchResponse;
import dev.openenv.grpc.v1.StepResponse;
import dev.openenv.grpc.v1.SubEnvReset;
import dev.openenv.grpc.v1.Tensor;
import dev.openenv.grpc.v1.Value;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Checks 1 to 12 of the scenario, against the live server, through the client package. */
final class LiveChecks {
  private static final int[] OBS_SHAPE = {3};

  private final EnvClient client;
  private final JsonObject scenario;
  private final JsonObject episode;
  private final JsonObject errors;

  /** The session of unary_episode, for step_after_end. */
  private String episodeSession;

  /** The session of action_out_of_space, for out_of_order and retried_step. */
  private String errorSession;

  LiveChecks(EnvClient client, JsonObject scenario) {
    this.client = client;
    this.scenario = scenario;
    this.episode = scenario.getAsJsonObject("episode");
    this.errors = scenario.getAsJsonObject("errors");
  }

  // 1
  void describe() {
    DescribeResponse spec = client.describe();
    equal(scenario.get("env_name").getAsString(), spec.getEnvName(), "env_name");
    String major = spec.getProtocolVersion().split("\\.", 2)[0];
    equal(
        scenario.get("protocol_major").getAsString(),
        major,
        "protocol MAJOR of " + spec.getProtocolVersion());
    box(
        scenario.getAsJsonObject("observation_space").getAsJsonObject("box"),
        spec.getObservationSpace());
    JsonObject discrete = scenario.getAsJsonObject("action_space").getAsJsonObject("discrete");
    Space action = spec.getActionSpace();
    equal(Space.KindCase.DISCRETE, action.getKindCase(), "action space kind");
    DiscreteSpace d = action.getDiscrete();
    equal(discrete.get("n").getAsLong(), d.getN(), "action space n");
    equal(discrete.get("start").getAsLong(), d.getStart(), "action space start");
  }

  private static void box(JsonObject want, Space space) {
    equal(Space.KindCase.BOX, space.getKindCase(), "observation space kind");
    BoxSpace box = space.getBox();
    equal(dtype(want.get("dtype").getAsString()), box.getDtype(), "observation space dtype");
    int[] shape =
        want.getAsJsonArray("shape").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    equal(Arrays.toString(shape), box.getShapeList().toString(), "observation space shape");
    bound(want.get("low").getAsDouble(), box.getLow(), shape, "low");
    bound(want.get("high").getAsDouble(), box.getHigh(), shape, "high");
  }

  /** A bound equal to {@code want} everywhere: one scalar, or one element per sample element. */
  private static void bound(double want, Tensor got, int[] shape, String what) {
    double[] values = Tensors.toDoubles(got);
    that(
        values.length == 1 || values.length == Tensors.size(shape),
        "observation space " + what + " has " + values.length + " elements");
    for (double v : values) {
      equal(want, v, "observation space " + what);
    }
  }

  // 2: the runner checks that the server's span joined this trace.
  void trace() {
    client.withHeader("traceparent", scenario.get("traceparent").getAsString()).describe();
  }

  // 3
  void unaryEpisode() {
    ResetResponse reset = newSession(null);
    episodeSession = reset.getSessionId();
    float32(
        reset.getObservation(),
        OBS_SHAPE,
        floats(episode.get("reset_observation")),
        "reset observation");
    int index = 0;
    for (JsonElement step : episode.getAsJsonArray("steps")) {
      index++;
      JsonObject want = step.getAsJsonObject();
      StepResponse got = client.step(episodeSession, action(want), index);
      step(want, got, index, "step " + index);
    }
  }

  // 4
  void stepAfterEnd() {
    that(episodeSession != null, "unary_episode made no session");
    int steps = episode.getAsJsonArray("steps").size();
    JsonObject want = errors.getAsJsonObject("step_after_end");
    fails(
        () -> client.step(episodeSession, action(firstStep()), steps + 1),
        want.get("code").getAsInt(),
        want.get("reason").getAsString(),
        "a step after the episode ended");
    client.closeSession(episodeSession);
  }

  // 5
  void unknownSession() {
    JsonObject want = errors.getAsJsonObject("unknown_session");
    fails(
        () -> client.step(want.get("session_id").getAsString(), action(firstStep()), 1),
        want.get("code").getAsInt(),
        want.get("reason").getAsString(),
        "a step on an unknown session");
  }

  // 6
  void actionOutOfSpace() {
    errorSession = newSession(null).getSessionId();
    JsonObject want = errors.getAsJsonObject("action_out_of_space");
    fails(
        () -> client.step(errorSession, Values.of(want.get("action").getAsLong()), 1),
        want.get("code").getAsInt(),
        want.get("reason").getAsString(),
        "a step with an action outside the space");
  }

  // 7
  void outOfOrder() {
    if (errorSession == null) {
      errorSession = newSession(null).getSessionId();
    }
    JsonObject want = errors.getAsJsonObject("out_of_order");
    OpenEnvException e =
        fails(
            () ->
                client.step(errorSession, action(firstStep()), want.get("step_index").getAsLong()),
            want.get("code").getAsInt(),
            want.get("reason").getAsString(),
            "a step out of order");
    equal(
        want.get("step_count").getAsString(),
        e.getMetadata().get("step_count"),
        "metadata step_count");
  }

  // 8
  void retriedStep() {
    if (errorSession == null) {
      errorSession = newSession(null).getSessionId();
    }
    StepResponse first = client.step(errorSession, action(firstStep()), 1);
    StepResponse again = client.step(errorSession, action(firstStep()), 1);
    that(
        Arrays.equals(first.toByteArray(), again.toByteArray()),
        "the retried step answered differently: " + first + " then " + again);
    step(firstStep(), first, 1, "the retried step");
    equal(1L, client.state(errorSession).getStepCount(), "State.step_count after a retried step");
    client.closeSession(errorSession);
  }

  // 9
  void requestIdTwice() {
    String requestId = EnvClient.newRequestId();
    ResetRequest request =
        ResetRequest.newBuilder()
            .setNewSession(NewSession.newBuilder().setRequestId(requestId))
            .setSeed(seed())
            .build();
    String first = client.reset(request).getSessionId();
    String second = client.reset(request).getSessionId();
    equal(first, second, "session_id of the same request_id twice");
    client.closeSession(first);
  }

  // 10
  void deadlineRetry() {
    JsonObject want = errors.getAsJsonObject("deadline_retry");
    ResetResponse reset = newSession(Values.mapOf(options(want.getAsJsonObject("options"))));
    String session = reset.getSessionId();
    try {
      EnvClient impatient =
          client.withDeadline(Duration.ofMillis(want.get("first_deadline_ms").getAsLong()));
      fails(
          () -> impatient.step(session, action(firstStep()), 1),
          want.get("code").getAsInt(),
          null,
          "a slow step past its deadline");
      EnvClient patient =
          client.withDeadline(Duration.ofMillis(want.get("retry_deadline_ms").getAsLong()));
      step(firstStep(), patient.step(session, action(firstStep()), 1), 1, "the retried slow step");
      equal(1L, client.state(session).getStepCount(), "State.step_count (applied once)");
    } finally {
      client.closeSession(session);
    }
  }

  // 11
  void streamEpisode() {
    try (StepSession session = client.openSession(seed())) {
      // The stream's first request was the reset that created the session.
      float32(
          session.lastReset().getObservation(),
          OBS_SHAPE,
          floats(episode.get("reset_observation")),
          "stream reset observation");
      int index = 0;
      for (JsonElement step : episode.getAsJsonArray("steps")) {
        index++;
        JsonObject want = step.getAsJsonObject();
        step(want, session.step(action(want)), index, "stream step " + index);
      }
      JsonObject ended = errors.getAsJsonObject("step_after_end");
      fails(
          () -> session.step(action(firstStep())),
          ended.get("code").getAsInt(),
          ended.get("reason").getAsString(),
          "a stream step after the episode ended");
      session.reset(ResetRequest.getDefaultInstance()); // no session oneof: the stream's own
      JsonObject outside = errors.getAsJsonObject("action_out_of_space");
      fails(
          () -> session.step(Values.of(outside.get("action").getAsLong())),
          outside.get("code").getAsInt(),
          outside.get("reason").getAsString(),
          "a stream step with an action outside the space");
      equal(
          session.sessionId(), session.state().getSessionId(), "stream state after in-band errors");
    }
  }

  // 12
  void batched() {
    JsonObject batch = scenario.getAsJsonObject("batched");
    int n = batch.get("num_envs").getAsInt();
    ResetBatchResponse reset =
        client.resetBatch(
            ResetBatchRequest.newBuilder()
                .setNewSession(
                    NewBatchSession.newBuilder()
                        .setRequestId(EnvClient.newRequestId())
                        .setNumEnvs(n))
                .setAll(SubEnvReset.newBuilder().setSeed(batch.get("seed").getAsLong()))
                .build());
    String session = reset.getSessionId();
    try {
      int[] shape = {n, 3};
      float32(
          reset.getObservations(),
          shape,
          floats(batch.get("reset_observations")),
          "batched reset observations");
      int index = 0;
      for (JsonElement element : batch.getAsJsonArray("steps")) {
        index++;
        JsonObject want = element.getAsJsonObject();
        long[] actions =
            want.getAsJsonArray("actions").asList().stream()
                .mapToLong(JsonElement::getAsLong)
                .toArray();
        StepBatchResponse got =
            client.stepBatch(
                StepBatchRequest.newBuilder()
                    .setSessionId(session)
                    .setActions(Values.of(Tensors.of(actions)))
                    .setStepIndex(index)
                    .build());
        String what = "batched step " + index;
        float32(
            got.getObservations(), shape, floats(want.get("observations")), what + " observations");
        equal(
            Arrays.toString(Expect.doubles(want.get("rewards"))),
            Arrays.toString(Tensors.toDoubles(got.getRewards())),
            what + " rewards");
        equal(
            Arrays.toString(Expect.booleans(want.get("terminations"))),
            Arrays.toString(Tensors.toBooleans(got.getTerminations())),
            what + " terminations");
        equal(
            Arrays.toString(Expect.booleans(want.get("truncations"))),
            Arrays.toString(Tensors.toBooleans(got.getTruncations())),
            what + " truncations");
        equal((long) index, got.getStepIndex(), what + " step_index");
      }
    } finally {
      client.closeSession(session);
    }
  }

  // ---- shared ---------------------------------------------------------------------------------

  private ResetResponse newSession(dev.openenv.grpc.v1.MapValue options) {
    ResetRequest.Builder request =
        ResetRequest.newBuilder()
            .setNewSession(NewSession.newBuilder().setRequestId(EnvClient.newRequestId()))
            .setSeed(seed());
    if (options != null) {
      request.setOptions(options);
    }
    return client.reset(request.build());
  }

  private long seed() {
    return episode.get("seed").getAsLong();
  }

  private JsonObject firstStep() {
    return episode.getAsJsonArray("steps").get(0).getAsJsonObject();
  }

  private static Value action(JsonObject step) {
    return Values.of(step.get("action").getAsLong());
  }

  /** A StepResponse equals the scenario's step: observation, reward, flags, components, index. */
  private static void step(JsonObject want, StepResponse got, long index, String what) {
    float32(
        got.getObservation(), OBS_SHAPE, floats(want.get("observation")), what + " observation");
    equal(want.get("reward").getAsDouble(), got.getReward(), what + " reward");
    equal(want.get("terminated").getAsBoolean(), got.getTerminated(), what + " terminated");
    equal(want.get("truncated").getAsBoolean(), got.getTruncated(), what + " truncated");
    Map<String, Double> components = new TreeMap<>();
    for (Map.Entry<String, JsonElement> e : want.getAsJsonObject("reward_components").entrySet()) {
      components.put(e.getKey(), e.getValue().getAsDouble());
    }
    equal(components, new TreeMap<>(got.getRewardComponentsMap()), what + " reward_components");
    equal(index, got.getStepIndex(), what + " step_index");
  }

  /** Reset options from JSON: numbers with a fraction or exponent are doubles, others integers. */
  private static Map<String, Object> options(JsonObject json) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : json.entrySet()) {
      String text = e.getValue().getAsString();
      boolean fractional = text.contains(".") || text.contains("e") || text.contains("E");
      out.put(
          e.getKey(),
          fractional ? (Object) e.getValue().getAsDouble() : (Object) e.getValue().getAsLong());
    }
    return out;
  }

  static Dtype dtype(String name) {
    return Dtype.valueOf("DTYPE_" + name.toUpperCase(java.util.Locale.ROOT));
  }
}
