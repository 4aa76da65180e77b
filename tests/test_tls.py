"""TLS and mutual TLS for real: certificates made in the test, a real server, real clients.

Every certificate comes from the `cryptography` package inside the test: a
CA, the server's certificate for 127.0.0.1 and localhost, a client's, and a
second CA that nobody trusts. Rotation writes new files over the served ones
and checks that the next connection gets them while an open stream goes on.
"""

from __future__ import annotations

import pathlib
import signal

import grpc
import numpy as np
import pytest

from openenv_grpc import errors
from openenv_grpc.client import EnvClient, RemoteEnv, RemoteVectorEnv
from openenv_grpc.envs.conformance import ConformanceEnv
from openenv_grpc.server.tls import TlsFiles

from certs import Issued, issue
from conftest import StartServer
from processes import Served
from testenvs import CounterEnv

CAS: dict[str, Issued] = {}  # each test's trusted CA, by its folder


def issue_ca_of(pki: dict[str, pathlib.Path]) -> Issued:
    return CAS[str(pki["folder"])]


@pytest.fixture
def pki(tmp_path: pathlib.Path) -> dict[str, pathlib.Path]:
    """Files of one trusted CA, its server and client certificates, and an untrusted CA's client."""
    ca, other = issue("openenv test CA"), issue("nobody's CA")
    CAS[str(tmp_path)] = ca
    files: dict[str, pathlib.Path] = {}
    files["ca"], _ = ca.write(tmp_path, "ca")
    files["server_cert"], files["server_key"] = issue("server", ca, server=True).write(
        tmp_path, "server"
    )
    files["client_cert"], files["client_key"] = issue("trainer", ca).write(tmp_path, "client")
    files["stranger_cert"], files["stranger_key"] = issue("stranger", other).write(
        tmp_path, "stranger"
    )
    files["other_ca"], _ = other.write(tmp_path, "other-ca")
    files["folder"] = tmp_path
    return files


def tls(pki: dict[str, pathlib.Path], *, mutual: bool = False) -> TlsFiles:
    return TlsFiles(pki["server_cert"], pki["server_key"], pki["ca"] if mutual else None)


