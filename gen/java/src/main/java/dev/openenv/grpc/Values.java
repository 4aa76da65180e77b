package dev.openenv.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.NullValue;
import dev.openenv.grpc.v1.ListValue;
import dev.openenv.grpc.v1.MapEntry;
import dev.openenv.grpc.v1.MapValue;
import dev.openenv.grpc.v1.Tensor;
import dev.openenv.grpc.v1.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Value}s (actions, observations, info, options, state) to and from plain Java objects.
 *
 * <p>The mapping is the Python server's: {@code long} is {@code int_value}, {@code double} is
 * {@code double_value}, {@code boolean}, {@link String}, {@code byte[]} and {@code null} are their
 * kinds, a {@link List} is a {@code list_value}, a {@link Map} with string keys is a {@code
 * map_value} in the map's iteration order (use a {@link LinkedHashMap} to choose it), and a {@link
 * Tensor} is a tensor.
 */
public final class Values {
  private Values() {}

  /** An integer (a Discrete action, for one). */
  public static Value of(long v) {
    return Value.newBuilder().setIntValue(v).build();
  }

  /** A floating-point number. */
  public static Value of(double v) {
    return Value.newBuilder().setDoubleValue(v).build();
  }

  /** A boolean. */
  public static Value of(boolean v) {
    return Value.newBuilder().setBoolValue(v).build();
  }

  /** Text. */
  public static Value of(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  /** A tensor (a Box action, for one). */
  public static Value of(Tensor v) {
    return Value.newBuilder().setTensor(v).build();
  }

  /** Opaque bytes. */
  public static Value ofBytes(byte[] v) {
    return Value.newBuilder().setBytesValue(ByteString.copyFrom(v)).build();
  }

  /** The explicit null. */
  public static Value ofNull() {
    return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
  }

  /**
   * Any supported Java object: Long, Integer, Short, Byte, Double, Float, Boolean, String, byte[],
   * Tensor, Value, List, Map with String keys, or null.
   */
  public static Value from(Object v) {
    if (v == null) {
      return ofNull();
    } else if (v instanceof Value) {
      return (Value) v;
    } else if (v instanceof Long
        || v instanceof Integer
        || v instanceof Short
        || v instanceof Byte) {
      return of(((Number) v).longValue());
    } else if (v instanceof Double || v instanceof Float) {
      return of(((Number) v).doubleValue());
    } else if (v instanceof Boolean) {
      return of((boolean) (Boolean) v);
    } else if (v instanceof String) {
      return of((String) v);
    } else if (v instanceof byte[]) {
      return ofBytes((byte[]) v);
    } else if (v instanceof Tensor) {
      return of((Tensor) v);
    } else if (v instanceof List) {
      ListValue.Builder list = ListValue.newBuilder();
      for (Object item : (List<?>) v) {
        list.addValues(from(item));
      }
      return Value.newBuilder().setListValue(list).build();
    } else if (v instanceof Map) {
      return Value.newBuilder().setMapValue(mapOf((Map<?, ?>) v)).build();
    }
    throw new IllegalArgumentException("no Value kind for " + v.getClass().getName());
  }

  /**
   * A MapValue of a map with String keys, in the map's iteration order (reset options, for one).
   */
  public static MapValue mapOf(Map<?, ?> map) {
    MapValue.Builder out = MapValue.newBuilder();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (!(entry.getKey() instanceof String)) {
        throw new IllegalArgumentException("map keys must be strings, got " + entry.getKey());
      }
      out.addEntries(
          MapEntry.newBuilder().setKey((String) entry.getKey()).setValue(from(entry.getValue())));
    }
    return out.build();
  }

  /**
   * The plain Java object of a Value: Long, Double, Boolean, String, byte[], Tensor (decode it with
   * {@link Tensors}), List, LinkedHashMap (in the sender's key order), or null.
   */
  public static Object toJava(Value v) {
    switch (v.getKindCase()) {
      case INT_VALUE:
        return v.getIntValue();
      case DOUBLE_VALUE:
        return v.getDoubleValue();
      case BOOL_VALUE:
        return v.getBoolValue();
      case STRING_VALUE:
        return v.getStringValue();
      case BYTES_VALUE:
        return v.getBytesValue().toByteArray();
      case TENSOR:
        return v.getTensor();
      case LIST_VALUE:
        List<Object> list = new ArrayList<>();
        for (Value item : v.getListValue().getValuesList()) {
          list.add(toJava(item));
        }
        return list;
      case MAP_VALUE:
        return toJava(v.getMapValue());
      case NULL_VALUE:
        return null;
      default:
        throw new IllegalArgumentException("a Value with no kind");
    }
  }

  /** The entries of a MapValue (info, metadata) as a LinkedHashMap of plain Java objects. */
  public static Map<String, Object> toJava(MapValue map) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (MapEntry entry : map.getEntriesList()) {
      out.put(entry.getKey(), toJava(entry.getValue()));
    }
    return out;
  }
}
