package dev.openenv.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorsTest {
  private static final int[] SHAPE = {2, 3};

  @Test
  void boolRoundTrip() {
    boolean[] values = {true, false, false, true, true, false};
    Tensor t = Tensors.of(values, SHAPE);
    assertEquals(Dtype.DTYPE_BOOL, t.getDtype());
    assertArrayEquals(new byte[] {1, 0, 0, 1, 1, 0}, t.getData().toByteArray());
    assertArrayEquals(values, Tensors.toBooleans(t));
    assertArrayEquals(new long[] {1, 0, 0, 1, 1, 0}, Tensors.toLongs(t));
  }

  @Test
  void int8RoundTrip() {
    byte[] values = {-128, -1, 0, 1, 127, 5};
    Tensor t = Tensors.of(values, SHAPE);
    assertArrayEquals(values, Tensors.toBytes(t));
    assertArrayEquals(new int[] {-128, -1, 0, 1, 127, 5}, Tensors.toInts(t));
  }

  @Test
  void int16RoundTrip() {
    short[] values = {-32768, -2, 0, 300, 32767, 1};
    Tensor t = Tensors.of(values, SHAPE);
    assertArrayEquals(new byte[] {0, (byte) 0x80}, t.getData().substring(0, 2).toByteArray());
    assertArrayEquals(values, Tensors.toShorts(t));
  }

  @Test
  void int32RoundTrip() {
    int[] values = {Integer.MIN_VALUE, -3, 0, 70000, Integer.MAX_VALUE, 9};
    Tensor t = Tensors.of(values, SHAPE);
    assertArrayEquals(values, Tensors.toInts(t));
    assertArrayEquals(
        new double[] {Integer.MIN_VALUE, -3, 0, 70000, Integer.MAX_VALUE, 9}, Tensors.toDoubles(t));
  }

  @Test
  void int64RoundTrip() {
    long[] values = {Long.MIN_VALUE, -1L << 40, -1, 0, 1L << 40, Long.MAX_VALUE};
    Tensor t = Tensors.of(values, SHAPE);
    assertEquals(Dtype.DTYPE_INT64, t.getDtype());
    assertArrayEquals(values, Tensors.toLongs(t));
    assertThrows(IllegalArgumentException.class, () -> Tensors.toInts(t));
  }

  @Test
  void unsignedRoundTrip() {
    long[] u8 = {0, 1, 255};
    assertArrayEquals(u8, Tensors.toLongs(Tensors.fromLongs(Dtype.DTYPE_UINT8, u8, new int[] {3})));
    assertArrayEquals(
        new int[] {0, 1, 255},
        Tensors.toInts(Tensors.fromLongs(Dtype.DTYPE_UINT8, u8, new int[] {3})));
    long[] u16 = {0, 1, 65535};
    assertArrayEquals(
        new int[] {0, 1, 65535},
        Tensors.toInts(Tensors.fromLongs(Dtype.DTYPE_UINT16, u16, new int[] {3})));
    long[] u32 = {0, 1, 4294967295L};
    assertArrayEquals(
        u32, Tensors.toLongs(Tensors.fromLongs(Dtype.DTYPE_UINT32, u32, new int[] {3})));
    long[] u64 = {0, 1, 1L << 53, -1L}; // -1L is 2^64 - 1
    Tensor t = Tensors.fromLongs(Dtype.DTYPE_UINT64, u64, new int[] {4});
    assertArrayEquals(u64, Tensors.toLongs(t));
    assertEquals("18446744073709551615", Long.toUnsignedString(Tensors.toLongs(t)[3]));
    assertArrayEquals(new double[] {0, 1, 0x1p53, 0x1p64}, Tensors.toDoubles(t));
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.fromLongs(Dtype.DTYPE_UINT8, new long[] {256}, new int[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.fromLongs(Dtype.DTYPE_UINT32, new long[] {-1}, new int[] {1}));
  }

  @Test
  void float16RoundTrip() {
    double[] values = {-2.5, 0.0, 0.5, 65504.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    Tensor t = Tensors.fromDoubles(Dtype.DTYPE_FLOAT16, values, SHAPE);
    assertEquals(12, t.getData().size());
    // -2.5 is 0xC100, little-endian.
    assertArrayEquals(new byte[] {0x00, (byte) 0xc1}, t.getData().substring(0, 2).toByteArray());
    assertArrayEquals(values, Tensors.toDoubles(t));
    assertArrayEquals(
        new float[] {-2.5f, 0f, 0.5f, 65504f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY},
        Tensors.toFloats(t));
  }

  @Test
  void float32RoundTrip() {
    float[] values = {-1.5f, 0f, 3.25f, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NaN};
    Tensor t = Tensors.of(values, SHAPE);
    assertArrayEquals(values, Tensors.toFloats(t));
    assertEquals(3.25, Tensors.toDoubles(t)[2]);
  }

  @Test
  void float64RoundTrip() {
    double[] values = {-1.5, 0.1, 1e-300, Double.MAX_VALUE, Double.NEGATIVE_INFINITY, Double.NaN};
    Tensor t = Tensors.of(values, SHAPE);
    assertArrayEquals(values, Tensors.toDoubles(t));
    assertArrayEquals(
        values, Tensors.toDoubles(Tensors.fromDoubles(Dtype.DTYPE_FLOAT64, values, SHAPE)));
  }

  @ParameterizedTest
  @EnumSource(
      value = Dtype.class,
      names = {"DTYPE_UNSPECIFIED", "UNRECOGNIZED"},
      mode = EnumSource.Mode.EXCLUDE)
  void everyDtypeRoundTripsThroughDoubles(Dtype dtype) {
    double[] values = dtype == Dtype.DTYPE_BOOL ? new double[] {1, 0, 1} : new double[] {0, 1, 100};
    Tensor t = Tensors.fromDoubles(dtype, values, new int[] {3});
    assertEquals(3 * Tensors.itemSize(dtype), t.getData().size());
    assertArrayEquals(values, Tensors.toDoubles(t));
    assertArrayEquals(
        new float[] {(float) values[0], (float) values[1], (float) values[2]}, Tensors.toFloats(t));
  }

  @Test
  void scalarHasAnEmptyShape() {
    Tensor t = Tensors.of(new int[] {-7}, new int[0]);
    assertEquals(0, t.getShapeCount());
    assertArrayEquals(new int[] {-7}, Tensors.toInts(t));
  }

  @Test
  void readsDataAtAnOddOffset() throws Exception {
    // Tensor bytes inside a received message may start anywhere. Here the doubles start one
    // byte into their backing array, so no element is 8-byte aligned.
    Tensor sent = Tensors.of(new double[] {1.25, -2.5, 1e300}, new int[] {3});
    byte[] shifted = new byte[1 + sent.getData().size()];
    sent.getData().copyTo(shifted, 1);
    Tensor received = sent.toBuilder().setData(ByteString.copyFrom(shifted).substring(1)).build();
    assertArrayEquals(new double[] {1.25, -2.5, 1e300}, Tensors.toDoubles(received));
    ByteBuffer view = Tensors.buffer(received);
    assertEquals(ByteOrder.LITTLE_ENDIAN, view.order());
    assertEquals(-2.5, view.getDouble(8));
    // Parsed with aliasing, data is a slice of the message itself, at offset 7 here.
    CodedInputStream in = CodedInputStream.newInstance(sent.toByteArray());
    in.enableAliasing(true);
    assertArrayEquals(new double[] {1.25, -2.5, 1e300}, Tensors.toDoubles(Tensor.parseFrom(in)));
  }

  @Test
  void rejectsDataThatDoesNotFitTheShape() {
    Tensor bad =
        Tensor.newBuilder()
            .setDtype(Dtype.DTYPE_FLOAT32)
            .addShape(2)
            .setData(ByteString.copyFrom(new byte[7]))
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensors.toFloats(bad));
    assertEquals("tensor data is 7 bytes but DTYPE_FLOAT32 of shape [2] needs 8", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Tensors.of(new float[3], new int[] {2, 2}));
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.toDoubles(Tensor.newBuilder().setData(ByteString.EMPTY).build()));
  }

  @Test
  void integerDtypesTakeOnlyWholeNumbersInRange() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.fromDoubles(Dtype.DTYPE_INT32, new double[] {0.5}, new int[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> Tensors.fromDoubles(Dtype.DTYPE_INT8, new double[] {128}, new int[] {1}));
    // 2^64 - 2048, the largest double below 2^64, is the uint64 whose bits are -2048L.
    assertArrayEquals(
        new long[] {-2048L},
        Tensors.toLongs(
            Tensors.fromDoubles(Dtype.DTYPE_UINT64, new double[] {0x1p64 - 2048}, new int[] {1})));
  }
}
