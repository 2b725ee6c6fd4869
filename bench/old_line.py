"""The previous relay line, moq-relay 0.14.12, on loopback: benchmarks only, never deployed.

``bench.relay`` and ``bench.tier`` run it beside the line the stacks deploy (0.17.10), same load, same run, so
the two can be compared. It needs its own small config writer, kept here and not in ``components``: the
product's renderer (``components/workloads/relay/toml.py``) speaks only the 0.17 schema, and the two schemas
refuse each other's spellings (both relays deny unknown keys), so the old relay cannot run a planned file.
:func:`document` writes what the 0.14.12 stacks planned for the ``local`` stack (``git show
3ee4a87:components/workloads/relay/toml.py`` and ``cluster.py``): ``[server]`` with its TLS, ``[web.http]``,
``[internal]``, ``[cluster] linger``, and anonymous publish and subscribe under the public prefix, which 0.14
decides itself (``[auth] public``; no auth server). A tier adds what 0.14.12's ``cluster.py`` added: the peer
certificate beside the public one, its CA as ``[server.tls] root`` (a peer's client certificate is a full
grant), ``[client.tls]`` for the outbound dials, and every other relay in ``[cluster] connect`` (a full mesh,
one session per direction, as the planned peer list gave).
"""

from __future__ import annotations

import os
import time
import tomllib
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from bench.case import Setup, Topology
from components.workloads.relay import versions
from tests.support.envoy import free_port, write_volume
from tests.support.pki import LocalCA
from tests.support.plan import TOOLS
from tests.support.processes import started, wait_until

PUBLIC = "anon"
# 127.0.0.1 carries no SNI: the peers ask for this name, which the peer certificate covers.
PEER_HOST = "relay-0.relay-peers.bench.svc.cluster.local"
OLD = tomllib.loads(Path(versions.__file__).with_name("versions.toml").read_text())["bench-old-relay"]
VERSION: str = OLD["version"]
"""The old line's version (``versions.toml``, table ``bench-old-relay``)."""
RELEASE = TOOLS / f"moq-relay-{VERSION}-release" / "bin" / "moq-relay"
"""Where ``make relay-release-old`` installs it."""


@dataclass(frozen=True)
class OldRelayToml:
    """One 0.14.12 relay on 127.0.0.1: its ports, its certificate directories, and its peers (a tier)."""

    quic_port: int
    web_port: int
    internal_port: int
    tls_dir: Path
    """``tls.crt`` and ``tls.key`` of the public certificate."""
    peer_tls_dir: Path | None = None
    """A tier's peer certificate (``tls.crt``, ``tls.key``, ``ca.crt``); None for a relay alone."""
    peers: tuple[str, ...] = ()
    """The other relays' URLs, dialled at start."""
    public_prefix: str = PUBLIC
    linger: str = "5s"


def document(cfg: OldRelayToml) -> dict:
    """The 0.14.12 TOML as a dict."""
    server_tls = {"cert": [str(cfg.tls_dir / "tls.crt")], "key": [str(cfg.tls_dir / "tls.key")]}
    doc = {
        "server": {"bind": f"127.0.0.1:{cfg.quic_port}", "tls": server_tls},
        "web": {"http": {"listen": f"127.0.0.1:{cfg.web_port}"}},
        "internal": {"listen": f"127.0.0.1:{cfg.internal_port}"},
        "auth": {"public": cfg.public_prefix},  # 0.14 reads the prefix as its subtree, publish and subscribe
        "cluster": {"linger": cfg.linger},
    }
    if cfg.peer_tls_dir is not None:
        cert, key, ca = (str(cfg.peer_tls_dir / name) for name in ("tls.crt", "tls.key", "ca.crt"))
        # Chosen by SNI; a dial without SNI (the benchmark's clients, on 127.0.0.1) gets the first, the public one.
        server_tls["cert"].append(cert)
        server_tls["key"].append(key)
        server_tls["root"] = [ca]
        doc["client"] = {"tls": {"cert": cert, "key": key, "root": [ca], "host_name": PEER_HOST}}
        doc["cluster"]["connect"] = list(cfg.peers)
    return doc


def lay_out(relays: int, work: Path, public: LocalCA) -> list[OldRelayToml]:
    """``relays`` relays' certificates and TOML files under ``work`` (``relay-<i>/relay.toml``)."""
    ports = [(free_port(), free_port(), free_port()) for _ in range(relays)]
    urls = [f"https://127.0.0.1:{quic}/" for quic, _, _ in ports]
    peer_files = LocalCA("relay peers").issue([PEER_HOST], client_auth=True) if relays > 1 else None
    configs = []
    for ordinal, (quic, web, internal) in enumerate(ports):
        pod = work / f"relay-{ordinal}"
        write_volume(pod / "tls", public.issue(["localhost"]))
        if peer_files:
            write_volume(pod / "peer-tls", peer_files)
        cfg = OldRelayToml(quic, web, internal, pod / "tls", pod / "peer-tls" if peer_files else None,
                           tuple(url for i, url in enumerate(urls) if i != ordinal))
        (pod / "relay.toml").write_text(tomli_w.dumps(document(cfg)))
        configs.append(cfg)
    return configs


class OldRelays(Topology):
    """``relays`` moq-relay 0.14.12 processes (one: a relay alone; more: a full mesh), the publisher on relay 0."""

    line = VERSION

    def __init__(self, relays: int, binary: Path, name: str):
        self.relays, self.binary, self.name = relays, binary, name

    def start(self, stack: ExitStack, work: Path) -> Setup:
        public = LocalCA("public")
        ca = work / "public-ca.crt"
        ca.write_bytes(public.pem)
        configs = lay_out(self.relays, work, public)
        pids = [self._run(stack, cfg) for cfg in configs]
        if self.relays > 1:
            time.sleep(1)  # the peers dial each other
        urls = [f"https://127.0.0.1:{cfg.quic_port}/{PUBLIC}" for cfg in configs]
        return Setup(["--url", urls[0], "--ca", str(ca)], urls, ca, pids)

    def _run(self, stack: ExitStack, cfg: OldRelayToml) -> int:
        """One relay, until the case ends; waits (bounded) for its ``/health``."""
        pod = cfg.tls_dir.parent
        log = pod / "relay.log"
        # 0.14 merges the file with its command line, whose default level would override a [log] in the file.
        process = stack.enter_context(started([str(self.binary), str(pod / "relay.toml")], log, cwd=pod,
                                              env={"PATH": os.environ["PATH"], "MOQ_LOG_LEVEL": "info"}))
        health = f"http://127.0.0.1:{cfg.internal_port}/health"
        wait_until(lambda: urllib.request.urlopen(health, timeout=1).close(), process, log, "moq-relay", 20)
        return process.pid
