"""EKS config: defaults, the pod-capacity rule, and every invalid config with its exact one-line message."""

import pytest

from stacks.config import ConfigError, load
from stacks.config.eks import LB_NAME_MAX, MAX_PODS, check_name, default_name, load_balancer_names, pods_needed

# The relay's TCP (WebSocket) and UDP (QUIC) 443 share one NLB listener on EKS: one container port.
BASE = {"cloud": "eks", "domain": "quic.example.com", "relay": {"webPort": 4443},
        "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]}}
ACME = {"environment": "production", "email": "ops@example.com", "challenge": "dns01"}
ROUTE53 = {"provider": "route53", "zone": "Z0123456789ABCDEFGHIJ"}


def config(**sections):
    eks = {**BASE["eks"], **sections.pop("eks", {})}
    return {**BASE, **sections, "eks": eks}


def test_defaults():
    s = load(config())
    eks = s.cluster
    assert (eks.kubernetes_version, eks.zones, eks.nat_gateways, eks.ip_family) == ("1.35", 2, "single", "ipv4")
    assert (eks.nodes.instance_type, eks.nodes.desired_size, eks.nodes.min_size, eks.nodes.max_size) == ("t3.medium", 3, 2, 4)
    assert eks.public_access_cidrs == ["203.0.113.7/32"] and not eks.allow_open_admin and eks.admins == [] and eks.vpc_cidr == "10.0.0.0/16"
    assert s.profile.managed and not s.profile.shared_address and s.envoy_public_port == 443


def test_default_nodes_hold_the_default_stack_with_room():
    """3 x t3.medium = 51 pod slots: 9 DaemonSet pods, 10 system, 2 ingress, relay, page, 10 Envoy + 3 surge."""
    s = load(config())
    needed, detail = pods_needed(s)
    assert needed == 9 + 10 + 2 + 1 + 1 + 13
    assert "13 Envoy" in detail
    assert 3 * MAX_PODS["t3.medium"] - needed >= 10


def test_load_balancer_names_fit_the_nlb_limit():
    names = load_balancer_names(default_name("eks"))
    assert names == {"ingress": "quicstack-eks-ingress", "relay": "quicstack-eks-relay", "envoy": "quicstack-eks-envoy",
                     "gateway": "quicstack-eks-gateway"}
    check_name("a" * 24, derived=False)  # 24 + len("-ingress") == 32
    assert max(len(n) for n in load_balancer_names("a" * 24).values()) == LB_NAME_MAX


def test_derived_name_that_is_too_long():
    with pytest.raises(ConfigError) as err:
        check_name(default_name("Production_Europe.West"), derived=True)
    assert str(err.value) == (
        "quicstack:eks.name: is unset and the name derived from the stack, 'quicstack-production-europe-west', makes the load "
        "balancer name 'quicstack-production-europe-west-ingress' 40 characters long; NLB names are at most 32 (use at most 24 characters)")


def test_an_open_endpoint_only_when_asked_for():
    s = load(config(eks={"publicAccessCidrs": ["0.0.0.0/0"], "allowOpenAdmin": True}))
    assert s.cluster.public_access_cidrs == ["0.0.0.0/0"]


def test_unknown_instance_types_are_not_capacity_checked():
    s = load(config(eks={"nodes": {"instanceType": "r6i.large", "desiredSize": 1, "minSize": 1}}))
    assert s.cluster.nodes.instance_type not in MAX_PODS


CASES = [
    (config(acme=ACME),
     "quicstack:dns.zone: is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts"),
    (config(acme=ACME, dns={"provider": "clouddns", "zone": "quic-example", "project": "quicstack-demo"}),
     "quicstack:dns.provider: 'clouddns' is not available on a eks stack (allowed: none, route53)"),
    (config(acme=ACME, dns={**ROUTE53, "zone": "quic.example.com"}),
     "quicstack:dns.zone: 'quic.example.com' is not a Route53 hosted-zone ID such as Z0123456789ABCDEFGHIJ "
     "(aws route53 list-hosted-zones-by-name --dns-name <domain>)"),
    (config(acme={**ACME, "challenge": "http01"}, dns=ROUTE53),
     "quicstack:acme.relayChallenge: 'http01' is not possible here: the relay has its own load balancer with no TCP 80 behind it; "
     "use dns01 (or a cluster where the relay shares the ingress address)"),
    (config(eks={"ipFamily": "ipv6"}),
     "quicstack:eks.ipFamily: 'ipv6' is not possible with the Envoy demo: NLB QUIC listeners reject dual-stack load balancers; use ipv4"),
    (config(eks={"ipFamily": "ipv6"}, envoyDemo={"enabled": False}),
     "quicstack:eks.ipFamily: 'ipv6' is not supported: this stack builds an IPv4 VPC and cluster; use ipv4"),
    (config(eks={"vpcCidr": "fd00:10::/56"}),
     "quicstack:eks.vpcCidr: 'fd00:10::/56' is not an IPv4 block from /16 to /20 (the VPC is IPv4 only, and pods take their addresses from it)"),
    (config(eks={"vpcCidr": "10.0.0.0/24"}),
     "quicstack:eks.vpcCidr: '10.0.0.0/24' is not an IPv4 block from /16 to /20 (the VPC is IPv4 only, and pods take their addresses from it)"),
    (config(eks={"zones": 1}), "quicstack:eks.zones: 1 is not greater than or equal to 2"),
    (config(eks={"zones": 4}), "quicstack:eks.zones: 4 is not less than or equal to 3"),
    (config(eks={"name": "quicstack-production-eu-west"}),
     "quicstack:eks.name: 'quicstack-production-eu-west' is too long: it makes the load balancer name "
     "'quicstack-production-eu-west-ingress' 36 characters long; NLB names are at most 32 (use at most 24 characters)"),
    (config(eks={"name": "Quic_Stack"}),
     "quicstack:eks.name: 'Quic_Stack' is not a name of lower-case letters, digits and '-' that starts with a letter"),
    (config(eks={"region": "Ireland"}), "quicstack:eks.region: 'Ireland' is not an AWS region name such as eu-west-1"),
    (config(eks={"region": "cn-north-1"}),
     "quicstack:eks.region: 'cn-north-1' is outside the aws partition: the vendored controller IAM policy and the managed-policy ARNs are for commercial regions"),
    (config(eks={"kubernetesVersion": "1.29"}),
     "quicstack:eks.kubernetesVersion: '1.29' is older than 1.31, the oldest release this project's manifests are validated against"),
    (config(eks={"kubernetesVersion": "latest"}), "quicstack:eks.kubernetesVersion: 'latest' is not a Kubernetes minor version such as 1.35"),
    ({**BASE, "eks": {"region": "eu-west-1"}}, "quicstack:eks.publicAccessCidrs: is required"),
    (config(eks={"publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"]}),
     "quicstack:eks.publicAccessCidrs: '0.0.0.0/0' opens the Kubernetes API to the whole internet: list your own addresses, "
     "or set eks.allowOpenAdmin true to accept that"),
    (config(eks={"publicAccessCidrs": []}),
     "quicstack:eks.publicAccessCidrs: is empty: give at least one IPv4 block, or the API endpoint is unreachable for Pulumi"),
    (config(eks={"publicAccessCidrs": ["203.0.113.0/24", "2001:db8::/32"]}),
     "quicstack:eks.publicAccessCidrs.1: '2001:db8::/32' is not an IPv4 block (EKS public endpoint access takes IPv4 only)"),
    (config(eks={"admins": ["alice"]}),
     "quicstack:eks.admins.0: 'alice' is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/Admin"),
    (config(eks={"nodes": {"instanceType": "t3.small", "desiredSize": 2}}),
     "quicstack:eks.nodes.desiredSize: 2 is too few: 2 x t3.small hold 22 pods, the stack runs 33 (6 DaemonSet (3 per node), 10 system, 2 ingress, "
     "1 relay, 1 web, 13 Envoy); add nodes or pick a larger instance type"),
    (config(eks={"nodes": {"desiredSize": 5}}), "quicstack:eks.nodes.desiredSize: 5 is outside minSize 2 to maxSize 4"),
    (config(eks={"nodes": {"instanceType": "m7g.large"}}),
     "quicstack:eks.nodes.instanceType: 'm7g.large' is an Arm (Graviton) type; the nodes run the AL2023 x86_64 AMI"),
    (config(eks={"logRetentionDays": 10}),
     "quicstack:eks.logRetentionDays: 10 is not a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
     "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)"),
    (config(relay={"webPort": 4480, "replicas": 1}),
     "quicstack:relay.webPort: 4480 is not relay.quicPort (4443): on EKS TCP and UDP 443 of the relay share one NLB listener and target "
     "group, which forward both to one container port; set both to the same port"),
    (config(relay={"websocket": True}),
     "quicstack:relay.websocket: true is not possible with 2 relays on their own load balancer: the relay's one TLS web listener carries "
     "the peer links there; set relay.replicas 1 or relay.websocket false"),
    (config(ingress={"relayUdp": True}),
     "quicstack:ingress.relayUdp: true is not possible on eks: it needs one LoadBalancer Service with TCP and UDP (mixed protocol), "
     "which this cluster does not support"),
    ({**config(), "gke": {"project": "quicstack-demo", "region": "europe-west1",
                           "adminCidrs": ["203.0.113.7/32"]}},
     "quicstack:gke: is set, but quicstack:cloud is 'eks' (remove the section or change cloud)"),
]


@pytest.mark.parametrize("raw,message", CASES, ids=[f"{i}-{m.split(':')[1]}" for i, (_, m) in enumerate(CASES)])
def test_invalid_eks_config(raw, message):
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == message


def test_every_case_is_otherwise_valid():
    """Each case differs from a loadable config by its one mistake (so the message is about that mistake)."""
    load(config())
    load(config(acme=ACME, dns=ROUTE53))
    load(config(eks={"ipFamily": "ipv4"}, envoyDemo={"enabled": False}))
    load(config(eks={"nodes": {"desiredSize": 4}}))
    load(config(eks={"nodes": {"instanceType": "t3.small", "desiredSize": 3, "maxSize": 3}}, envoyDemo={"replicas": 2}))
