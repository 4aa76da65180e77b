package dev.openenv.grpc.examples;

import dev.openenv.grpc.Tensors;
import dev.openenv.grpc.Values;
import dev.openenv.grpc.v1.BoxSpace;
import dev.openenv.grpc.v1.DiscreteSpace;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.MultiBinarySpace;
import dev.openenv.grpc.v1.MultiDiscreteSpace;
import dev.openenv.grpc.v1.Space;
import dev.openenv.grpc.v1.Tensor;
import dev.openenv.grpc.v1.Value;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Uniform random actions of an action space, read from Describe: Discrete, Box (any dtype and
 * shape, per-element or scalar bounds), MultiDiscrete and MultiBinary.
 */
final class RandomActions implements Supplier<Value> {
  /** Where a bound is infinite, float samples come from a normal distribution of this spread. */
  private static final double UNBOUNDED_SPREAD = 1.0;

  private final Space space;
  private final Random random;

  RandomActions(Space space, Random random) {
    this.space = space;
    this.random = random;
    get(); // fail now, not mid-episode, on a space this policy cannot sample
  }

  @Override
  public Value get() {
    switch (space.getKindCase()) {
      case DISCRETE:
        return discrete(space.getDiscrete());
      case BOX:
        return Values.of(box(space.getBox()));
      case MULTI_DISCRETE:
        return Values.of(multiDiscrete(space.getMultiDiscrete()));
      case MULTI_BINARY:
        return Values.of(multiBinary(space.getMultiBinary()));
      default:
        throw new UnsupportedOperationException(
            "a random policy of a " + space.getKindCase() + " action space is not written yet");
    }
  }

  private Value discrete(DiscreteSpace d) {
    return Values.of(d.getStart() + random.nextLong(d.getN()));
  }

  private Tensor box(BoxSpace box) {
    int[] shape = box.getShapeList().stream().mapToInt(Integer::intValue).toArray();
    int n = Tensors.size(shape);
    double[] low = Tensors.toDoubles(box.getLow());
    double[] high = Tensors.toDoubles(box.getHigh());
    boolean floating = isFloat(box.getDtype());
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      double lo = low.length == 1 ? low[0] : low[i]; // one scalar bounds every element
      double hi = high.length == 1 ? high[0] : high[i];
      out[i] = floating ? uniform(lo, hi) : uniformInteger(lo, hi);
    }
    return Tensors.fromDoubles(box.getDtype(), out, shape);
  }

  private Tensor multiDiscrete(MultiDiscreteSpace md) {
    long[] nvec = Tensors.toLongs(md.getNvec());
    long[] start = md.hasStart() ? Tensors.toLongs(md.getStart()) : new long[nvec.length];
    long[] out = new long[nvec.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = start[i] + random.nextLong(nvec[i]);
    }
    Dtype dtype = md.getDtype() == Dtype.DTYPE_UNSPECIFIED ? Dtype.DTYPE_INT64 : md.getDtype();
    return Tensors.fromLongs(dtype, out, Tensors.shape(md.getNvec()));
  }

  private Tensor multiBinary(MultiBinarySpace mb) {
    int[] shape = mb.getShapeList().stream().mapToInt(Integer::intValue).toArray();
    long[] out = new long[Tensors.size(shape)];
    for (int i = 0; i < out.length; i++) {
      out[i] = random.nextBoolean() ? 1 : 0;
    }
    return Tensors.fromLongs(Dtype.DTYPE_INT8, out, shape);
  }

  /**
   * Uniform on [lo, hi]; a normal sample shifted past a finite bound where the other is infinite.
   */
  private double uniform(double lo, double hi) {
    boolean finiteLow = !Double.isInfinite(lo);
    boolean finiteHigh = !Double.isInfinite(hi);
    if (finiteLow && finiteHigh) {
      return lo + random.nextDouble() * (hi - lo);
    }
    double spread = Math.abs(random.nextGaussian()) * UNBOUNDED_SPREAD;
    if (finiteLow) {
      return lo + spread;
    }
    if (finiteHigh) {
      return hi - spread;
    }
    return random.nextGaussian() * UNBOUNDED_SPREAD;
  }

  /** A whole number uniform on [lo, hi] (bool boxes are [0, 1]). */
  private double uniformInteger(double lo, double hi) {
    double span = hi - lo + 1;
    return Math.min(hi, lo + Math.floor(random.nextDouble() * span));
  }

  private static boolean isFloat(Dtype dtype) {
    return dtype == Dtype.DTYPE_FLOAT16
        || dtype == Dtype.DTYPE_FLOAT32
        || dtype == Dtype.DTYPE_FLOAT64;
  }
}
