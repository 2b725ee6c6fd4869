"""A relay tier on loopback: N real moq-relay processes from one pod template's files, the way a StatefulSet
runs them.

:func:`lay_out` takes what the plan deploys (the TOML, the peer list, the container's env and mounts) and
writes one directory per ordinal: every mounted volume (kubelet-style ``..data`` swaps), the public
certificate from one CA, the peer certificate (``client auth`` too) from the cluster CA, the TOML with file
paths and listen addresses rewritten, and the peer list with each pod's DNS name rewritten to its
loopback peer port. One test-only key is added: ``[connect.tls] host_name``, because dials now go to 127.0.0.1,
which carries no SNI; the name given is one the planned peer certificate covers. :func:`from_plan`
reads the planned StatefulSet.

:func:`running` starts each pod's auth server (the planned sidecar's arguments), then the relays, waits
(bounded) for each ``/health`` and always stops every process by PID; :meth:`Tier.stop` stops one relay early (a
pod going away).
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
import re
import subprocess
import time
import tomllib
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import tomli_w

from tests.support.envoy import _object, _rewrite, _secret_files, free_port, write_volume
from tests.support.pki import LocalCA
from tests.support.processes import stop, wait_until
from tests.support.relay import BINARY, auth_command, auth_running, expand



@dataclass(frozen=True)
class Certificate:
    """A cert-manager Certificate the pod mounts: what the local CA must sign."""

    dns_names: list[str]
    client_auth: bool
    """Peer certificates are also client certificates (``usages: [..., client auth]``)."""


@dataclass(frozen=True)
class PodTemplate:
    """The parts of the planned relay pod a local run needs."""

    toml: str
    """``relay.toml`` from the relay ConfigMap."""
    files: dict[str, dict[str, bytes]]
    """Mount path -> files of each mounted ConfigMap (and planned Secret)."""
    certificates: dict[str, Certificate]
    """Mount path -> the Certificate whose Secret is mounted there."""
    env: list[dict]
    """The container's ``env`` entries."""
    statefulset: str
    auth_args: list[str] = field(default_factory=list)
    """The auth sidecar's arguments."""
    auth_mounts: list[str] = field(default_factory=list)
    """Mount paths of the auth sidecar (a subset of the pod's)."""
    peer_ca_domains: tuple[str, ...] = ()
    """The planned peer CA's permitted DNS domains (its ``nameConstraints``)."""

    @property
    def peer_dns_names(self) -> list[str]:
        (peer,) = [c for c in self.certificates.values() if c.client_auth]
        return peer.dns_names


