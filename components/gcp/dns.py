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


def record_set(resource_name: str, zone: str, project: str, fqdn: str, type_: str, value: pulumi.Input[str],
               ttl: int, parent: pulumi.Resource) -> gcp.dns.RecordSet:
    """One record set of one value in ``zone``; ``fqdn`` ends with a dot."""
    return gcp.dns.RecordSet(resource_name, project=project, managed_zone=zone, name=fqdn, type=type_, ttl=ttl,
                             rrdatas=[value], opts=pulumi.ResourceOptions(parent=parent))


class DnsRecords(pulumi.ComponentResource):
    def __init__(self, name: str, args: DnsRecordsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:DnsRecords", name, None, opts)
        for host, address in sorted(args.records.items()):
            record_set(f"{name}-{host}", args.zone, args.project, f"{host}.", "A", address, args.ttl, self)
        self.register_outputs({})


def record_writer(
    zone: str, project: str, opts: pulumi.ResourceOptions
) -> Callable[[Mapping[str, pulumi.Input[str]]], None]:
    """The cluster's ``write_records``: A records host -> address in ``zone``."""
    return lambda records: DnsRecords("dns", DnsRecordsArgs(zone=zone, project=project, records=records), opts=opts)
