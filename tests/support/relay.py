"""The real moq-relay (crates.io, built by ``make deps``) running what a plan deploys, on loopback.

- :func:`materialize` lays out the relay pod of a plan under a directory: every volume the way the
  kubelet writes it (``..data`` symlink swaps), a certificate from a :class:`~tests.support.pki.LocalCA`
  where cert-manager's Secret is mounted, the planned TOML with only file paths and listen addresses
  rewritten (to the local files and free loopback ports), and the container's environment.
- :func:`running` starts the pod's auth server (``moq auth serve``, the native sidecar, with its planned
  arguments; moq-cli from crates.io) on a unix socket, then ``moq-relay <toml>``, waits (bounded) until the
  internal listener answers ``/health`` and always stops both processes again, by PID.
- :meth:`LocalRelay.renew_certificate` swaps the mounted certificate the way the kubelet updates a
  Secret volume; the relay watches the files.

Clients connect to :attr:`LocalRelay.url` (QUIC/WebTransport) or :attr:`LocalRelay.websocket_url`
(the WebSocket fallback on the web listener), trusting :attr:`LocalRelay.ca_file`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional


import tomli_w

from components.workloads.relay.auth import CONTAINER as AUTH_CONTAINER
from components.workloads.relay.cluster import RELAY_BINARY
from components.workloads.relay.toml import AUTH_SOCKET
from components.workloads.relay.versions import CLI_VERSION, RELAY_VERSION
from tests.support.envoy import _object, _rewrite, _secret_files, free_port, write_volume
from tests.support.pki import LocalCA
from tests.support.plan import TOOLS, Plan
from tests.support.processes import stop, wait_until

VERSION = RELAY_VERSION
"""The crate version: the same as the pinned image's (``versions.toml``)."""
BINARY = Path(os.environ.get("QUICSTACK_MOQ_RELAY") or TOOLS / f"moq-relay-{VERSION}" / "bin" / "moq-relay")
"""Where ``make deps`` installs the relay (``cargo install --root``); the variable overrides it."""
AUTH_BINARY = Path(os.environ.get("QUICSTACK_MOQ_CLI") or TOOLS / f"moq-cli-{CLI_VERSION}" / "bin" / "moq")
"""moq-cli of the auth server's image, where ``make deps`` installs it."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
"""Kubernetes' ``$(VAR)`` reference in an env value."""


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of ``$(VAR)`` references to variables defined earlier."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), value)
CONFIG_MAP = "relay-config"
DEPLOYMENT = "relay"
CONTAINER = "relay"
# Where the TOML names a listen address: (table path, key). The relay reads no other addresses.
LISTENERS = {
    "quic": (("listen",), "bind"),
    "web": (("web", "http"), "listen"),
    "web_tls": (("web", "https"), "listen"),
    "internal": (("internal",), "listen"),
}


def planned_toml(plan: Plan) -> str:
    """The relay's TOML exactly as the plan's ConfigMap holds it."""
    (config_map,) = [m for m in plan.objects("ConfigMap") if m["metadata"]["name"] == CONFIG_MAP]
    return config_map["data"]["relay.toml"]


def workload(plan: Plan) -> dict:
    """The relay's Deployment (one relay) or StatefulSet (a tier, ``relay.replicas`` > 1)."""
    (found,) = [o for kind in ("Deployment", "StatefulSet") for o in plan.objects(kind)
                if o["metadata"]["name"] == DEPLOYMENT]
    return found


def relay_host(plan: Plan) -> str:
    """The host of the relay's Certificate (what cert-manager would sign)."""
    pod = workload(plan)["spec"]["template"]["spec"]
    secret = next(v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v and v["name"] == "tls")
    (cert,) = [c for c in plan.objects("Certificate") if c["spec"]["secretName"] == secret]
    return cert["spec"]["dnsNames"][0]


