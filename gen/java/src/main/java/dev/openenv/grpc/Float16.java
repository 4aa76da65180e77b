package dev.openenv.grpc;

/**
 * IEEE 754 half precision (the contract's {@code DTYPE_FLOAT16}) to and from Java's float types.
 *
 * <p>Java 17 has no half-precision type ({@code Float.float16ToFloat} arrived in Java 20), so a
 * float16 element is decoded to the nearest native type that holds every half exactly: {@code
 * float}. Encoding rounds once, to nearest with ties to even, as numpy's {@code astype(float16)}
 * does: values beyond the largest half (65504) become infinities, values below the smallest
 * subnormal round to zero, NaN stays NaN.
 */
public final class Float16 {
  private static final int SIGN = 0x8000;
  private static final int EXPONENT_MASK = 0x7c00;
  private static final int MANTISSA_MASK = 0x03ff;

  /** Halfway between 65504 (the largest half) and 65536: from here on, rounding gives infinity. */
  private static final double OVERFLOW = 65520.0;

  /** The smallest normal half, 2^-14; below it halves are subnormal, in steps of 2^-24. */
  private static final double MIN_NORMAL = 0x1p-14;

  private Float16() {}

  /** The value of the half whose 16 bits are {@code bits}, exactly. */
  public static float toFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & SIGN) << 16;
    int exponent = (h & EXPONENT_MASK) >>> 10;
    int mantissa = h & MANTISSA_MASK;
    if (exponent == 0x1f) { // infinity or NaN: keep the payload's top bits
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, exact in float
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }

  /** The half nearest to {@code value} (ties to even), as its 16 bits. */
  public static short fromDouble(double value) {
    long doubleBits = Double.doubleToRawLongBits(value);
    int sign = (int) (doubleBits >>> 48) & SIGN;
    if (Double.isNaN(value)) {
      return (short) (sign | EXPONENT_MASK | 0x0200); // a quiet NaN
    }
    double magnitude = Math.abs(value);
    if (magnitude >= OVERFLOW) {
      return (short) (sign | EXPONENT_MASK);
    }
    if (magnitude < MIN_NORMAL) {
      // Subnormal (or zero): count steps of 2^-24. Scaling by a power of two is exact, so
      // rint rounds once; 1024 steps carry into the smallest normal, whose bits follow on.
      return (short) (sign | (int) Math.rint(magnitude * 0x1p24));
    }
    int exponent = Math.getExponent(magnitude); // -14..15
    int mantissa = (int) Math.rint(Math.scalb(magnitude, 10 - exponent)); // 1024..2048
    if (mantissa == 2048) { // rounded up into the next binade
      mantissa = 1024;
      exponent += 1;
    }
    return (short) (sign | ((exponent + 15) << 10) | (mantissa - 1024));
  }
}
