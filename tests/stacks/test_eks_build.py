"""``stacks.eks.build`` in-process: what it hands up in ``Cluster``, and its Route53 records."""

import pulumi
import pytest

from components.cluster.contract import ExposeRequest, PublicEndpoint
from stacks.config import load
from tests.conftest import MONITOR
from tools.plan import fake_aws

HOSTS = {"quic.example.com": "k8s-ingress-0123456789.elb.eu-west-1.amazonaws.com",
         "relay.quic.example.com": "quicstack-test-relay-0123456789.elb.eu-west-1.amazonaws.com"}


def settings(**overrides):
    raw = {"cloud": "eks", "domain": "quic.example.com", "relay": {"webPort": 4443},
           "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]},
           "acme": {"environment": "production", "email": "ops@example.com", "challenge": "dns01"},
           "dns": {"provider": "route53", "zone": "Z0123456789ABCDEFGHIJ"}}
    return load({**raw, **overrides})


def build(s):
    """Run the cluster layer under the suite's mocks; return what it built and the new registrations."""
    from stacks import eks

    start = len(MONITOR.registrations)
    built = {}

    @pulumi.runtime.test
    def run():
        built["cluster"] = eks.build(s)
        built["cluster"].publish_records([PublicEndpoint(h, h.split(".")[0], pulumi.Output.from_input(t))
                                          for h, t in HOSTS.items()])

    run()
    return built["cluster"], MONITOR.registrations[start:]


@pytest.fixture(scope="module")
def built():
    return build(settings())


def test_records_alias_each_host_to_its_nlb(built):
    _, registrations = built
    records = {r.inputs["name"]: r for r in registrations if r.type == "aws:route53/record:Record"}
    assert sorted(records) == sorted(HOSTS)
    (provider,) = [r for r in registrations if r.type == "pulumi:providers:aws"]
    for host, record in records.items():
        assert record.inputs["zoneId"] == "Z0123456789ABCDEFGHIJ" and record.inputs["type"] == "A"
        assert record.inputs["aliases"] == [{"name": HOSTS[host], "zoneId": fake_aws.NLB_ZONE, "evaluateTargetHealth": True}]
        assert record.provider.startswith(provider.urn)


def test_load_balancer_and_platform_dependencies(built):
    cluster, _ = built
    types = sorted(r.pulumi_resource_type for r in cluster.load_balancer_dependencies)
    assert types == ["aws:eks/nodeGroup:NodeGroup", "aws:eks/podIdentityAssociation:PodIdentityAssociation",
                     "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "kubernetes:helm.sh/v3:Release"]
    assert cluster.platform_dependencies[0] is cluster.load_balancer_dependencies[0]
    # cert-manager starts after its DNS-01 role is attached and associated.
    assert sorted(r.pulumi_resource_type for r in cluster.platform_dependencies[1:]) == [
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert cluster.cert_manager_annotations == {}
    for endpoint in ("ingress", "relay", "envoy"):
        exposure = cluster.expose(ExposeRequest(endpoint))
        assert exposure.class_name == "service.k8s.aws/nlb" and exposure.address is None


@pytest.mark.parametrize("overrides", [
    {"dns": {"provider": "route53", "zone": "Z0123456789ABCDEFGHIJ", "records": False}},
    {"dns": {"provider": "none"}, "acme": {"environment": "selfsigned"}},
], ids=["records-off", "no-dns"])
def test_no_records_and_no_dns01_role_without_route53(overrides):
    cluster, registrations = build(settings(**overrides))
    assert cluster.write_records is None
    assert not [r for r in registrations if r.type == "aws:route53/record:Record"]
    if overrides["dns"]["provider"] == "none":
        assert len(cluster.platform_dependencies) == 1
        assert len([r for r in registrations if r.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"]) == 1
