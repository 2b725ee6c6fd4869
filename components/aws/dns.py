"""Route53: the DNS-01 policy for cert-manager, scoped to one hosted zone, and alias records that
point hosts at the NLBs the load balancer controller created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws


def dns01_policy(zone_id: str) -> dict[str, Any]:
    """What cert-manager's Route53 solver needs with ``hostedZoneID`` set: watch its changes, read the
    zone, and write only ``_acme-challenge`` TXT records in it."""
    zone = f"arn:aws:route53:::hostedzone/{zone_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*"},
            {"Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zone},
            {
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": zone,
                "Condition": {
                    "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]},
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]
                    },
                },
            },
        ],
    }


@dataclass(frozen=True)
class DnsRecordsArgs:
    zone_id: str
    """Route53 hosted zone that holds the hosts."""
    targets: Mapping[str, pulumi.Input[str]]
    """Host -> NLB DNS name (``status.loadBalancer.ingress[0].hostname`` of its Service)."""


class DnsRecords(pulumi.ComponentResource):
    def __init__(self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:DnsRecords", name, None, opts)
        # Alias A records (they work at the zone apex, unlike a CNAME) need the NLBs' own hosted zone.
        nlb_zone = aws.lb.get_hosted_zone_id_output(
            load_balancer_type="network", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        records = {
            host: aws.route53.Record(
                f"{name}-{host}", zone_id=args.zone_id, name=host, type="A",
                aliases=[{"name": target, "zone_id": nlb_zone.id, "evaluate_target_health": True}],
                opts=pulumi.ResourceOptions(parent=self))
            for host, target in sorted(args.targets.items())
        }
        self.register_outputs({"records": {host: r.fqdn for host, r in records.items()}})