def from_plan(plan, name: str = "relay") -> PodTemplate:
    """The planned StatefulSet's relay pod: its ConfigMaps' files and the Certificates behind its Secrets."""
    statefulset = plan.object("StatefulSet", name)
    namespace = statefulset["metadata"]["namespace"]
    pod = statefulset["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "relay"]
    (auth,) = [c for c in pod.get("initContainers", []) if c["name"] == "auth"]
    mounts = {m["name"]: m["mountPath"] for c in (container, auth) for m in c["volumeMounts"]}
    files, certificates = {}, {}
    for volume in pod["volumes"]:
        path = mounts[volume["name"]]
        if "emptyDir" in volume:
            files[path] = {}
        elif "configMap" in volume:
            data = plan.object("ConfigMap", volume["configMap"]["name"])["data"]
            files[path] = {k: v.encode() for k, v in data.items()}
        elif secret := _object(plan.manifests, "Secret", volume["secret"]["secretName"], namespace):
            files[path] = _secret_files(secret)  # planned (relay.auth jwt: the token key)
            assert b"[secret]" not in b"".join(files[path].values()), "plan with --show-secrets to run the relay"
        else:
            secret = volume["secret"]["secretName"]
            (cert,) = [c for c in plan.objects("Certificate")
                       if c["spec"]["secretName"] == secret and c["metadata"]["namespace"] == namespace]
            certificates[path] = Certificate(cert["spec"]["dnsNames"], "client auth" in cert["spec"].get("usages", []))
    config_map = next(v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "config")
    permitted = _peer_ca(plan, namespace)["spec"].get("nameConstraints", {}).get("permitted", {}).get("dnsDomains", [])
    return PodTemplate(toml=plan.object("ConfigMap", config_map)["data"]["relay.toml"], files=files,
                       certificates=certificates, env=container.get("env", []), statefulset=name,
                       auth_args=auth["args"], auth_mounts=[m["mountPath"] for m in auth["volumeMounts"]],
                       peer_ca_domains=tuple(permitted))


def _peer_ca(plan, namespace: str) -> dict:
    """The CA Certificate behind the peers' certificate: its issuer's CA Secret (a ClusterIssuer's, or an Issuer's)."""
    (peer,) = [c for c in plan.objects("Certificate")
               if "client auth" in c["spec"].get("usages", []) and c["metadata"]["namespace"] == namespace]
    ref = peer["spec"]["issuerRef"]
    issuer = plan.object(ref.get("kind", "Issuer"), ref["name"])
    (ca,) = [c for c in plan.objects("Certificate") if c["spec"].get("isCA")
             and c["spec"]["secretName"] == issuer["spec"]["ca"]["secretName"]]
    return ca


@dataclass
class LocalRelay:
    ordinal: int
    root: Path
    config: dict
    env: dict[str, str]
    quic_port: int
    internal_port: int
    mounts: dict[str, Path]
    """Mount path in the pod -> local directory."""
    peer_port: Optional[int] = None
    """TCP port of the peers' listener (``[web.https]`` of a tier), if any."""
    auth: tuple[list[str], Optional[Path]] = ([], None)
    """The auth server's command and socket."""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.quic_port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}/health"

    @property
    def peer_certificate(self) -> tuple[str, str]:
        """(certificate, key) files this relay presents to its peers."""
        return self.config["connect"]["tls"]["cert"], self.config["connect"]["tls"]["key"]

    @property
    def peer_ca(self) -> str:
        return self.config["connect"]["tls"]["root"][0]

    def dial(self, urls: list[str]) -> None:
        """Replace the peer list this relay reads (as a ConfigMap update would)."""
        peers_file = Path(self.config["cluster"]["connect_api"])
        write_volume(peers_file.parent, {peers_file.name: json.dumps(urls).encode()})

    def save(self) -> None:
        (self.root / "relay.toml").write_text(tomli_w.dumps(self.config))


def peer_ca(template: PodTemplate, name: str = "relay peers CA") -> LocalCA:
    """A CA like the planned peer CA: constrained to the names the plan permits."""
    return LocalCA(name, permitted_dns=template.peer_ca_domains)


def lay_out(template: PodTemplate, replicas: int, root: Path, public_ca: LocalCA,
            peers: Optional[LocalCA] = None) -> list[LocalRelay]:
    """One directory per ordinal under ``root``, each ready to run; peers point at each other's loopback ports
    (planned peers beyond ``replicas`` are left out). ``peers`` signs the peer certificate (default: ``peer_ca``)."""
    peers = peers or peer_ca(template)
    ports = [(free_port(), free_port()) for _ in range(replicas)]
    # One Secret per Certificate serves every pod (the StatefulSet template mounts it), as cert-manager issues it.
    issued = {path: (peers if c.client_auth else public_ca).issue(c.dns_names, client_auth=c.client_auth)
              for path, c in template.certificates.items()}
    relays = []
    for ordinal, (quic, internal) in enumerate(ports):
        pod = root / f"{template.statefulset}-{ordinal}"
        mounts = {path: pod / path.strip("/").replace("/", "-") for path in [*template.files, *issued]}
        for path, files in [*template.files.items(), *issued.items()]:
            write_volume(mounts[path], files)
        config = _rewrite(tomllib.loads(template.toml), mounts)
        config["listen"]["bind"] = f"127.0.0.1:{quic}"
        auth = auth_command(template.auth_args, {path: mounts[path] for path in template.auth_mounts})
        config["auth"]["url"] = f"unix://{auth[1]}"
        config["internal"]["listen"] = f"127.0.0.1:{internal}"
        for web in config.get("web", {}).values():
            web["listen"] = f"127.0.0.1:{free_port()}"
        peer_port = int(config["web"]["https"]["listen"].rsplit(":", 1)[1]) if "connect" in config else None
        env = {"POD_NAME": f"{template.statefulset}-{ordinal}"}
        for entry in template.env:
            if "value" in entry:
                env[entry["name"]] = expand(entry["value"], env)
        relays.append(LocalRelay(ordinal, pod, config, env, quic, internal, mounts, auth=auth, peer_port=peer_port))
    _point_peers_at_loopback(relays, template)
    return relays


