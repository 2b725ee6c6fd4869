"""Deploys A records in an existing Cloud DNS managed zone, pointing host names at reserved addresses.

A RecordSet is authoritative for its name and type: an A record of the same name made outside the
stack is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class DnsRecordsArgs:
    zone: str
    """Name of the managed zone (not its DNS name), e.g. ``example-com``."""
    project: str
    """Project that owns the zone."""
    records: Mapping[str, pulumi.Input[str]]
    """Host name -> IPv4 address."""
    ttl: int = 300
    """Seconds resolvers may cache a record; short, so a new address takes effect soon."""


class DnsRecords(pulumi.ComponentResource):
    def __init__(self, name: str, args: DnsRecordsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:DnsRecords", name, None, opts)
        for host, address in sorted(args.records.items()):
            gcp.dns.RecordSet(
                f"{name}-{host}",
                project=args.project,
                managed_zone=args.zone,
                name=f"{host}.",
                type="A",
                ttl=args.ttl,
                rrdatas=[address],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})


def record_writer(
    zone: str, project: str, opts: pulumi.ResourceOptions
) -> Callable[[Mapping[str, pulumi.Input[str]]], None]:
    """The cluster's ``write_records``: A records host -> address in ``zone``."""
    return lambda records: DnsRecords("dns", DnsRecordsArgs(zone=zone, project=project, records=records), opts=opts)
