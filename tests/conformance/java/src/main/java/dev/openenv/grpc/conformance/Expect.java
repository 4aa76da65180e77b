package dev.openenv.grpc.conformance;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import dev.openenv.grpc.OpenEnvException;
import dev.openenv.grpc.Tensors;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.Tensor;
import dev.openenv.grpc.v1.Value;
import java.util.Arrays;
import java.util.Objects;

/** What a check expects: each helper throws {@link Failure} saying what differed. */
final class Expect {
  private Expect() {}

  /** A check's failure; its message is the "why" of the FAIL line. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String why) {
      super(why);
    }
  }

  static void that(boolean ok, String why) {
    if (!ok) {
      throw new Failure(why);
    }
  }

  static void equal(Object want, Object got, String what) {
    if (!Objects.equals(want, got)) {
      throw new Failure(what + ": want " + want + ", got " + got);
    }
  }

  /** Runs {@code call}, which must fail with this gRPC code and (when not null) this reason. */
  static OpenEnvException fails(Runnable call, int code, String reason, String what) {
    try {
      call.run();
    } catch (OpenEnvException e) {
      equal(code, e.getCode().value(), what + ": code (" + e.getMessage() + ")");
      if (reason != null) {
        equal(reason, e.getReason(), what + ": reason (" + e.getMessage() + ")");
        equal(OpenEnvException.DOMAIN, e.getDomain(), what + ": ErrorInfo domain");
      }
      return e;
    }
    throw new Failure(what + ": succeeded, but should fail with code " + code + " " + reason);
  }

  /** The value is a float32 tensor of this shape holding exactly these numbers. */
  static void float32(Value value, int[] shape, float[] want, String what) {
    that(value.hasTensor(), what + ": not a tensor but " + value.getKindCase());
    Tensor t = value.getTensor();
    equal(Dtype.DTYPE_FLOAT32, t.getDtype(), what + ": dtype");
    equal(Arrays.toString(shape), Arrays.toString(Tensors.shape(t)), what + ": shape");
    equal(Arrays.toString(want), Arrays.toString(Tensors.toFloats(t)), what);
  }

  /** A JSON array of numbers (nested arrays flattened in order) as floats. */
  static float[] floats(JsonElement json) {
    double[] wide = doubles(json);
    float[] out = new float[wide.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) wide[i];
    }
    return out;
  }

  /** A JSON array of numbers (nested arrays flattened in order) as doubles. */
  static double[] doubles(JsonElement json) {
    return flatten(json).asList().stream().mapToDouble(JsonElement::getAsDouble).toArray();
  }

  /** A JSON array of booleans (nested arrays flattened in order). */
  static boolean[] booleans(JsonElement json) {
    JsonArray flat = flatten(json);
    boolean[] out = new boolean[flat.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = flat.get(i).getAsBoolean();
    }
    return out;
  }

  static JsonArray flatten(JsonElement json) {
    JsonArray out = new JsonArray();
    if (json.isJsonArray()) {
      for (JsonElement item : json.getAsJsonArray()) {
        out.addAll(flatten(item));
      }
    } else {
      out.add(json);
    }
    return out;
  }
}
