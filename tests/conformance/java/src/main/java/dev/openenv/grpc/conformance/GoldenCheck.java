package dev.openenv.grpc.conformance;

import static dev.openenv.grpc.conformance.Expect.equal;
import static dev.openenv.grpc.conformance.Expect.that;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Message;
import dev.openenv.grpc.Tensors;
import dev.openenv.grpc.v1.Dtype;
import dev.openenv.grpc.v1.EnvServiceProto;
import dev.openenv.grpc.v1.ErrorsProto;
import dev.openenv.grpc.v1.SpacesProto;
import dev.openenv.grpc.v1.Tensor;
import dev.openenv.grpc.v1.Value;
import dev.openenv.grpc.v1.ValuesProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Check 13: every golden message decodes as its type (the generated class) and re-encodes to the
 * same bytes, and every tensor decodes through {@link Tensors} to the listed values.
 */
final class GoldenCheck {
  private GoldenCheck() {}

  static void run(Path dir) throws Exception {
    JsonArray entries =
        JsonParser.parseString(Files.readString(dir.resolve("golden.json"), StandardCharsets.UTF_8))
            .getAsJsonArray();
    that(entries.size() > 0, "golden.json lists no files");
    Map<String, Message> prototypes = prototypes();
    for (JsonElement element : entries) {
      JsonObject entry = element.getAsJsonObject();
      String file = entry.get("file").getAsString();
      String type = entry.get("type").getAsString();
      Message prototype = prototypes.get(type);
      that(prototype != null, file + ": no generated class for " + type);
      byte[] bytes = Files.readAllBytes(dir.resolve(file));
      Message message = prototype.getParserForType().parseFrom(bytes);
      that(Arrays.equals(bytes, message.toByteArray()), file + ": re-encoded bytes differ");
      if (entry.has("tensor")) {
        Tensor tensor = message instanceof Value ? ((Value) message).getTensor() : (Tensor) message;
        tensor(entry.getAsJsonObject("tensor"), tensor, file);
      }
    }
  }

  /** The default instance of every generated message, by full proto name. */
  private static Map<String, Message> prototypes() throws ReflectiveOperationException {
    Map<String, Message> out = new HashMap<>();
    FileDescriptor[] files = {
      ValuesProto.getDescriptor(),
      SpacesProto.getDescriptor(),
      ErrorsProto.getDescriptor(),
      EnvServiceProto.getDescriptor()
    };
    for (FileDescriptor file : files) {
      for (Descriptor type : file.getMessageTypes()) {
        String javaName = file.getOptions().getJavaPackage() + "." + type.getName();
        Object instance = Class.forName(javaName).getMethod("getDefaultInstance").invoke(null);
        out.put(type.getFullName(), (Message) instance);
      }
    }
    return out;
  }

  private static void tensor(JsonObject want, Tensor got, String file) {
    Dtype dtype = LiveChecks.dtype(want.get("dtype").getAsString());
    equal(dtype, got.getDtype(), file + ": dtype");
    equal(
        want.getAsJsonArray("shape").toString(),
        got.getShapeList().toString().replace(" ", ""),
        file + ": shape");
    JsonArray values = want.getAsJsonArray("values");
    switch (dtype) {
      case DTYPE_BOOL:
        equal(
            Arrays.toString(Expect.booleans(values)),
            Arrays.toString(Tensors.toBooleans(got)),
            file);
        break;
      case DTYPE_FLOAT16:
      case DTYPE_FLOAT32:
      case DTYPE_FLOAT64:
        // "Infinity" and "-Infinity" are strings in JSON; Double.parseDouble reads them.
        double[] wantDoubles =
            values.asList().stream()
                .mapToDouble(v -> Double.parseDouble(v.getAsString()))
                .toArray();
        equal(Arrays.toString(wantDoubles), Arrays.toString(Tensors.toDoubles(got)), file);
        break;
      default:
        // Integers beyond 2^53 are decimal strings; uint64 beyond 2^63 is read as unsigned bits.
        long[] wantLongs =
            values.asList().stream()
                .mapToLong(
                    v ->
                        dtype == Dtype.DTYPE_UINT64
                            ? Long.parseUnsignedLong(v.getAsString())
                            : Long.parseLong(v.getAsString()))
                .toArray();
        equal(Arrays.toString(wantLongs), Arrays.toString(Tensors.toLongs(got)), file);
    }
  }
}
