"""Networks a cloud would refuse or a cluster would outgrow: blocks below the platform's minimum, and public
address ranges used as private networks. Checked at plan time, so ``pulumi up`` never starts what the cloud API
or the cluster's IP allocator rejects minutes later."""

from __future__ import annotations

import ipaddress

from components.shared.errors import ConfigError

from .exposure import public_addresses

GCP_SMALLEST_SUBNET = 29
"""GCP's smallest IPv4 subnet range is a /29 (https://cloud.google.com/vpc/docs/subnets#valid-ranges)."""
GCP_RESERVED = 4
"""Addresses GCP keeps in every primary subnet range: network, gateway, second-to-last and broadcast (same page)."""
AWS_SMALLEST_SUBNET = 28
"""AWS subnets are /16 to /28 (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html)."""
GKE_MAX_PODS_PER_NODE = 110
"""The stack leaves GKE Standard's default maximum Pods per node, 110, which takes a /24 from the Pod range for
each node: the smallest block with at least twice as many addresses as Pods
(https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr)."""
K3S_NODE_MASK = 24
"""k3s gives each node a /24 of the cluster CIDR (kube-controller-manager's default --node-cidr-mask-size for
IPv4, https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/)."""
GKE_REGIONAL_ZONES = 3
"""A regional GKE cluster puts its node pool in three zones of the region unless node locations are given."""


def node_block(max_pods: int) -> int:
    """The prefix length of one node's Pod block: the smallest with at least twice ``max_pods`` addresses."""
    return 32 - (2 * max_pods - 1).bit_length()


def private(key: str, cidr: str, what: str) -> None:
    """``cidr`` is used as a private network: every address of it must be non-public (RFC 1918, 100.64.0.0/10 and
    the other special-purpose blocks), or the cluster would shadow real internet addresses."""
    public = public_addresses([cidr])
    if public:
        raise ConfigError(key, f"holds {public:,} public internet addresses, but is {what}: use a private range such "
                          "as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", cidr)


def subnet(key: str, cidr: str, smallest: int, cloud: str, nodes: int = 0, reserved: int = 0) -> None:
    """A subnet no smaller than the cloud's smallest, with room for ``nodes`` addresses beside the reserved ones."""
    net = ipaddress.ip_network(cidr)
    if net.prefixlen > smallest:
        raise ConfigError(key, f"is smaller than {cloud}'s smallest subnet, a /{smallest}", cidr)
    usable = net.num_addresses - reserved
    if usable < nodes:
        raise ConfigError(key, f"has {usable} addresses for nodes ({reserved} are the cloud's), fewer than the "
                          f"{nodes} nodes the node pool may grow to", cidr)


def pod_range(key: str, cidr: str, node_prefix: int, nodes: int, why: str) -> None:
    """A Pod range that holds a /``node_prefix`` block for each of ``nodes`` nodes."""
    net = ipaddress.ip_network(cidr)
    blocks = 2 ** (node_prefix - net.prefixlen) if net.prefixlen <= node_prefix else 0
    if blocks < max(nodes, 1):
        need = node_prefix - (max(nodes, 1) - 1).bit_length()
        raise ConfigError(key, f"holds {blocks} node Pod block(s) of /{node_prefix} ({why}), but the cluster may have "
                          f"{nodes} node(s): use a /{need} or larger", cidr)
