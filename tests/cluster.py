"""A Kubernetes control plane on loopback for tests/k8s: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, and kwok's fake nodes.

`make tools-k8s` builds the binaries (mk/k8s.mk); `make test-k8s` names their
folder in OPENENV_GRPC_K8S_TOOLS. Certificates and keys are made here. Every
process binds 127.0.0.1 and dies with the test process (PR_SET_PDEATHSIG),
so a failing or killed test leaves nothing running; `ControlPlane.stop` ends
them in order otherwise. kwok marks pods Running and Ready on its fake nodes
(and gives them made-up IPs nothing is ever sent to); no container runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certs import NOW, Issued, issue

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VARIABLE = "OPENENV_GRPC_K8S_TOOLS"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
PR_SET_PDEATHSIG = 1
SERVICE_CIDR = "10.96.0.0/24"  # virtual addresses the API server hands out; nothing routes them
START_SECONDS = 180.0
ETCD_READY = re.compile(r"ready to serve client requests")


def tools_folder() -> Path:
    """The folder `make tools-k8s` built; a missing one fails the test (never skips)."""
    named = os.environ.get(TOOLS_VARIABLE)
    if named:
        folder = Path(named)
    else:
        built = sorted((ROOT / ".tools" / "k8s").glob("*/.done"))
        folder = built[-1].parent if built else ROOT / ".tools" / "k8s" / "missing"
    missing = [name for name in BINARIES if not (folder / name).exists()]
    if missing or shutil.which("etcd") is None or shutil.which("kubectl") is None:
        pytest.fail(
            f"the control plane is not built ({missing or 'etcd or kubectl'} missing in "
            f"{folder}): run `make test-k8s` (it builds them with `make tools-k8s` first)"
        )
    return folder


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process goes, whatever ends it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> None:
    """Until `condition()` holds: a bounded poll of a state no event announces."""
    pause = threading.Event()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        pause.wait(0.25)
    raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[str]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class ControlPlane:
    """Start with `start()`; `kubectl(...)` talks to it as cluster admin; `stop()` ends it."""

    def __init__(self, folder: Path, tools: Path) -> None:
        self.folder = folder
        self.tools = tools
        self.processes: list[Process] = []
        self.api_port = free_port()
        self.kubeconfig = folder / "admin.kubeconfig"

    # --- certificates ------------------------------------------------------------

    def _credentials(self) -> None:
        pki = self.folder / "pki"
        pki.mkdir()
        ca = issue("openenv-grpc-test-ca")
        ca.write(pki, "ca")
        self.ca = ca
        issue("127.0.0.1", ca, server=True).write(pki, "apiserver")
        _client(ca, "admin", "system:masters").write(pki, "admin")
        account_key = ec.generate_private_key(ec.SECP256R1())
        (pki / "sa.key").write_bytes(
            account_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (pki / "sa.pub").write_bytes(
            account_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.pki = pki
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "test",
                            "cluster": {
                                "server": f"https://127.0.0.1:{self.api_port}",
                                "certificate-authority": str(pki / "ca.crt"),
                            },
                        }
                    ],
                    "users": [
                        {
                            "name": "admin",
                            "user": {
                                "client-certificate": str(pki / "admin.crt"),
                                "client-key": str(pki / "admin.key"),
                            },
                        }
                    ],
                    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
                    "current-context": "test",
                }
            )
        )

    # --- processes ---------------------------------------------------------------

    def _spawn(self, name: str, command: list[str]) -> Process:
        log = self.folder / f"{name}.log"
        handle: IO[str] = log.open("w")
        proc = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=self.folder,
            preexec_fn=_die_with_parent,
        )
        handle.close()
        process = Process(name, proc, log)
        self.processes.append(process)
        return process

    def _check_alive(self) -> None:
        for process in self.processes:
            if not process.alive():
                raise AssertionError(f"{process.name} exited:\n{process.tail()}")

    def start(self) -> None:
        self._credentials()
        etcd_port, peer_port = free_port(), free_port()
        etcd = self._spawn(
            "etcd",
            [
                "etcd",
                "--name=test",
                f"--data-dir={self.folder / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=test=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
            ],
        )
        wait_until(
            lambda: bool(ETCD_READY.search(etcd.log.read_text())) or not etcd.alive(),
            "etcd to serve",
        )
        self._check_alive()
        pki, tools = self.pki, self.tools
        self._spawn(
            "kube-apiserver",
            [
                str(tools / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # One API server on loopback: no endpoints of its own to publish.
                "--endpoint-reconciler-type=none",
                "--authorization-mode=RBAC",
                "--allow-privileged=false",
                # Debian's etcd 3.4 cannot report watch progress, which the watch cache
                # needs to serve consistent reads; without the cache every read and
                # watch goes to etcd, and controllers never see stale objects.
                "--watch-cache=false",
            ],
        )
        wait_until(self._api_ready, "kube-apiserver /readyz")
        common = [f"--kubeconfig={self.kubeconfig}", "--bind-address=127.0.0.1"]
        self._spawn(
            "kube-controller-manager",
            [
                str(tools / "kube-controller-manager"),
                *common,
                "--secure-port=0",  # nothing to serve: no scraping here
                "--leader-elect=false",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--use-service-account-credentials=false",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(tools / "kube-scheduler"),
                *common,
                "--secure-port=0",  # nothing to serve: no scraping here
                "--leader-elect=false",
            ],
        )
        self._spawn(
            "kwok",
            [
                str(tools / "kwok"),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={tools / 'kwok-stages.yaml'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                # Renew each node's Lease: the node lifecycle controller sees it alive,
                # lifts the not-ready taint new nodes get, and never evicts its pods.
                "--node-lease-duration-seconds=40",
                "--node-ip=127.0.0.1",
                "--cidr=10.244.0.0/16",
                f"--server-address=127.0.0.1:{free_port()}",
            ],
        )
        self._check_alive()
        # The default ServiceAccount of every namespace comes from the controller manager.
        wait_until(
            lambda: self._ok("get", "serviceaccount", "default", "-n", "default"),
            "kube-controller-manager to make the default ServiceAccount",
        )

    def _api_ready(self) -> bool:
        self._check_alive()
        return self._ok("get", "--raw=/readyz")

    def _ok(self, *args: str) -> bool:
        return self.kubectl(*args, check=False).returncode == 0

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}\n"
                + self.logs()
            )
        return done

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}:\n{p.tail(15)}" for p in self.processes)

    def fake_nodes(self, count: int, zones: int) -> list[str]:
        """Nodes kwok manages: Ready, with room for the pods, spread over `zones` zones."""
        names = []
        for index in range(count):
            name = f"kwok-node-{index}"
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {"kwok.x-k8s.io/node": "fake"},
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "topology.kubernetes.io/zone": f"zone-{index % zones}",
                        "type": "kwok",
                    },
                },
                "status": {
                    "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                    "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                },
            }
            self.kubectl("create", "-f", "-", stdin=json.dumps(node))
            names.append(name)
        for name in names:
            self.kubectl("wait", "--for=condition=Ready", f"node/{name}", "--timeout=120s")
        return names

    def stop(self) -> None:
        """SIGTERM in the reverse order of starting, then SIGKILL what is left."""
        for process in reversed(self.processes):
            if process.alive():
                process.proc.send_signal(signal.SIGTERM)
                try:
                    process.proc.wait(20)
                except subprocess.TimeoutExpired:
                    process.proc.kill()
                    process.proc.wait(20)


def _client(ca: Issued, name: str, group: str) -> Issued:
    """A client certificate with a group (O=), as the API server reads users and groups."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, group),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key, cert)


@contextlib.contextmanager
def control_plane(folder: Path) -> Iterator[ControlPlane]:
    plane = ControlPlane(folder, tools_folder())
    try:
        plane.start()
        yield plane
    finally:
        plane.stop()
