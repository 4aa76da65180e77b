package dev.openenv.grpc;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which credentials the PEM file options give. A TLS handshake needs certificates this build does
 * not make (the JDK has no certificate builder): the example trainer's run against {@code
 * openenv-grpc serve --tls-cert} covers that.
 */
class TlsTest {
  @Test
  void noFilesMeansPlaintext() {
    assertInstanceOf(InsecureChannelCredentials.class, Tls.credentials(null, null, null));
  }

  @Test
  void aCaFileMeansTls(@TempDir Path dir) throws Exception {
    File ca = Files.writeString(dir.resolve("ca.crt"), "").toFile();
    assertInstanceOf(TlsChannelCredentials.class, Tls.credentials(ca, null, null));
  }

  @Test
  void aClientCertificateNeedsItsKey(@TempDir Path dir) {
    File cert = dir.resolve("client.crt").toFile();
    assertThrows(IllegalArgumentException.class, () -> Tls.credentials(null, cert, null));
    assertThrows(IllegalArgumentException.class, () -> Tls.credentials(null, null, cert));
  }

  @Test
  void aMissingFileIsNamed(@TempDir Path dir) {
    File ca = dir.resolve("nowhere.crt").toFile();
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> Tls.credentials(ca, null, null));
    assertTrue(e.getMessage().contains("nowhere.crt"), e.getMessage());
  }
}