@dataclass
class LocalRelay:
    """One relay pod of a plan, laid out under ``root``; :func:`running` starts it."""

    root: Path
    command: list[str]
    """``moq-relay <local toml>``."""
    env: dict[str, str]
    """The container's environment (its ``env`` values) plus PATH; nothing else is inherited."""
    config: dict
    """The TOML as rewritten for loopback (what the local relay reads)."""
    ports: dict[int, int]
    """Port in the pod -> port on the loopback address."""
    address: Optional[str]
    """The loopback address every listener binds (127.0.0.1 or ::1); None: the planned wildcard."""
    host: str
    """The relay's public host (the certificate's first name)."""
    ca: LocalCA
    tls_volume: Path
    """Where the certificate Secret is mounted (``tls.crt``, ``tls.key``, ``ca.crt``)."""
    mounts: dict[str, Path] = field(default_factory=dict)
    """Container mount path -> local directory."""
    auth_command: list[str] = field(default_factory=list)
    """The auth server's command (the sidecar's arguments on local paths)."""
    auth_socket: Optional[Path] = None

    def _port(self, listener: str) -> Optional[int]:
        tables, key = LISTENERS[listener]
        table = self.config
        for name in tables:
            table = table.get(name, {})
        return int(table[key].rsplit(":", 1)[1]) if key in table else None

    @property
    def quic_port(self) -> int:
        return self._port("quic")

    @property
    def web_port(self) -> int:
        port = self._port("web") or self._port("web_tls")
        assert port, "the relay has no web listener"
        return port

    @property
    def web_tls(self) -> bool:
        """The web listener terminates TLS itself (``[web.https]``), as where its own load balancer carries TCP 443."""
        return self._port("web_tls") is not None

    @property
    def internal_port(self) -> int:
        return self._port("internal")

    @property
    def _authority(self) -> str:
        address = self.address or "127.0.0.1"  # a wildcard relay answers on loopback too
        return f"[{address}]" if ":" in address else address

    @property
    def url(self) -> str:
        """The QUIC (WebTransport) URL of the relay's root; append ``/<path>`` for a session root."""
        return f"https://{self._authority}:{self.quic_port}"

    @property
    def websocket_url(self) -> str:
        """The WebSocket fallback on the web listener (``ws://``, or ``wss://`` when it terminates TLS)."""
        return f"{'wss' if self.web_tls else 'ws'}://{self._authority}:{self.web_port}"

    @property
    def health_url(self) -> str:
        return f"http://{self._authority}:{self.internal_port}/health"

    @property
    def ca_file(self) -> Path:
        """PEM of the CA that signed the served certificate (after :meth:`renew_certificate`: the new one)."""
        return self.tls_volume / "ca.crt"

    def renew_certificate(self, ca: Optional[LocalCA] = None) -> dict[str, bytes]:
        """A new leaf (from ``ca``, default the same CA) swapped in the way the kubelet updates the Secret volume."""
        if ca is not None:
            self.ca = ca
        files = self.ca.issue([self.host])
        write_volume(self.tls_volume, files)
        return files


def _loopback_listeners(config: dict, address: Optional[str], ports: dict[int, int]) -> dict:
    """Every listen address in the TOML on ``address`` (None: the planned host), each pod port on a free port."""
    for tables, key in LISTENERS.values():
        table = config
        for name in tables:
            table = table.get(name, {})
        if key in table:
            planned_host, pod_port = table[key].rsplit(":", 1)
            host = planned_host if address is None else f"[{address}]" if ":" in address else address
            ports.setdefault(
                int(pod_port), free_port()
            )  # TCP and UDP both free: EKS shares one port for QUIC and HTTPS
            table[key] = f"{host}:{ports[int(pod_port)]}"
    return config


