"""The VPC's address plan."""

import ipaddress
import itertools

import pytest

from components.aws.vpc import subnet_plan

ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.20.0.0/18", "192.168.16.0/20"])
@pytest.mark.parametrize("zones", [2, 3])
def test_subnets_fit_the_vpc_without_overlap(cidr, zones):
    vpc = ipaddress.IPv4Network(cidr)
    plan = subnet_plan(cidr, ZONES[:zones])
    assert [p.zone for p in plan] == ZONES[:zones]
    nets = [ipaddress.IPv4Network(n) for p in plan for n in (p.private, p.public)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(nets, 2))
    # Pods take their addresses from the private subnets: a quarter of the VPC each.
    assert all(ipaddress.IPv4Network(p.private).num_addresses == vpc.num_addresses // 4 for p in plan)
    # A /20 VPC still leaves room for an NLB and a NAT gateway per public subnet (AWS keeps 5 addresses).
    assert all(ipaddress.IPv4Network(p.public).num_addresses - 5 >= 50 for p in plan)


def test_the_plan_is_stable():
    """Subnets never move when the config does not change (moving one replaces it and everything in it)."""
    assert subnet_plan("10.0.0.0/16", ZONES[:2]) == subnet_plan("10.0.0.0/16", ZONES[:2])
    assert subnet_plan("10.0.0.0/16", ZONES)[:2] == subnet_plan("10.0.0.0/16", ZONES[:2])


def test_four_zones_do_not_fit():
    with pytest.raises(ValueError):
        subnet_plan("10.0.0.0/16", [*ZONES, "eu-west-1d"])
