package dev.openenv.grpc.conformance;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.openenv.grpc.EnvClient;
import dev.openenv.grpc.OpenEnvException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Java conformance client (tests/conformance/README.md):
 *
 * <pre>
 * .tools/conformance/java --address 127.0.0.1:PORT --scenario tests/conformance/scenario.json \
 *     --golden tests/conformance/golden
 * </pre>
 *
 * <p>Runs the 13 checks in order, prints {@code PASS name} or {@code FAIL name: why} for each and
 * {@code N passed, M failed} last, and exits 0 only when nothing failed.
 */
public final class Main {
  private Main() {}

  /** One check: throws to fail. */
  interface Check {
    void run() throws Exception;
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> flags =
        new LinkedHashMap<>(Map.of("--address", "", "--scenario", "", "--golden", ""));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!flags.containsKey(args[i])) {
        usage("unknown argument " + args[i]);
      }
      flags.put(args[i], args[i + 1]);
    }
    if (args.length % 2 != 0 || flags.containsValue("")) {
      usage("--address, --scenario and --golden are required");
    }
    JsonObject scenario =
        JsonParser.parseString(
                Files.readString(Path.of(flags.get("--scenario")), StandardCharsets.UTF_8))
            .getAsJsonObject();

    Map<String, Check> checks = new LinkedHashMap<>();
    try (EnvClient client = EnvClient.connect(flags.get("--address"))) {
      LiveChecks live = new LiveChecks(client, scenario);
      checks.put("describe", live::describe);
      checks.put("trace", live::trace);
      checks.put("unary_episode", live::unaryEpisode);
      checks.put("step_after_end", live::stepAfterEnd);
      checks.put("unknown_session", live::unknownSession);
      checks.put("action_out_of_space", live::actionOutOfSpace);
      checks.put("out_of_order", live::outOfOrder);
      checks.put("retried_step", live::retriedStep);
      checks.put("request_id_twice", live::requestIdTwice);
      checks.put("deadline_retry", live::deadlineRetry);
      checks.put("stream_episode", live::streamEpisode);
      checks.put("batched", live::batched);
      checks.put("golden", () -> GoldenCheck.run(Path.of(flags.get("--golden"))));

      int passed = 0;
      int failed = 0;
      for (Map.Entry<String, Check> check : checks.entrySet()) {
        String why = outcome(check.getValue());
        if (why == null) {
          passed++;
          System.out.println("PASS " + check.getKey());
        } else {
          failed++;
          System.out.println("FAIL " + check.getKey() + ": " + why);
        }
        System.out.flush();
      }
      System.out.println(passed + " passed, " + failed + " failed");
      System.out.flush();
      System.exit(failed == 0 ? 0 : 1);
    }
  }

  /** null when the check passed, else why it failed, on one line. */
  private static String outcome(Check check) {
    try {
      check.run();
      return null;
    } catch (Expect.Failure e) {
      return e.getMessage();
    } catch (OpenEnvException e) {
      return "unexpected error " + e.getMessage().replace('\n', ' ');
    } catch (Exception e) {
      return (e.getClass().getSimpleName() + ": " + e.getMessage()).replace('\n', ' ');
    }
  }

  private static void usage(String why) {
    System.err.println("error: " + why);
    System.err.println(
        "usage: conformance --address HOST:PORT --scenario scenario.json --golden DIR");
    System.exit(2);
  }
}
