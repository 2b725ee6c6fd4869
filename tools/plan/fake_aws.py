"""Computed outputs and invoke results that the mocks return for AWS resources (documentation-range values)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Callable

ACCOUNT = "123456789012"
REGION = "eu-west-1"
# Route53 hosted zone of NLBs in eu-west-1 (what aws.lb.get_hosted_zone_id returns there).
NLB_ZONE = "Z2IFOLAFXWLO4F"
_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n").decode()


def _suffix(inputs: dict) -> str:
    """A stable stand-in for the random suffix of an auto-named resource."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _iam(kind: str) -> Callable[[dict], dict]:
    def outputs(inputs: dict) -> dict:
        name = inputs.get("name") or f"mock-{_suffix(inputs)}"
        return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"}
    return outputs


def _cluster(inputs: dict) -> dict:
    name = inputs["name"]
    return {
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
        "endpoint": f"https://0123456789ABCDEF0123456789ABCDEF.gr7.{REGION}.eks.amazonaws.com",
        "certificateAuthority": {"data": _CA},
        "status": "ACTIVE",
        "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": "sg-0123456789abcdef0"},
    }


# resource type token -> function(inputs) -> outputs the provider would compute
COMPUTED: dict[str, Callable[[dict], dict]] = {
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:eks/cluster:Cluster": _cluster,
    "aws:eks/nodeGroup:NodeGroup": lambda i: {
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/mock/{_suffix(i)}",
        "status": "ACTIVE",
    },
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": lambda i: {"associationId": f"a-{_suffix(i)}"},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda i: {"latestVersion": 1},
    "aws:ec2/eip:Eip": lambda i: {"publicIp": "198.51.100.10"},
    "aws:route53/record:Record": lambda i: {"fqdn": i["name"]},
}

# invoke token -> function(args) -> result
CALLS: dict[str, Callable[[dict], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda a: {
        "names": [f"{REGION}{z}" for z in "abc"], "zoneIds": [f"euw1-az{i}" for i in (1, 2, 3)]},
    "aws:eks/getAddonVersion:getAddonVersion": lambda a: {
        "addonName": a["addonName"], "kubernetesVersion": a["kubernetesVersion"], "version": "v0.0.0-eksbuild.1"},
    "aws:lb/getHostedZoneId:getHostedZoneId": lambda a: {"id": NLB_ZONE},
}
