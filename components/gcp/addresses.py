"""Deploys reserved regional static external IPv4 addresses, one per purpose.

Regional, because a passthrough network load balancer (and a VM's one-to-one NAT) cannot use a
global address. Reserved up front, so DNS records never wait on a Service's status and the
addresses survive the Services (and VMs) that use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class AddressesArgs:
    region: str
    """Region of the addresses (that of the load balancers or the VM)."""
    purposes: Sequence[str]
    """One address per purpose, e.g. ``("ingress", "envoy")``."""


class Addresses(pulumi.ComponentResource):
    addresses: dict[str, gcp.compute.Address]
    """purpose -> the reserved address (``.address`` is the IP)."""

    def __init__(self, name: str, args: AddressesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:Addresses", name, None, opts)
        self.addresses = {
            purpose: gcp.compute.Address(
                f"{name}-{purpose}",
                region=args.region,
                address_type="EXTERNAL",
                network_tier="PREMIUM",
                description=f"quicstack {purpose} address",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for purpose in args.purposes
        }
        self.register_outputs({purpose: a.address for purpose, a in self.addresses.items()})

    def ip(self, purpose: str) -> pulumi.Output[str]:
        return self.addresses[purpose].address