def _point_peers_at_loopback(relays: list[LocalRelay], template: PodTemplate) -> None:
    """Each pod URL (``wss://<sts>-<i>.<domain>:<port>/``) becomes ``wss://127.0.0.1:<peer port of i>/``."""
    def local(url: str) -> str:
        match = re.fullmatch(rf"wss://{re.escape(template.statefulset)}-([0-9]+)\.[^/:]+:[0-9]+/", url)
        assert match, f"not a pod URL of the StatefulSet: {url}"
        ordinal = int(match.group(1))
        return f"wss://127.0.0.1:{relays[ordinal].peer_port}/" if ordinal < len(relays) else None

    for relay in relays:
        planned = json.loads(Path(relay.config["cluster"]["connect_api"]).read_text())
        relay.dial([u for u in map(local, planned) if u])
        relay.env["MOQ_CLUSTER_NODE"] = local(relay.env["MOQ_CLUSTER_NODE"])
        # 127.0.0.1 carries no SNI; ask for a name the planned peer certificate covers (test-only key).
        any_pod = template.peer_dns_names[0].replace("*", f"{template.statefulset}-0", 1)
        relay.config["connect"]["tls"]["host_name"] = any_pod
        relay.save()


@dataclass
class Tier:
    relays: list[LocalRelay]
    processes: list[Optional[subprocess.Popen]] = field(default_factory=list)

    def log(self, ordinal: int) -> str:
        return (self.relays[ordinal].root / "relay.log").read_text(errors="replace")

    def stop(self, ordinal: int) -> None:
        process = self.processes[ordinal]
        if process is not None:
            stop(process)


@contextmanager
def running(relays: list[LocalRelay], timeout: float = 20) -> Iterator[Tier]:
    assert BINARY.is_file(), f"{BINARY} is missing: run `make deps` (it builds moq-relay with cargo)"
    tier = Tier(relays)
    with ExitStack() as auth_servers:
        for relay in relays:
            auth_servers.enter_context(auth_running(*relay.auth, relay.root, timeout))
        yield from _relays_running(tier, timeout)


def _relays_running(tier: Tier, timeout: float) -> Iterator[Tier]:
    relays = tier.relays
    try:
        for relay in relays:
            with (relay.root / "relay.log").open("wb") as out:
                tier.processes.append(subprocess.Popen(
                    [str(BINARY), str(relay.root / "relay.toml")], env={"PATH": os.environ["PATH"], **relay.env},
                    stdout=out, stderr=subprocess.STDOUT, cwd=relay.root))
        deadline = time.monotonic() + timeout
        for relay, process in zip(relays, tier.processes):
            wait_until(lambda: urllib.request.urlopen(relay.health_url, timeout=1).close(), process,
                       relay.root / "relay.log", f"relay {relay.ordinal}", max(0.1, deadline - time.monotonic()))
        yield tier
    finally:
        for ordinal in range(len(tier.processes)):
            tier.stop(ordinal)


def launch_planned(tmp_path: Path, command: list[str], shell: str, env: dict[str, str],
                   host: str = "relay.example.com",
                   tls: Optional[tuple[bytes, bytes]] = None) -> tuple[subprocess.Popen, int, Path]:
    """A planned ``/bin/sh -c SCRIPT NAME CONFIG`` container command (the relay binary's path rewritten) run by
    ``shell`` with a minimal relay config on loopback: QUIC only, a certificate for ``host`` (``tls``: PEM
    certificate and key, else self-signed). Returns (process, QUIC port, log); the caller stops the process."""
    from tests.support.envoy import test_certificate

    from components.workloads.relay.cluster import RELAY_BINARY

    cert, key = tls or test_certificate([host])
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "tls.crt").write_bytes(cert)
    (tmp_path / "tls" / "tls.key").write_bytes(key)
    port = free_port()
    config = tmp_path / "relay.toml"
    config.write_text(tomli_w.dumps({
        "listen": {"bind": f"127.0.0.1:{port}", "tls": {"cert": [str(tmp_path / "tls" / "tls.crt")],
                                                        "key": [str(tmp_path / "tls" / "tls.key")]}},
        "internal": {"listen": f"127.0.0.1:{free_port()}"}, "auth": {"public": ["anon/**"]},
    }))
    script = command[2].replace(f"exec {RELAY_BINARY} ", f"exec {BINARY} ")
    argv = [shell, *(["sh"] if shell == "busybox" else []), "-c", script, command[3], str(config)]
    log = tmp_path / "relay.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env={"PATH": os.environ["PATH"], **env}, stdout=out, stderr=subprocess.STDOUT)
    return process, port, log


def wait_listening(process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while "listening" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.05)
