"""Certificates made inside the tests (the `cryptography` package): CAs, servers, clients."""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.UTC)


@dataclass
class Issued:
    """A key and its certificate, and the PEM files they are written to."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, folder: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
        cert, key = folder / f"{name}.crt", folder / f"{name}.key"
        cert.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert, key


def issue(
    name: str, ca: Issued | None = None, *, server: bool = False, by_name_only: bool = False
) -> Issued:
    """A CA (no `ca`), or a certificate signed by `ca` for a server (for localhost and
    127.0.0.1; `by_name_only`: for localhost, not its address) or a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True)
    )
    if server:
        names: list[x509.GeneralName] = [x509.DNSName("localhost")]
        if not by_name_only:
            names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(key, builder.sign(ca.key if ca else key, hashes.SHA256()))
