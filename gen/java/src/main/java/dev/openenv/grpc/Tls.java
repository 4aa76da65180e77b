package dev.openenv.grpc;

import static java.util.stream.Collectors.joining;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Channel credentials from PEM files, for {@link EnvClient#connect(String, ChannelCredentials)}:
 * the counterpart of {@code openenv-grpc serve --tls-cert/--tls-key [--tls-client-ca]}.
 */
public final class Tls {
  private Tls() {}

  /**
   * TLS trusting {@code caFile} (the CA that signed the server's certificate; null: the JVM's
   * default trust store), with {@code certFile}/{@code keyFile} as this client's certificate for
   * mutual TLS when not null (the key in PKCS#8 PEM, "BEGIN PRIVATE KEY", as {@code openssl}
   * 3 writes it; convert an older key with {@code openssl pkcs8 -topk8 -nocrypt}). All three null:
   * plaintext. The server's certificate must name the host of the target (a SAN), as with any TLS
   * client.
   *
   * @throws IllegalArgumentException a client certificate without its key, or the reverse
   * @throws UncheckedIOException a file that cannot be read or parsed
   */
  public static ChannelCredentials credentials(File caFile, File certFile, File keyFile) {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("a client certificate and its key go together");
    }
    if (caFile == null && certFile == null) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
    try {
      if (caFile != null) {
        tls.trustManager(caFile);
      }
      if (certFile != null) {
        tls.keyManager(certFile, keyFile);
      }
    } catch (IOException | RuntimeException e) {
      // grpc reports a bad PEM as an IllegalArgumentException or IOException without the file.
      throw new UncheckedIOException(
          new IOException("cannot load TLS files " + describe(caFile, certFile, keyFile), e));
    }
    return tls.build();
  }

  private static String describe(File... files) {
    return Stream.of(files).filter(Objects::nonNull).map(File::toString).collect(joining(", "));
  }
}
