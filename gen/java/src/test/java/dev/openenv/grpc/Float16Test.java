package dev.openenv.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Float16Test {
  @Test
  void everyHalfSurvivesTheRoundTrip() {
    for (int bits = 0; bits <= 0xffff; bits++) {
      float value = Float16.toFloat((short) bits);
      if (Float.isNaN(value)) {
        assertTrue(Float.isNaN(Float16.toFloat(Float16.fromDouble(value))));
        continue;
      }
      assertEquals(bits, Float16.fromDouble(value) & 0xffff, "half 0x" + Integer.toHexString(bits));
    }
  }

  @Test
  void knownValues() {
    assertEquals(1.0f, Float16.toFloat((short) 0x3c00));
    assertEquals(65504.0f, Float16.toFloat((short) 0x7bff));
    assertEquals(0x1p-24f, Float16.toFloat((short) 0x0001)); // smallest subnormal
    assertEquals(-0.0f, Float16.toFloat((short) 0x8000));
    assertEquals((short) 0x8000, Float16.fromDouble(-0.0));
  }

  @Test
  void roundsToNearestEven() {
    // Between 1 and the next half (1 + 2^-10): the midpoint goes to the even one, 1.
    assertEquals((short) 0x3c00, Float16.fromDouble(1 + 0x1p-11));
    assertEquals((short) 0x3c01, Float16.fromDouble(1 + 0x1p-11 + 0x1p-30));
    // From 1 + 2^-10 (odd) the midpoint goes up to 1 + 2^-9.
    assertEquals((short) 0x3c02, Float16.fromDouble(1 + 0x1p-10 + 0x1p-11));
    // 65520 is halfway between 65504 and 65536 (infinity): even wins, so infinity.
    assertEquals((short) 0x7c00, Float16.fromDouble(65520));
    assertEquals((short) 0x7bff, Float16.fromDouble(65519.99));
    // Half of the smallest subnormal rounds to zero; a little more rounds up to it.
    assertEquals((short) 0x0000, Float16.fromDouble(0x1p-25));
    assertEquals((short) 0x0001, Float16.fromDouble(0x1p-25 + 0x1p-40));
    // The largest subnormal rounds up into the smallest normal.
    assertEquals((short) 0x0400, Float16.fromDouble(0x1p-14 - 0x1p-26));
  }
}
