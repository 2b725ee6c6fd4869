"""What the two GCP cluster layers (``k3s.py``, ``gke.py``) share: the provider and the Cloud DNS records."""

from __future__ import annotations

from typing import Optional, Union

import pulumi
import pulumi_gcp as gcp

from components.cluster.contract import RecordWriter
from components.gcp.dns import record_writer
from stacks.config import Settings
from stacks.config.gke import Gke
from stacks.config.k3s import K3s


def provider_options(section: Union[K3s, Gke], stack: str) -> pulumi.ResourceOptions:
    """Options with the one GCP provider of the stack: its project and location, the stack label on everything."""
    provider = gcp.Provider("gcp", project=section.project, region=section.region, zone=section.zone,
                            default_labels={"quicstack-stack": stack.lower()})
    return pulumi.ResourceOptions(providers=[provider])


def records(settings: Settings, opts: pulumi.ResourceOptions) -> Optional[RecordWriter]:
    """A records in the configured Cloud DNS zone, when the stack manages them."""
    dns = settings.dns
    return record_writer(dns.zone, settings.dns_project, opts) if dns.writes_records("clouddns") else None