def _write_volumes(plan: Plan, pod: dict, namespace: str, root: Path, ca: LocalCA, host: str) -> Optional[Path]:
    """Each volume of the pod under ``root``; returns the one that got cert-manager's certificate."""
    certificate = None
    for vol in pod.get("volumes", []):
        directory = root / vol["name"]
        if "configMap" in vol:
            config_map = _object(plan.manifests, "ConfigMap", vol["configMap"]["name"], namespace)
            assert config_map, f"ConfigMap {vol['configMap']['name']} is not in the plan"
            files = {k: v.encode() for k, v in (config_map.get("data") or {}).items()}
        elif "secret" in vol:
            secret = _object(plan.manifests, "Secret", vol["secret"]["secretName"], namespace)
            if secret:
                files = _secret_files(secret)
                assert b"[secret]" not in b"".join(files.values()), "plan with --show-secrets to run the relay"
            elif vol["name"] == "tls":  # not planned: the Secret cert-manager writes for the relay host's Certificate
                files = ca.issue([host])
                certificate = directory
            else:  # a tier's peer certificate (server and client auth), from its own CA
                (cert,) = [c for c in plan.objects("Certificate")
                           if c["spec"]["secretName"] == vol["secret"]["secretName"]]
                files = LocalCA("relay peers").issue(cert["spec"]["dnsNames"], client_auth=True)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            continue
        write_volume(directory, files)
    return certificate


def materialize(
    plan: Plan, root: Path, *, address: Optional[str] = "127.0.0.1", ca: Optional[LocalCA] = None
) -> LocalRelay:
    """Lay out the plan's relay pod under ``root`` and return how to run it locally.

    ``address`` is the loopback address every listener binds (``::1`` for IPv6); None keeps the
    planned wildcard, only for a relay run in a private network namespace (:mod:`tests.support.netns`).
    ``ca`` signs the relay's certificate (a new :class:`LocalCA` by default).
    """
    deployment = workload(plan)
    namespace = deployment["metadata"]["namespace"]
    pod = deployment["spec"]["template"]["spec"]
    (main,) = [c for c in pod["containers"] if c["name"] == CONTAINER]
    mounts = {m["mountPath"]: root / m["name"] for m in main.get("volumeMounts", [])}
    ca = ca or LocalCA()
    host = relay_host(plan)
    tls_volume = _write_volumes(plan, pod, namespace, root, ca, host)
    assert tls_volume, "the relay mounts no certificate Secret"

    # The image's entrypoint is `moq-relay "$@"`: the container's args are the relay's arguments. Where the
    # container has a command (EKS: a shell line that converts the injected QUIC-LB ID), it execs /bin/moq-relay.
    args = _rewrite(list(main.get("command", [])) + list(main.get("args", [])), mounts)
    (toml_path,) = [a for a in args if a.endswith(".toml")]
    ports: dict[int, int] = {}
    config = _loopback_listeners(_rewrite(tomllib.loads(Path(toml_path).read_text()), mounts), address, ports)
    if "connect_api" in config.get("cluster", {}):  # one pod of a tier, alone: no peers to dial
        peers = Path(config["cluster"]["connect_api"])
        write_volume(peers.parent, {peers.name: b"[]"})
    auth_command, socket = _auth_server(pod, root)
    if socket:
        config["auth"]["url"] = f"unix://{socket}"
    local_toml = root / "relay.toml"
    local_toml.write_text(tomli_w.dumps(config))
    launch = [a.replace(f"exec {RELAY_BINARY} ", f"exec {BINARY} ") for a in args[:args.index(toml_path)]]
    command = [*(launch if main.get("command") else [str(BINARY)]), str(local_toml)]
    env = {"PATH": os.environ["PATH"], "POD_NAME": f"{deployment['metadata']['name']}-0"}
    for entry in main.get("env", []):
        if "value" in entry:
            env[entry["name"]] = expand(entry["value"], env)
    return LocalRelay(root=root, command=command, env=env, config=config, ports=ports, address=address, host=host,
                      ca=ca, tls_volume=tls_volume, mounts=mounts, auth_command=auth_command, auth_socket=socket)


def _auth_server(pod: dict, root: Path) -> tuple[list[str], Optional[Path]]:
    """The planned auth sidecar's command, its volumes under ``root``; (command, socket), or ([], None) without one."""
    sidecars = [c for c in pod.get("initContainers", []) if c["name"] == AUTH_CONTAINER]
    if not sidecars:
        return [], None
    (sidecar,) = sidecars
    return auth_command(sidecar["args"], {m["mountPath"]: root / m["name"] for m in sidecar.get("volumeMounts", [])})


