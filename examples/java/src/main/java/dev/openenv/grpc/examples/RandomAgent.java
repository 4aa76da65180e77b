package dev.openenv.grpc.examples;

import dev.openenv.grpc.EnvClient;
import dev.openenv.grpc.OpenEnvException;
import dev.openenv.grpc.StepSession;
import dev.openenv.grpc.v1.DescribeResponse;
import dev.openenv.grpc.v1.StepResponse;
import java.util.Random;

/**
 * A random policy against whatever environment a server serves: Describe, then episodes over one
 * StepStream session, printing each episode's return and length.
 *
 * <pre>
 * .tools/examples/java [--address localhost:50051] [--episodes 3] [--seed S] [--max-steps 10000]
 * </pre>
 */
public final class RandomAgent {
  private RandomAgent() {}

  public static void main(String[] args) {
    String address = "localhost:50051";
    int episodes = 3;
    Long seed = null;
    long maxSteps = 10_000;
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--address":
            address = required(args[i], value);
            break;
          case "--episodes":
            episodes = Integer.parseInt(required(args[i], value));
            break;
          case "--seed":
            seed = Long.parseLong(required(args[i], value));
            break;
          case "--max-steps":
            maxSteps = Long.parseLong(required(args[i], value));
            break;
          default:
            throw new IllegalArgumentException("unknown argument " + args[i]);
        }
        i++;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: RandomAgent [--address HOST:PORT] [--episodes N] [--seed S] [--max-steps N]");
      System.exit(2);
    }
    try {
      run(address, episodes, seed, maxSteps);
    } catch (OpenEnvException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static void run(String address, int episodes, Long seed, long maxSteps) {
    try (EnvClient client = EnvClient.connect(address)) {
      DescribeResponse spec = client.describe();
      System.out.printf(
          "%s (protocol %s, %s): action space %s%n",
          spec.getEnvName(),
          spec.getProtocolVersion(),
          spec.getServerVersion(),
          spec.getActionSpace().getKindCase());
      RandomActions policy =
          new RandomActions(spec.getActionSpace(), seed == null ? new Random() : new Random(seed));
      // The stream's first reset creates the session; closing the stream closes it.
      try (StepSession session = client.openSession(seed)) {
        for (int episode = 1; episode <= episodes; episode++) {
          if (episode > 1) {
            session.reset();
          }
          double total = 0;
          long length = 0;
          boolean done = false;
          while (!done && length < maxSteps) {
            StepResponse step = session.step(policy.get());
            total += step.getReward();
            length++;
            done = step.getTerminated() || step.getTruncated();
          }
          System.out.printf(
              "episode %d: return %.2f, length %d%s%n",
              episode, total, length, done ? "" : " (cut at --max-steps)");
        }
      }
    }
  }

  private static String required(String flag, String value) {
    if (value == null) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return value;
  }
}
