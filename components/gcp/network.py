"""Deploys a dedicated VPC network (custom mode) and one regional subnet, with optional secondary ranges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class NetworkArgs:
    region: str
    """Region of the subnet."""
    cidr: str
    """Primary range of the subnet (node and VM addresses)."""
    secondary_ranges: Mapping[str, str] = field(default_factory=dict)
    """Named secondary ranges (GKE: pods and Services), declared here so GKE does not add them behind Pulumi's back."""


class Network(pulumi.ComponentResource):
    network: gcp.compute.Network
    """A custom-mode VPC network."""
    subnet: gcp.compute.Subnetwork
    """The one subnet, in the stack's region."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Custom mode: no subnets in other regions and none of the default network's open firewall rules.
        self.network = gcp.compute.Network(
            f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL",
            description="quicstack network", opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            network=self.network.id,
            region=args.region,
            ip_cidr_range=args.cidr,
            secondary_ip_ranges=[{"range_name": n, "ip_cidr_range": r} for n, r in args.secondary_ranges.items()],
            # Nodes without external addresses still reach Google APIs (image pulls from Artifact Registry, logging).
            private_ip_google_access=True,
            opts=child,
        )
        self.register_outputs({"network": self.network.id, "subnet": self.subnet.id})
