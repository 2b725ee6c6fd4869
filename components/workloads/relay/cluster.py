"""A clustered relay tier (moq-relay 0.17.10), as pure values: peer names, the TOML it adds, the pod's launch.

Pure: no Pulumi, no I/O. The component turns these into a StatefulSet, a headless Service and a
cert-manager CA; tests run real relays from the same values.

Topology (upstream ``rs/moq-relay/src/cluster.rs`` at ``moq-relay-v0.17.10``): every relay reads the whole
peer list from a file (``[cluster] connect_api``, a mounted ConfigMap the relay watches) and dials every
entry but its own ``node`` URL, so any relay reaches any other in one hop and losing one relay leaves the
others' links intact. Explicit peer lists always dial (the URL tie-breaker applies to gossip only), so
each pair holds two sessions, one per direction: cheap for a tier of a few relays. Changing the replica
count rewrites the file, and running relays pick the new peers up without a restart.

Authentication and transport: the peers have a listener of their own. 0.17.10 has one QUIC listener, shared by
clients and peers (``cluster.rs``: the ``/.cluster`` path "on the same listener"), so peer links use the relay's
WebSocket transport instead: a ``[web.https]`` listener on ``peer_port`` (TCP) that serves the peer certificate
(``*.<headless>.<ns>.svc.cluster.local``) and verifies client certificates from the tier's CA (``root``; ``web.rs``:
a verified client certificate is reported to the auth server, which grants such a session every path, ``auth.py``).
Peers dial ``wss://`` URLs (moq-tokio 0.19.31 ``websocket.rs`` takes the scheme, with the client certificate of
``[connect.tls]``, whose only trusted root is the same CA). The public QUIC listener has no ``root``: it asks for
no client certificate, so a peer certificate shown there grants nothing. No Service but the headless one names the
peer port, and the NetworkPolicy admits it only from the relay pods (``component.py``).

The relay has one ``[web.https]`` listener: where the relay's own load balancer carries the public WebSocket
fallback (``[web.https]`` on TCP 443, EKS) a tier cannot have it, which the config refuses (``config.py``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

PEER_TLS_DIR = "/etc/moq/peer-tls"
PEERS_DIR = "/etc/moq/peers"
PEERS_FILE = "peers.json"
# Where the relay image keeps its binary (upstream Dockerfile: `COPY .../bin/* /bin/`, entry.sh execs it).
RELAY_BINARY = "/bin/moq-relay"
# The AWS Load Balancer Controller's webhook injects this (8 bytes, standard base64) into the containers
# the pod annotation names; moq-tokio reads the server ID as hex (`ServerId` is `serde_with::hex::Hex`, quic.rs).
LBC_SERVER_ID_ENV = "AWS_LBC_QUIC_SERVER_ID"
RELAY_SERVER_ID_ENV = "MOQ_LISTEN_QUIC_LB_ID"
"""``[listen] lb_id`` from the environment (``listen.rs`` at moq-tokio 0.19.31, the relay's)."""
SERVER_ID_BYTES = 8
MAX_REPLICAS = 16


@dataclass(frozen=True)
class RelayCluster:
    """The peers of one relay tier."""

    replicas: int
    namespace: str
    peer_port: int
    """Container port (TCP) of the peers' own listener (``[web.https]`` with the peer certificate and CA)."""
    statefulset: str = "relay"
    headless_service: str = "relay-peers"

    def __post_init__(self) -> None:
        if not 2 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"a cluster has 2-{MAX_REPLICAS} relays, not {self.replicas}")

    @property
    def domain(self) -> str:
        """The headless Service's DNS domain: ``<pod>.<domain>`` names one relay."""
        return f"{self.headless_service}.{self.namespace}.svc.cluster.local"

    def host(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}.{self.domain}"

    def url(self, ordinal: int) -> str:
        return f"wss://{self.host(ordinal)}:{self.peer_port}/"

    @property
    def node_url(self) -> str:
        """This pod's own URL, with the pod name expanded by the kubelet (``$(POD_NAME)``): must equal its
        entry in the peer list, which is how the relay skips dialing itself."""
        return f"wss://$(POD_NAME).{self.domain}:{self.peer_port}/"

    def peers_json(self) -> str:
        return json.dumps([self.url(i) for i in range(self.replicas)], indent=1) + "\n"

    @property
    def certificate_dns_names(self) -> list[str]:
        return [f"*.{self.domain}"]


def with_cluster(document: dict, cluster: RelayCluster) -> dict:
    """``document`` (the single relay's TOML as a dict) with the peers' listener, their TLS and the peer list added."""
    if "https" in document["web"]:
        raise ValueError("the relay's one [web.https] listener carries the public WebSocket fallback; a tier needs it "
                         "for its peers")
    peer_cert, peer_key, peer_ca = (f"{PEER_TLS_DIR}/{name}" for name in ("tls.crt", "tls.key", "ca.crt"))
    out = copy.deepcopy(document)
    wildcard = out["listen"]["bind"].rsplit(":", 1)[0]
    # Client certificates are optional to the listener (``web.rs``): one without grants only the public rules.
    out["web"]["https"] = {"listen": f"{wildcard}:{cluster.peer_port}", "cert": [peer_cert], "key": [peer_key],
                           "root": [peer_ca]}
    # Outbound dials trust only the cluster CA and prove themselves with the peer certificate.
    out["connect"] = {"tls": {"cert": peer_cert, "key": peer_key, "root": [peer_ca]}}
    # `node` comes from the environment (one ConfigMap serves every pod): MOQ_CLUSTER_NODE.
    out.setdefault("cluster", {})["connect_api"] = f"{PEERS_DIR}/{PEERS_FILE}"
    return out


def node_env(cluster: RelayCluster) -> list[dict]:
    """Container env: the pod's name from the downward API, then its node URL built from it."""
    return [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MOQ_CLUSTER_NODE", "value": cluster.node_url},
    ]


def quic_lb_launch(config_path: str, binary: str = RELAY_BINARY) -> list[str]:
    """The relay container's command where the AWS controller injects a QUIC-LB server ID.

    A POSIX shell line (the image is nixos/nix-based: /bin/sh plus coreutils' base64, od and tr) turns the
    injected base64 into the hex moq-relay reads from MOQ_LISTEN_QUIC_LB_ID, refuses anything but 8 bytes,
    then execs the relay. Without the variable (no webhook) it starts the relay unchanged: the NLB then
    registers no target for the pod, which the controller logs.
    """
    script = (
        "set -eu\n"
        f'if [ -n "${{{LBC_SERVER_ID_ENV}:-}}" ]; then\n'
        f'  {RELAY_SERVER_ID_ENV}=$(printf %s "${LBC_SERVER_ID_ENV}" | base64 -d | od -An -v -tx1 | tr -d " \\n")\n'
        f'  if [ "${{#{RELAY_SERVER_ID_ENV}}}" -ne {2 * SERVER_ID_BYTES} ]; then\n'
        f'    echo "{LBC_SERVER_ID_ENV} is not {SERVER_ID_BYTES} bytes of base64: ${LBC_SERVER_ID_ENV}" >&2\n'
        "    exit 64\n"
        "  fi\n"
        f"  export {RELAY_SERVER_ID_ENV}\n"
        "fi\n"
        f'exec {binary} "$@"\n'
    )
    return ["/bin/sh", "-c", script, "moq-relay", config_path]
