package dev.openenv.grpc.examples;

import dev.openenv.grpc.EnvClient;
import dev.openenv.grpc.OpenEnvException;
import dev.openenv.grpc.StepSession;
import dev.openenv.grpc.Tls;
import dev.openenv.grpc.v1.DescribeResponse;
import dev.openenv.grpc.v1.StepResponse;
import io.grpc.ChannelCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.UncheckedIOException;
import java.util.Random;

/**
 * A random policy against whatever environment a server serves: Describe, then episodes over one
 * StepStream session, printing each episode's return and length.
 *
 * <pre>
 * .tools/examples/java [--address localhost:50051] [--episodes 3] [--seed S] [--max-steps 10000]
 *     [--ca-file ca.crt [--cert-file client.crt --key-file client.key]] [--token TOKEN]
 * </pre>
 *
 * <p>{@code --ca-file} connects with TLS (plaintext without it), adding {@code --cert-file} and
 * {@code --key-file} for mutual TLS; {@code --token} (default: {@code $OPENENV_GRPC_TOKEN}) is sent
 * as {@code authorization: Bearer TOKEN} on every call.
 */
public final class RandomAgent {
  private RandomAgent() {}

  public static void main(String[] args) {
    String address = "localhost:50051";
    int episodes = 3;
    Long seed = null;
    long maxSteps = 10_000;
    File caFile = null;
    File certFile = null;
    File keyFile = null;
    String token = System.getenv("OPENENV_GRPC_TOKEN");
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
          case "--ca-file":
            caFile = new File(required(args[i], value));
            break;
          case "--cert-file":
            certFile = new File(required(args[i], value));
            break;
          case "--key-file":
            keyFile = new File(required(args[i], value));
            break;
          case "--token":
            token = required(args[i], value);
            break;
          default:
            throw new IllegalArgumentException("unknown argument " + args[i]);
        }
        i++;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: RandomAgent [--address HOST:PORT] [--episodes N] [--seed S] [--max-steps N]\n"
              + "         [--ca-file PATH [--cert-file PATH --key-file PATH]] [--token TOKEN]");
      System.exit(2);
    }
    try {
      ChannelCredentials tls = Tls.credentials(caFile, certFile, keyFile);
      run(address, tls, token, episodes, seed, maxSteps);
    } catch (OpenEnvException e) {
      System.err.println("error: " + explain(e, address, hint(caFile, certFile)));
      System.exit(1);
    } catch (UncheckedIOException | IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * The failure in one line. UNAVAILABLE says little by itself: add what the transport saw (a TLS
   * handshake refused, a connection refused), or when it saw nothing (a plaintext client whose
   * connection a TLS server dropped) the likeliest cause.
   */
  private static String explain(OpenEnvException e, String address, String hint) {
    String first = e.getMessage().lines().findFirst().orElse("");
    if (e.getCode() != Status.Code.UNAVAILABLE) {
      return first;
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (!(root instanceof StatusRuntimeException)) {
      return "cannot reach " + address + ": " + first + " (" + root.getMessage() + ")";
    }
    return "cannot reach " + address + ": " + first + hint;
  }

  /** Why a server may close a connection without a word, given the TLS options. */
  private static String hint(File caFile, File certFile) {
    if (caFile == null) {
      return "; if the server serves TLS (--tls-cert), pass --ca-file with its CA";
    }
    return certFile != null
        ? ""
        : "; if the server wants client certificates (--tls-client-ca), pass --cert-file/--key-file";
  }

  private static void run(
      String address,
      ChannelCredentials tls,
      String token,
      int episodes,
      Long seed,
      long maxSteps) {
    try (EnvClient connection = EnvClient.connect(address, tls)) {
      // An empty OPENENV_GRPC_TOKEN counts as none.
      EnvClient client =
          token == null || token.isEmpty() ? connection : connection.withToken(token);
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
