"""An IPv4 VPC for EKS: per zone a public subnet (load balancers, NAT) and a private subnet (nodes,
pods), an internet gateway, one NAT gateway or one per zone, and the route tables.

IPv4 only: NLB QUIC listeners reject dual-stack load balancers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

# The AWS Load Balancer Controller places internet-facing NLBs in subnets tagged `elb` and internal
# ones in subnets tagged `internal-elb`.
PUBLIC_SUBNET_TAGS = {"kubernetes.io/role/elb": "1"}
PRIVATE_SUBNET_TAGS = {"kubernetes.io/role/internal-elb": "1"}


@dataclass(frozen=True)
class SubnetPair:
    zone: str
    private: str
    public: str


def subnet_plan(vpc_cidr: str, zones: Sequence[str]) -> list[SubnetPair]:
    """Carve the VPC into quarters: one per zone (up to 3) for private subnets, where the VPC CNI takes
    pod addresses, and the last quarter cut into sixteenths for the small public subnets."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    if len(zones) > len(quarters) - 1:
        raise ValueError(f"{vpc_cidr} has room for {len(quarters) - 1} zones, not {len(zones)}")
    publics = list(quarters[-1].subnets(prefixlen_diff=4))
    return [SubnetPair(zone, str(quarters[i]), str(publics[i])) for i, zone in enumerate(zones)]


@dataclass(frozen=True)
class VpcArgs:
    name: str
    """Prefix of the `Name` tags (the cluster name), so the console shows what belongs together."""
    cidr: str
    """IPv4 block of the VPC."""
    zones: Sequence[str]
    """Availability zones, one public and one private subnet each."""
    nat_per_zone: bool
    """One NAT gateway per zone instead of one for all."""


class Vpc(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:Vpc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tag = args.name
        vpc = aws.ec2.Vpc(f"{name}", cidr_block=args.cidr, enable_dns_support=True, enable_dns_hostnames=True,
                          tags={"Name": tag}, opts=child)
        # Without rules, nothing that lands in the default security group by accident can talk.
        aws.ec2.DefaultSecurityGroup(f"{name}-default", vpc_id=vpc.id, ingress=[], egress=[], opts=child)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": tag}, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            tags={"Name": f"{tag}-public"}, opts=child)

        publics, privates, nats = [], [], []
        for pair in subnet_plan(args.cidr, args.zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{pair.zone}", vpc_id=vpc.id, cidr_block=pair.public, availability_zone=pair.zone,
                # NLBs and NAT gateways bring their own public addresses; nothing else gets one.
                map_public_ip_on_launch=False, tags={"Name": f"{tag}-public-{pair.zone}", **PUBLIC_SUBNET_TAGS},
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{pair.zone}", subnet_id=public.id,
                                          route_table_id=public_routes.id, opts=child)
            if args.nat_per_zone or not nats:
                nats.append(self._nat(f"{name}-nat-{pair.zone}", f"{tag}-nat-{pair.zone}", public, gateway))
            private = aws.ec2.Subnet(
                f"{name}-private-{pair.zone}", vpc_id=vpc.id, cidr_block=pair.private, availability_zone=pair.zone,
                tags={"Name": f"{tag}-private-{pair.zone}", **PRIVATE_SUBNET_TAGS}, opts=child)
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{pair.zone}", vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[-1].id}],
                tags={"Name": f"{tag}-private-{pair.zone}"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{pair.zone}", subnet_id=private.id,
                                          route_table_id=private_routes.id, opts=child)
            publics.append(public.id)
            privates.append(private.id)

        self.vpc_id = vpc.id
        self.public_subnet_ids = publics
        self.private_subnet_ids = privates
        self.register_outputs({"vpcId": vpc.id, "publicSubnetIds": publics, "privateSubnetIds": privates})

    def _nat(self, name: str, tag: str, subnet: aws.ec2.Subnet, gateway: aws.ec2.InternetGateway) -> aws.ec2.NatGateway:
        address = aws.ec2.Eip(name, domain="vpc", tags={"Name": tag}, opts=pulumi.ResourceOptions(parent=self))
        return aws.ec2.NatGateway(name, allocation_id=address.id, subnet_id=subnet.id, tags={"Name": tag},
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]))
