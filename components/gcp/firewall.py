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
    """Two ingress rules on the instances' tag: `public`, the workloads' ports from anywhere, and `admin`, SSH
    and the Kubernetes API from the admin ranges only (logged: who reached them, and from where, is worth a
    line)."""

    public: gcp.compute.Firewall
    admin: gcp.compute.Firewall

    def __init__(self, name: str, args: FirewallArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:Firewall", name, None, opts)

        def rule(role: str, ports: Mapping[str, Sequence[int]], sources: Sequence[str], what: str, **extra):
            return gcp.compute.Firewall(
                f"{name}-{role}", network=args.network, direction="INGRESS", allows=_allows(ports),
                source_ranges=list(sources), target_tags=[args.target_tag], description=f"quicstack: {what}",
                opts=pulumi.ResourceOptions(parent=self), **extra,
            )

        self.public = rule("public", args.public_ports, [ANYWHERE], "the load balancers' public ports")
        self.admin = rule(
            "admin", {"tcp": args.admin_tcp_ports}, args.admin_cidrs,
            "SSH and the Kubernetes API, from the admin ranges only",
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
        )
        self.register_outputs({})