def auth_command(args: list[str], mounts: dict[str, Path]) -> tuple[list[str], Path]:
    """``moq <args>`` on local paths: volumes at ``mounts``, the socket in a new short directory (a unix socket's
    path has at most 107 bytes, which pytest's directories can exceed); (command, socket)."""
    socket = Path(tempfile.mkdtemp(prefix="qs-auth-")) / Path(AUTH_SOCKET).name
    local = [f"unix:{socket}" if a == f"unix:{AUTH_SOCKET}" else a for a in _rewrite(args, mounts)]
    return [str(AUTH_BINARY), *local], socket


@dataclass
class RunningRelay:
    relay: LocalRelay
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        """Everything the relay printed so far (stdout and stderr), without terminal colour codes."""
        return ANSI.sub("", self.log.read_text(errors="replace"))


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def running(relay: LocalRelay, timeout: float = 20, env: Optional[dict[str, str]] = None) -> Iterator[RunningRelay]:
    """Run the relay until the block ends (even by an exception); waits until ``/health`` answers 200.

    ``env`` adds or replaces environment variables (e.g. ``MOQ_LOG_LEVEL``).
    """
    assert BINARY.is_file(), f"{BINARY} is missing: run `make deps` (it builds moq-relay {VERSION} with cargo)"
    with auth_running(relay.auth_command, relay.auth_socket, relay.root, timeout):
        log = relay.root / f"relay-{time.time_ns()}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                relay.command, env={**relay.env, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, cwd=relay.root
            )
        yield from _until_healthy(relay, process, log, timeout)


def _until_healthy(relay: LocalRelay, process: subprocess.Popen, log: Path, timeout: float):
    run = RunningRelay(relay, process, log)
    try:
        wait_until(lambda: urllib.request.urlopen(relay.health_url, timeout=1).close(), process, log,
                   "moq-relay", timeout)
        yield run
    finally:
        stop(process)


@contextmanager
def auth_running(command: list[str], socket: Optional[Path], root: Path, timeout: float = 20
                 ) -> Iterator[Optional[subprocess.Popen]]:
    """The auth server ``command`` until the block ends; waits (bounded) for its ``socket``, stops it by PID."""
    if not command:
        yield None
        return
    assert AUTH_BINARY.is_file(), f"{AUTH_BINARY} is missing: run `make deps` (it builds moq-cli {CLI_VERSION})"
    log = root / f"auth-{time.time_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={"PATH": os.environ["PATH"], "MOQ_LOG_LEVEL": "debug"},
                                   stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        def bound() -> None:
            if not (socket and socket.exists()):
                raise FileNotFoundError(socket)
        wait_until(bound, process, log, "moq auth serve", timeout)
        yield process
    finally:
        stop(process)
        if socket:  # the short directory auth_command made for it, outside the test's own tmp_path
            shutil.rmtree(socket.parent, ignore_errors=True)


def served_certificate(relay: LocalRelay, cafile: Optional[Path] = None, server_name: Optional[str] = None) -> int:
    """A new QUIC handshake with the relay, verified against ``cafile`` (default: the current CA); the leaf's serial.

    aioquic in a fresh event loop (never ``asyncio.run`` in the test process). Offers ALPN ``h3``
    (WebTransport), which the relay accepts; the handshake alone shows the certificate.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(
            asyncio.wait_for(
                handshake_serial(
                    relay.address or "127.0.0.1", relay.quic_port, cafile or relay.ca_file, server_name or relay.host
                ),
                10,
            )
        )
    finally:
        loop.close()


async def handshake_serial(address: str, port: int, cafile: Path, server_name: str) -> int:
    from aioquic.asyncio.client import connect
    from aioquic.quic.configuration import QuicConfiguration

    config = QuicConfiguration(is_client=True, alpn_protocols=["h3"], server_name=server_name)
    config.load_verify_locations(str(cafile))
    async with connect(address, port, configuration=config) as client:
        return client._quic.tls._peer_certificate.serial_number
