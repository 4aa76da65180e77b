package dev.openenv.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@link Tensor}s to and from Java arrays.
 *
 * <p>A tensor is raw little-endian bytes in C order plus a dtype and a shape ({@code int[]}). The
 * contract promises no alignment of those bytes inside a message; Java reads them through a
 * little-endian {@link ByteBuffer}, whose typed reads work at any offset, so decoding copies once,
 * into the result array, and never needs an alignment copy first.
 *
 * <p>Encoding: {@code of(...)} takes the Java array type that matches a dtype exactly ({@code
 * boolean[]} bool, {@code byte[]} int8, {@code short[]} int16, {@code int[]} int32, {@code long[]}
 * int64, {@code float[]} float32, {@code double[]} float64); {@link #fromLongs} and {@link
 * #fromDoubles} encode into any dtype, the unsigned ones and float16 included. A shape left out
 * means one dimension of the array's length; a scalar has the shape {@code new int[0]}.
 *
 * <p>Decoding: {@link #toDoubles} and {@link #toFloats} convert every dtype, as Java's casts do
 * (uint64 read as unsigned, float16 exactly, bool as 0 and 1); the integer readers take only the
 * dtypes whose values they hold exactly, and {@link #toLongs} returns a uint64 above {@code
 * Long.MAX_VALUE} as the negative long of the same 64 bits (read it with {@link
 * Long#toUnsignedString(long)}). Java has no unsigned types, so that is the one place the bits and
 * the value part.
 *
 * <p>Every decoder checks that the data holds exactly product(shape) × itemsize bytes and throws
 * {@link IllegalArgumentException} otherwise, as the server answers INVALID_VALUE.
 */
public final class Tensors {
  private Tensors() {}

  /** Bytes per element of {@code dtype}. */
  public static int itemSize(Dtype dtype) {
    switch (dtype) {
      case DTYPE_BOOL:
      case DTYPE_INT8:
      case DTYPE_UINT8:
        return 1;
      case DTYPE_INT16:
      case DTYPE_UINT16:
      case DTYPE_FLOAT16:
        return 2;
      case DTYPE_INT32:
      case DTYPE_UINT32:
      case DTYPE_FLOAT32:
        return 4;
      case DTYPE_INT64:
      case DTYPE_UINT64:
      case DTYPE_FLOAT64:
        return 8;
      default:
        throw new IllegalArgumentException("not a tensor dtype: " + dtype);
    }
  }

  /** The tensor's shape as an array (empty for a scalar). */
  public static int[] shape(Tensor tensor) {
    return tensor.getShapeList().stream().mapToInt(Integer::intValue).toArray();
  }

  /** The number of elements of a tensor of this shape: the product of its dimensions. */
  public static int size(int[] shape) {
    long n = 1;
    for (int dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + describe(shape));
      }
      n *= dim;
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + describe(shape) + " is too large");
      }
    }
    return (int) n;
  }

  /**
   * A read-only little-endian view of the tensor's elements, without a copy, after checking its
   * size. Read it with {@code getFloat(i * 4)}, {@code asFloatBuffer()} and the like.
   */
  public static ByteBuffer buffer(Tensor tensor) {
    int n = size(shape(tensor));
    long expected = (long) n * itemSize(tensor.getDtype());
    if (tensor.getData().size() != expected) {
      throw new IllegalArgumentException(
          String.format(
              "tensor data is %d bytes but %s of shape %s needs %d",
              tensor.getData().size(), tensor.getDtype(), describe(shape(tensor)), expected));
    }
    // slice(): a ByteString cut from a larger message wraps its array from an offset; the view
    // must index from the tensor's first byte. (slice resets the order, so set it after.)
    return tensor.getData().asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A tensor of this dtype and shape holding {@code data} as it is (little-endian, C order). */
  public static Tensor raw(Dtype dtype, int[] shape, ByteString data) {
    Tensor tensor =
        Tensor.newBuilder().setDtype(dtype).addAllShape(boxed(shape)).setData(data).build();
    buffer(tensor); // validates the size
    return tensor;
  }

  // ---- encoding from the matching Java array ------------------------------------------------

  /** A bool tensor of one dimension. */
  public static Tensor of(boolean[] values) {
    return of(values, new int[] {values.length});
  }

  /** A bool tensor of this shape. */
  public static Tensor of(boolean[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_BOOL, shape, values.length);
    for (boolean v : values) {
      out.put((byte) (v ? 1 : 0));
    }
    return build(Dtype.DTYPE_BOOL, shape, out);
  }

  /** An int8 tensor of one dimension. */
  public static Tensor of(byte[] values) {
    return of(values, new int[] {values.length});
  }

  /** An int8 tensor of this shape. */
  public static Tensor of(byte[] values, int[] shape) {
    return build(
        Dtype.DTYPE_INT8, shape, allocate(Dtype.DTYPE_INT8, shape, values.length).put(values));
  }

  /** An int16 tensor of one dimension. */
  public static Tensor of(short[] values) {
    return of(values, new int[] {values.length});
  }

  /** An int16 tensor of this shape. */
  public static Tensor of(short[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_INT16, shape, values.length);
    out.asShortBuffer().put(values);
    return build(Dtype.DTYPE_INT16, shape, out);
  }

  /** An int32 tensor of one dimension. */
  public static Tensor of(int[] values) {
    return of(values, new int[] {values.length});
  }

  /** An int32 tensor of this shape. */
  public static Tensor of(int[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_INT32, shape, values.length);
    out.asIntBuffer().put(values);
    return build(Dtype.DTYPE_INT32, shape, out);
  }

  /** An int64 tensor of one dimension. */
  public static Tensor of(long[] values) {
    return of(values, new int[] {values.length});
  }

  /** An int64 tensor of this shape. */
  public static Tensor of(long[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_INT64, shape, values.length);
    out.asLongBuffer().put(values);
    return build(Dtype.DTYPE_INT64, shape, out);
  }

  /** A float32 tensor of one dimension. */
  public static Tensor of(float[] values) {
    return of(values, new int[] {values.length});
  }

  /** A float32 tensor of this shape. */
  public static Tensor of(float[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_FLOAT32, shape, values.length);
    out.asFloatBuffer().put(values);
    return build(Dtype.DTYPE_FLOAT32, shape, out);
  }

  /** A float64 tensor of one dimension. */
  public static Tensor of(double[] values) {
    return of(values, new int[] {values.length});
  }

  /** A float64 tensor of this shape. */
  public static Tensor of(double[] values, int[] shape) {
    ByteBuffer out = allocate(Dtype.DTYPE_FLOAT64, shape, values.length);
    out.asDoubleBuffer().put(values);
    return build(Dtype.DTYPE_FLOAT64, shape, out);
  }

  // ---- encoding into any dtype --------------------------------------------------------------

  /**
   * A tensor of any integer dtype (or bool) from longs, each checked against the dtype's range. For
   * uint64 every long is taken as its 64 unsigned bits ({@code -1L} is 2^64 − 1); for bool, only 0
   * and 1 are accepted.
   */
  public static Tensor fromLongs(Dtype dtype, long[] values, int[] shape) {
    ByteBuffer out = allocate(dtype, shape, values.length);
    for (long v : values) {
      switch (dtype) {
        case DTYPE_BOOL:
          out.put((byte) checkRange(dtype, v, 0, 1));
          break;
        case DTYPE_INT8:
          out.put((byte) checkRange(dtype, v, Byte.MIN_VALUE, Byte.MAX_VALUE));
          break;
        case DTYPE_UINT8:
          out.put((byte) checkRange(dtype, v, 0, 0xff));
          break;
        case DTYPE_INT16:
          out.putShort((short) checkRange(dtype, v, Short.MIN_VALUE, Short.MAX_VALUE));
          break;
        case DTYPE_UINT16:
          out.putShort((short) checkRange(dtype, v, 0, 0xffff));
          break;
        case DTYPE_INT32:
          out.putInt((int) checkRange(dtype, v, Integer.MIN_VALUE, Integer.MAX_VALUE));
          break;
        case DTYPE_UINT32:
          out.putInt((int) checkRange(dtype, v, 0, 0xffffffffL));
          break;
        case DTYPE_INT64:
        case DTYPE_UINT64:
          out.putLong(v);
          break;
        default:
          throw new IllegalArgumentException(
              "fromLongs needs an integer or bool dtype, not " + dtype);
      }
    }
    return build(dtype, shape, out);
  }

  /**
   * A tensor of any dtype from doubles. Float dtypes round to nearest (float16 through {@link
   * Float16}); integer dtypes and bool take only whole numbers inside their range.
   */
  public static Tensor fromDoubles(Dtype dtype, double[] values, int[] shape) {
    switch (dtype) {
      case DTYPE_FLOAT16:
        {
          ByteBuffer out = allocate(dtype, shape, values.length);
          for (double v : values) {
            out.putShort(Float16.fromDouble(v));
          }
          return build(dtype, shape, out);
        }
      case DTYPE_FLOAT32:
        {
          ByteBuffer out = allocate(dtype, shape, values.length);
          for (double v : values) {
            out.putFloat((float) v);
          }
          return build(dtype, shape, out);
        }
      case DTYPE_FLOAT64:
        return of(values, shape);
      default:
        long[] longs = new long[values.length];
        for (int i = 0; i < values.length; i++) {
          longs[i] = wholeNumber(dtype, values[i]);
        }
        return fromLongs(dtype, longs, shape);
    }
  }

  // ---- decoding -----------------------------------------------------------------------------

  /** The elements of a bool tensor. */
  public static boolean[] toBooleans(Tensor tensor) {
    ByteBuffer in = read(tensor, Dtype.DTYPE_BOOL);
    boolean[] out = new boolean[in.remaining()];
    for (int i = 0; i < out.length; i++) {
      out[i] = in.get(i) != 0;
    }
    return out;
  }

  /** The elements of an int8 or bool tensor. */
  public static byte[] toBytes(Tensor tensor) {
    ByteBuffer in = read(tensor, Dtype.DTYPE_INT8, Dtype.DTYPE_BOOL);
    byte[] out = new byte[in.remaining()];
    in.get(out);
    return out;
  }

  /** The elements of an int8, uint8, int16 or bool tensor. */
  public static short[] toShorts(Tensor tensor) {
    Dtype dtype = tensor.getDtype();
    ByteBuffer in =
        read(tensor, Dtype.DTYPE_INT16, Dtype.DTYPE_INT8, Dtype.DTYPE_UINT8, Dtype.DTYPE_BOOL);
    short[] out = new short[in.remaining() / itemSize(dtype)];
    if (dtype == Dtype.DTYPE_INT16) {
      in.asShortBuffer().get(out);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = (short) integerAt(in, dtype, i);
    }
    return out;
  }

  /** The elements of an int8, uint8, int16, uint16, int32 or bool tensor. */
  public static int[] toInts(Tensor tensor) {
    Dtype dtype = tensor.getDtype();
    ByteBuffer in =
        read(
            tensor,
            Dtype.DTYPE_INT32,
            Dtype.DTYPE_INT8,
            Dtype.DTYPE_UINT8,
            Dtype.DTYPE_INT16,
            Dtype.DTYPE_UINT16,
            Dtype.DTYPE_BOOL);
    int[] out = new int[in.remaining() / itemSize(dtype)];
    if (dtype == Dtype.DTYPE_INT32) {
      in.asIntBuffer().get(out);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) integerAt(in, dtype, i);
    }
    return out;
  }

  /**
   * The elements of any integer or bool tensor; a uint64 above {@code Long.MAX_VALUE} comes back as
   * the negative long of the same bits.
   */
  public static long[] toLongs(Tensor tensor) {
    Dtype dtype = tensor.getDtype();
    if (!isInteger(dtype) && dtype != Dtype.DTYPE_BOOL) {
      throw new IllegalArgumentException("toLongs needs an integer or bool tensor, not " + dtype);
    }
    ByteBuffer in = buffer(tensor);
    long[] out = new long[in.remaining() / itemSize(dtype)];
    if (dtype == Dtype.DTYPE_INT64 || dtype == Dtype.DTYPE_UINT64) {
      in.asLongBuffer().get(out);
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = integerAt(in, dtype, i);
    }
    return out;
  }

  /**
   * The elements of any tensor as floats: float16 and float32 exactly, the rest as (float) casts.
   */
  public static float[] toFloats(Tensor tensor) {
    Dtype dtype = tensor.getDtype();
    ByteBuffer in = buffer(tensor);
    float[] out = new float[in.remaining() / itemSize(dtype)];
    if (dtype == Dtype.DTYPE_FLOAT32) {
      in.asFloatBuffer().get(out);
    } else if (dtype == Dtype.DTYPE_FLOAT16) {
      for (int i = 0; i < out.length; i++) {
        out[i] = Float16.toFloat(in.getShort(2 * i));
      }
    } else {
      double[] wide = toDoubles(tensor);
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) wide[i];
      }
    }
    return out;
  }

  /**
   * The elements of any tensor as doubles: floats exactly, integers up to 2^53 exactly (uint64 as
   * unsigned), bool as 0 and 1.
   */
  public static double[] toDoubles(Tensor tensor) {
    Dtype dtype = tensor.getDtype();
    ByteBuffer in = buffer(tensor);
    double[] out = new double[in.remaining() / itemSize(dtype)];
    switch (dtype) {
      case DTYPE_FLOAT64:
        in.asDoubleBuffer().get(out);
        break;
      case DTYPE_FLOAT32:
        for (int i = 0; i < out.length; i++) {
          out[i] = in.getFloat(4 * i);
        }
        break;
      case DTYPE_FLOAT16:
        for (int i = 0; i < out.length; i++) {
          out[i] = Float16.toFloat(in.getShort(2 * i));
        }
        break;
      case DTYPE_UINT64:
        for (int i = 0; i < out.length; i++) {
          out[i] = unsignedToDouble(in.getLong(8 * i));
        }
        break;
      default:
        for (int i = 0; i < out.length; i++) {
          out[i] = integerAt(in, dtype, i);
        }
    }
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------

  private static boolean isInteger(Dtype dtype) {
    switch (dtype) {
      case DTYPE_INT8:
      case DTYPE_INT16:
      case DTYPE_INT32:
      case DTYPE_INT64:
      case DTYPE_UINT8:
      case DTYPE_UINT16:
      case DTYPE_UINT32:
      case DTYPE_UINT64:
        return true;
      default:
        return false;
    }
  }

  /** Element i of an integer or bool buffer, widened exactly (uint64 as its bits). */
  private static long integerAt(ByteBuffer in, Dtype dtype, int i) {
    switch (dtype) {
      case DTYPE_BOOL:
        return in.get(i) != 0 ? 1 : 0;
      case DTYPE_INT8:
        return in.get(i);
      case DTYPE_UINT8:
        return Byte.toUnsignedLong(in.get(i));
      case DTYPE_INT16:
        return in.getShort(2 * i);
      case DTYPE_UINT16:
        return Short.toUnsignedLong(in.getShort(2 * i));
      case DTYPE_INT32:
        return in.getInt(4 * i);
      case DTYPE_UINT32:
        return Integer.toUnsignedLong(in.getInt(4 * i));
      case DTYPE_INT64:
      case DTYPE_UINT64:
        return in.getLong(8 * i);
      default:
        throw new IllegalArgumentException("not an integer dtype: " + dtype);
    }
  }

  /** A uint64's value, rounded once: halve it keeping the low bit sticky (as Guava does). */
  private static double unsignedToDouble(long bits) {
    return bits >= 0 ? (double) bits : (double) ((bits >>> 1) | (bits & 1)) * 2.0;
  }

  private static ByteBuffer read(Tensor tensor, Dtype... accepted) {
    for (Dtype dtype : accepted) {
      if (tensor.getDtype() == dtype) {
        return buffer(tensor);
      }
    }
    throw new IllegalArgumentException(
        "cannot read a " + tensor.getDtype() + " tensor as " + accepted[0] + " without loss");
  }

  private static ByteBuffer allocate(Dtype dtype, int[] shape, int length) {
    int n = size(shape);
    if (n != length) {
      throw new IllegalArgumentException(
          length + " values do not fill shape " + describe(shape) + " (" + n + " elements)");
    }
    return ByteBuffer.allocate(n * itemSize(dtype)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static Tensor build(Dtype dtype, int[] shape, ByteBuffer out) {
    // The array is ours alone and never written again, so the ByteString may wrap it.
    return Tensor.newBuilder()
        .setDtype(dtype)
        .addAllShape(boxed(shape))
        .setData(UnsafeByteOperations.unsafeWrap(out.array()))
        .build();
  }

  private static long checkRange(Dtype dtype, long v, long min, long max) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(v + " is out of range for " + dtype);
    }
    return v;
  }

  private static long wholeNumber(Dtype dtype, double v) {
    if (v != Math.rint(v) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(v + " is not a whole number, as " + dtype + " needs");
    }
    if (dtype == Dtype.DTYPE_UINT64 && v >= 0x1p63) {
      if (v >= 0x1p64) {
        throw new IllegalArgumentException(v + " is out of range for " + dtype);
      }
      return (long) (v - 0x1p63) ^ Long.MIN_VALUE;
    }
    if (v < -0x1p63 || v >= 0x1p63 || (dtype == Dtype.DTYPE_UINT64 && v < 0)) {
      throw new IllegalArgumentException(v + " is out of range for " + dtype);
    }
    return (long) v;
  }

  private static List<Integer> boxed(int[] shape) {
    return Arrays.stream(shape).boxed().collect(Collectors.toList());
  }

  private static String describe(int[] shape) {
    return Arrays.toString(shape);
  }
}
