"""Deploys the CNAMEs that hand DNS-01 challenges from the hosts' zone to a zone that holds only challenges.

Cloud DNS has no record-level IAM condition, so a DNS-01 solver allowed to write a zone may rewrite
every record in it. With a challenge zone, ``_acme-challenge.<host>`` in the hosts' zone is a CNAME
into the challenge zone: Let's Encrypt follows it when it validates
(https://letsencrypt.org/docs/challenge-types/#dns-01-challenge), and so does cert-manager with
``cnameStrategy: Follow``, which then writes the TXT record at the CNAME's target
(https://cert-manager.io/docs/configuration/acme/dns01/#delegated-domains-for-dns01). cert-manager's
identity then needs rights on the challenge zone only.

The challenge zone is looked up, not created: it is the operator's, and its DNS name must be
delegated from its parent (public NS records) for either side to resolve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.gcp.dns import record_set

CHALLENGE_LABEL = "_acme-challenge"
# RFC 1035 section 2.3.4: 255 octets on the wire, which is 253 characters written without the final dot.
MAX_NAME = 253


def delegated_name(host: str, challenge_dns_name: str) -> str:
    """Where ``_acme-challenge.<host>`` points: the same name with the challenge zone's DNS name appended.

    Each host keeps a name of its own (two hosts never share a TXT record set), the name reads as the
    host it serves, and it lies inside the challenge zone whatever the hosts are.
    """
    name = f"{CHALLENGE_LABEL}.{host}.{challenge_dns_name.rstrip('.')}."
    if len(name) - 1 > MAX_NAME:
        raise ValueError(f"the DNS-01 CNAME target for {host} under {challenge_dns_name} is {len(name) - 1} "
                         f"characters, over DNS's {MAX_NAME}: use a challenge zone with a shorter DNS name")
    return name


def _target(host: str, challenge_dns_name: str) -> str:
    """``delegated_name`` inside an apply: a name too long ends the deployment with its one line (RunError prints no
    traceback), since the challenge zone's DNS name is known only once the zone has been looked up."""
    try:
        return delegated_name(host, challenge_dns_name)
    except ValueError as exc:
        raise pulumi.RunError(f"quicstack:dns.challengeZone: {exc}") from None


@dataclass(frozen=True)
class ChallengeDelegationArgs:
    zone: str
    """Managed-zone name of the hosts' zone, where the CNAMEs go."""
    challenge_zone: str
    """Managed-zone name of the zone that holds only ACME challenges."""
    project: str
    """Project that owns both zones."""
    hosts: Sequence[str]
    """Hosts validated over DNS-01."""
    ttl: int = 300
    """Seconds resolvers may cache a CNAME."""


class ChallengeDelegation(pulumi.ComponentResource):
    dns_name: pulumi.Output[str]
    """The challenge zone's DNS name (``acme.example.com.``)."""
    records: list[pulumi.Resource]
    """The CNAMEs: what cert-manager waits for before it solves a challenge."""

    def __init__(self, name: str, args: ChallengeDelegationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:ChallengeDelegation", name, None, opts)
        zone = gcp.dns.get_managed_zone_output(
            name=args.challenge_zone, project=args.project, opts=pulumi.InvokeOutputOptions(parent=self))
        self.dns_name = zone.dns_name
        self.records = [
            record_set(f"{name}-{host}", args.zone, args.project, f"{CHALLENGE_LABEL}.{host}.", "CNAME",
                       zone.dns_name.apply(lambda dns_name, host=host: _target(host, dns_name)), args.ttl, self)
            for host in sorted(args.hosts)
        ]
        self.register_outputs({"dnsName": self.dns_name})
