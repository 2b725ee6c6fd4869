"""What the stack opens to the world: admin networks, public ports, and the names two objects would share."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from components.shared.errors import ConfigError

# The rules read the whole stack config (``Settings``), which is passed in, not imported: the section
# modules that call them are imported by settings.py.
Settings = Any

OPEN_THRESHOLD = 2**16
"""More publicly routable addresses than one /16 in an admin list counts as open to the internet."""

# IPv4 special-purpose blocks (RFC 6890, IANA registry): not reachable from the internet, so they do not
# count towards "open". They are disjoint, so overlaps can be summed. Kept as a list because ipaddress answers
# is_global for one address or a whole network, not how many addresses of a partly special network are public;
# tests/test_libraries.py checks that ipaddress calls every block non-global.
_NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4")]

# Ports of a k3s node itself (https://docs.k3s.io/installation/requirements#networking): on a
# single-address cluster a public Service port is a port of that node, and the stack's firewall opens it.
NODE_PORTS = {22: "SSH", 2379: "etcd", 2380: "etcd", 6443: "the Kubernetes API", 8472: "flannel VXLAN",
              10250: "the kubelet API", 51820: "flannel WireGuard", 51821: "flannel WireGuard"}
NODE_PORT_RANGE = range(30000, 32768)


def public_addresses(cidrs: Iterable[str]) -> int:
    """How many publicly routable IPv4 addresses the union of ``cidrs`` covers."""
    total = 0
    for net in ipaddress.collapse_addresses(ipaddress.ip_network(c) for c in cidrs):
        hidden = sum(min(net.num_addresses, block.num_addresses) for block in _NOT_PUBLIC if net.overlaps(block))
        total += net.num_addresses - hidden
    return total


def check_admin_cidrs(key: str, cidrs: list[str], allow_key: str, opens: str = "SSH and the Kubernetes API") -> None:
    """An admin list is judged as a whole: ``0.0.0.0/1`` plus ``128.0.0.0/1`` is as open as ``0.0.0.0/0``.
    ``opens`` names what the list guards (k3s: SSH and the API; GKE and EKS: the API)."""
    for cidr in cidrs:
        if ipaddress.ip_network(cidr).prefixlen == 0:
            raise ConfigError(key, f"opens {opens} to the whole internet: list your own addresses, "
                              f"or set {allow_key} true to accept that", cidr)
    count = public_addresses(cidrs)
    if count > OPEN_THRESHOLD:
        raise ConfigError(key, f"opens {opens} to {count:,} public addresses (more than a /16's "
                          f"{OPEN_THRESHOLD:,} counts as open): list your own addresses, or set {allow_key} true to "
                          "accept that", has_value=False)


def check(s: Settings) -> None:
    _node_ports(s)
    _distinct_hosts(s)
    if s.ingress.relay_udp and s.ingress.service_type != "LoadBalancer":
        raise ConfigError("ingress.relayUdp", "needs ingress.serviceType LoadBalancer: a NodePort Service has no "
                          "public UDP 443 to carry the relay on", True)


def _node_ports(s: Settings) -> None:
    if not (s.profile.shared_address and s.envoy_demo.enabled):
        return
    port = s.envoy_public_port
    owner = NODE_PORTS.get(port) or ("the NodePort range (30000-32767)" if port in NODE_PORT_RANGE else None)
    if owner:
        raise ConfigError("envoyDemo.publicPort", f"is a port of the node itself ({owner}): here every public port is "
                          "a port of the node, opened to the world; choose another port", port)


def _distinct_hosts(s: Settings) -> None:
    """Each host gets a Certificate and a Secret named after it; two workloads on one host would share them."""
    hosts = s.hosts
    if s.web.enabled and s.envoy_demo.enabled and hosts.envoy == hosts.web:
        raise ConfigError("envoyDemo.host", "is also web.host: each host gets its own certificate (a Certificate "
                          "and Secret named after the host) and its own route; choose another host", hosts.envoy)
    # The relay and the watch page share a namespace, and a Certificate is named after its host with dots
    # made dashes (components/platform/certificates.py): a.b-c and a-b.c would give one name to two objects.
    if s.web.enabled and s.relay.enabled and hosts.web != hosts.relay and \
            hosts.web.replace(".", "-") == hosts.relay.replace(".", "-"):
        name = hosts.relay.replace(".", "-")
        raise ConfigError("relay.host", f"gives its Certificate the same name as web.host {hosts.web!r} "
                          f"({name!r}, in the namespace both share); choose another host", hosts.relay)
