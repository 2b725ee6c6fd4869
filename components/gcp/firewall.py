"""Deploys the k3s VM's ingress firewall: public ports open to the world, admin ports to admin ranges only.

GCP VPC firewalls deny ingress by default, so these two rules are everything that reaches the VM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_gcp as gcp

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class FirewallArgs:
    network: pulumi.Input[str]
    """VPC network the rules belong to."""
    target_tag: str
    """Network tag of the instances the rules apply to."""
    public_ports: Mapping[str, Sequence[int]]
    """Protocol (``tcp``/``udp``) -> ports every client may reach (the load balancers' ports)."""
    admin_cidrs: Sequence[str]
    """Source ranges allowed to reach the admin ports."""
    admin_tcp_ports: Sequence[int] = (22, 6443)
    """SSH and the Kubernetes API."""


def _allows(ports: Mapping[str, Sequence[int]]) -> list[dict]:
    return [
        {"protocol": proto, "ports": [str(p) for p in sorted(set(nums))]}
        for proto, nums in sorted(ports.items())
        if nums
    ]


class Firewall(pulumi.ComponentResource):
    public: gcp.compute.Firewall
    """The workloads' public ports, from anywhere."""
    admin: gcp.compute.Firewall
    """SSH and the Kubernetes API, from the admin blocks only."""

    def __init__(self, name: str, args: FirewallArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.public = gcp.compute.Firewall(
            f"{name}-public",
            network=args.network,
            direction="INGRESS",
            allows=_allows(args.public_ports),
            source_ranges=[ANYWHERE],
            target_tags=[args.target_tag],
            description="quicstack: the load balancers' public ports",
            opts=child,
        )
        self.admin = gcp.compute.Firewall(
            f"{name}-admin",
            network=args.network,
            direction="INGRESS",
            allows=_allows({"tcp": args.admin_tcp_ports}),
            source_ranges=list(args.admin_cidrs),
            target_tags=[args.target_tag],
            description="quicstack: SSH and the Kubernetes API, from the admin ranges only",
            # Who reached SSH or the API server, and from where, is worth a log line.
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            opts=child,
        )
        self.register_outputs({})