def test_tls_serves_a_client_that_trusts_the_ca_and_refuses_plaintext(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    server = start_server(CounterEnv, tls=tls(pki))
    with EnvClient(server.address, ca_file=str(pki["ca"]), timeout=10) as client:
        session = client.reset().session_id
        assert client.step(session, 1).step_index == 1
    with EnvClient(server.address, timeout=5) as plaintext, pytest.raises(errors.Unavailable):
        plaintext.describe()
    with (
        EnvClient(server.address, ca_file=str(pki["other_ca"]), timeout=5) as wrong,
        pytest.raises(errors.Unavailable),
    ):
        wrong.describe()  # the server's certificate is not signed by the CA it trusts


def test_mutual_tls_needs_a_client_certificate_from_the_ca(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    server = start_server(CounterEnv, tls=tls(pki, mutual=True))
    ca = str(pki["ca"])
    with EnvClient(
        server.address,
        ca_file=ca,
        cert_file=str(pki["client_cert"]),
        key_file=str(pki["client_key"]),
        timeout=10,
    ) as client:
        assert client.describe().env_name == "Counter"
    with (
        EnvClient(server.address, ca_file=ca, timeout=5) as anonymous,
        pytest.raises(errors.Unavailable),
    ):
        anonymous.describe()
    with (
        EnvClient(
            server.address,
            ca_file=ca,
            cert_file=str(pki["stranger_cert"]),
            key_file=str(pki["stranger_key"]),
            timeout=5,
        ) as stranger,
        pytest.raises(errors.Unavailable),
    ):
        stranger.describe()


def test_a_rotated_certificate_is_served_without_a_restart_or_a_dropped_session(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    server = start_server(CounterEnv, tls=tls(pki))
    old_ca = str(pki["ca"])
    with EnvClient(server.address, ca_file=old_ca, timeout=10) as before:
        stream = before.stream()
        stream.reset()
        assert stream.step(1).step_index == 1
        # cert-manager rewrites the mounted files: a new CA, a new server certificate.
        new_ca = issue("rotated CA")
        new_ca_file, _ = new_ca.write(pki["folder"], "new-ca")
        cert, key = issue("server", new_ca, server=True).write(pki["folder"], "rotated")
        pki["server_cert"].write_bytes(cert.read_bytes())
        pki["server_key"].write_bytes(key.read_bytes())
        with EnvClient(server.address, ca_file=str(new_ca_file), timeout=10) as after:
            assert after.describe().env_name == "Counter"  # a new connection: the new one
        with (
            EnvClient(server.address, ca_file=old_ca, timeout=5) as stale,
            pytest.raises(errors.Unavailable),
        ):
            stale.describe()
        assert stream.step(1).step_index == 2  # the open stream went on
        stream.close()


def test_client_certificate_and_key_go_together() -> None:
    with pytest.raises(ValueError, match="go together"):
        EnvClient("127.0.0.1:1", cert_file="client.crt")


def test_credentials_objects_are_used_as_given(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    server = start_server(CounterEnv, tls=tls(pki))
    credentials = grpc.ssl_channel_credentials(pki["ca"].read_bytes())
    with EnvClient(server.address, credentials=credentials, timeout=10) as client:
        assert client.describe().env_name == "Counter"


def test_the_cli_refuses_half_a_tls_setup(tmp_path: pathlib.Path) -> None:
    from openenv_grpc import cli

    cert = str(tmp_path / "server.crt")
    assert cli.main(["serve", "--tls-cert", cert, "--port", "0"]) == 2
    assert cli.main(["serve", "--tls-client-ca", cert, "--port", "0"]) == 2


def test_describe_and_validate_reach_a_server_with_tls_and_tokens(
    start_server: StartServer, pki: dict[str, pathlib.Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from openenv_grpc import cli

    tokens = pki["folder"] / "tokens"
    tokens.write_text("operator op-token-1\n")
    server = start_server(ConformanceEnv, tls=tls(pki), tokens_file=tokens)
    peer = ["--ca-file", str(pki["ca"]), "--token", "op-token-1"]
    assert cli.main(["describe", server.address, *peer]) == 0
    assert '"env_name": "Conformance-v1"' in capsys.readouterr().out
    assert cli.main(["validate", server.address, *peer, "--episodes", "1"]) == 0
    assert cli.main(["describe", server.address, "--ca-file", str(pki["ca"])]) == 1
    assert "UNAUTHENTICATED" in capsys.readouterr().err


def test_sighup_reads_the_certificates_again(pki: dict[str, pathlib.Path]) -> None:
    server = Served(
        "--tls-cert",
        str(pki["server_cert"]),
        "--tls-key",
        str(pki["server_key"]),
        "--drain-seconds",
        "0",
    )
    try:
        with EnvClient(server.address, ca_file=str(pki["ca"]), timeout=10) as client:
            assert client.describe().env_name
        server.send(signal.SIGHUP)  # a reload, not a drain
        with EnvClient(server.address, ca_file=str(pki["ca"]), timeout=10) as client:
            assert client.describe().env_name  # the next connection made the server re-read

        def reloaded() -> bool:
            return "TLS certificates reloaded" in server.log

        for _ in range(200):  # the log line is written before the handshake completes
            if reloaded():
                break
            with EnvClient(server.address, ca_file=str(pki["ca"]), timeout=10) as client:
                client.describe()
        assert reloaded(), server.log
    finally:
        assert server.stop() == 0


def test_under_mutual_tls_the_certificate_names_the_principal(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    server = start_server(CounterEnv, tls=tls(pki, mutual=True))
    other_cert, other_key = issue("second-trainer", issue_ca_of(pki)).write(pki["folder"], "second")
    ca = str(pki["ca"])
    with (
        EnvClient(
            server.address,
            ca_file=ca,
            cert_file=str(pki["client_cert"]),
            key_file=str(pki["client_key"]),
            timeout=10,
        ) as first,
        EnvClient(
            server.address, ca_file=ca, cert_file=str(other_cert), key_file=str(other_key)
        ) as second,
    ):
        session = first.reset().session_id
        with pytest.raises(errors.NotFound):
            second.step(session, 1)  # another certificate, another principal
        assert first.step(session, 1).step_index == 1


def test_the_gymnasium_faces_take_the_same_options(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    tokens = pki["folder"] / "tokens"
    tokens.write_text("trainer gym-token-7\n")
    server = start_server(CounterEnv, tls=tls(pki), tokens_file=tokens)
    options = {"ca_file": str(pki["ca"]), "token": "gym-token-7"}
    env = RemoteEnv(server.address, **options)
    try:
        env.reset(seed=0)
        assert env.step(1)[1] == 1.0
    finally:
        env.close()
    envs = RemoteVectorEnv(server.address, 2, **options)
    try:
        envs.reset(seed=0)
        assert envs.step(np.array([1, 2]))[1].tolist() == [1.0, 2.0]
    finally:
        envs.close()


def test_a_dns_target_checks_each_servers_certificate_against_the_name_it_was_given(
    start_server: StartServer, pki: dict[str, pathlib.Path]
) -> None:
    """The client resolves a dns: target itself and dials the addresses, but a pod's
    certificate names the Service, not the pod's IP: the name given must be checked."""
    cert, key = issue("server", CAS[str(pki["folder"])], server=True, by_name_only=True).write(
        pki["folder"], "named-server"
    )
    server = start_server(CounterEnv, tls=TlsFiles(cert, key, None))
    port = server.address.rpartition(":")[2]
    options = {"ca_file": str(pki["ca"]), "timeout": 10.0}
    with EnvClient(f"127.0.0.1:{port}", **options) as by_address, pytest.raises(errors.Unavailable):
        by_address.describe()  # the certificate does not name 127.0.0.1
    with EnvClient(f"dns:///localhost:{port}", **options) as by_name:
        assert by_name.endpoint_addresses() == [f"127.0.0.1:{port}"]
        session = by_name.reset().session_id
        assert by_name.step(session, 1).step_index == 1
