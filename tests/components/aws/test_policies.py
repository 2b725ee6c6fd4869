"""The IAM documents: the vendored controller policy, the Route53 DNS-01 policy, the trust policies."""

import hashlib

import pytest

from components.aws import load_balancer_controller as lbc
from components.aws.dns import dns01_policy
from components.aws.iam import trust_policy
from components.aws.pod_identity import POD_IDENTITY_ACTIONS, POD_IDENTITY_SERVICE, scoped_trust_policy
from tests.components.aws.iam_eval import allows

ACCOUNT = "123456789012"
TARGET_GROUP = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/k8s-quicexam-envoy-0123456789/0123456789abcdef"
LOAD_BALANCER = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/net/quicstack-eks-envoy/0123456789abcdef"
SECURITY_GROUP = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-0123456789abcdef0"
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
ZONE = "Z0123456789ABCDEFGHIJ"


def test_vendored_policy_is_the_published_file():
    """shared/research/aws.md records the sha256 of docs/install/iam_policy.json (unchanged v2.13.0 to v3.5.0)."""
    digest = hashlib.sha256(lbc.POLICY_FILE.read_bytes()).hexdigest()
    assert digest.startswith("16f232c9") and digest.endswith("a20a6a")
    assert lbc.POLICY_FILE.name == f"aws-load-balancer-controller-v{lbc.CHART_VERSION}.json"
    assert len(lbc.controller_policy()["Statement"]) == 16


@pytest.mark.parametrize("action,resource,context", [
    # The controller creates the QUIC (TCP_QUIC) target group and listener, tagging both with its cluster.
    ("elasticloadbalancing:CreateTargetGroup", "*", {f"aws:RequestTag/{CLUSTER_TAG}": "quicstack-eks"}),
    ("elasticloadbalancing:CreateListener", LOAD_BALANCER, {}),
    ("elasticloadbalancing:AddTags", TARGET_GROUP,
     {"elasticloadbalancing:CreateAction": "CreateTargetGroup", f"aws:RequestTag/{CLUSTER_TAG}": "quicstack-eks"}),
    # Registering each pod IP with its QUIC server ID is RegisterTargets (QuicServerId is a field of it).
    ("elasticloadbalancing:RegisterTargets", TARGET_GROUP, {}),
    ("elasticloadbalancing:DeregisterTargets", TARGET_GROUP, {}),
    ("elasticloadbalancing:DescribeTargetHealth", "*", {}),
    # Without an NLB security group the controller opens the pods' own (ENI) security group to clients.
    ("ec2:DescribeNetworkInterfaces", "*", {}),
    ("ec2:AuthorizeSecurityGroupIngress", SECURITY_GROUP, {}),
    ("ec2:RevokeSecurityGroupIngress", SECURITY_GROUP, {}),
    # Teardown: it deletes what it tagged.
    ("elasticloadbalancing:DeleteLoadBalancer", LOAD_BALANCER, {f"aws:ResourceTag/{CLUSTER_TAG}": "quicstack-eks"}),
    ("elasticloadbalancing:DeleteTargetGroup", TARGET_GROUP, {f"aws:ResourceTag/{CLUSTER_TAG}": "quicstack-eks"}),
])
def test_controller_policy_grants_quic_target_registration(action, resource, context):
    assert allows(lbc.controller_policy(), action, resource, context)


@pytest.mark.parametrize("action,resource", [
    # Load balancers the controller did not tag are not its to delete or change.
    ("elasticloadbalancing:DeleteLoadBalancer", LOAD_BALANCER),
    ("elasticloadbalancing:ModifyTargetGroupAttributes", TARGET_GROUP),
    ("elasticloadbalancing:CreateLoadBalancer", "*"),
    ("iam:CreateRole", "*"),
])
def test_controller_policy_stays_within_its_own_resources(action, resource):
    assert not allows(lbc.controller_policy(), action, resource, {})


def test_dns01_policy_writes_only_challenge_records_in_its_zone():
    policy = dns01_policy(ZONE)
    zone = f"arn:aws:route53:::hostedzone/{ZONE}"
    challenge = {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                 "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.relay.quic.example.com"]}
    assert allows(policy, "route53:GetChange", "arn:aws:route53:::change/C0123456789ABC")
    assert allows(policy, "route53:ListResourceRecordSets", zone)
    assert allows(policy, "route53:ChangeResourceRecordSets", zone, challenge)
    # Not another zone, not another record type, not another name, and no zone listing.
    assert not allows(policy, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZOTHERZONE0123", challenge)
    assert not allows(policy, "route53:ChangeResourceRecordSets", zone, {**challenge, "route53:ChangeResourceRecordSetsRecordTypes": ["A"]})
    assert not allows(policy, "route53:ChangeResourceRecordSets", zone,
                      {**challenge, "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["quic.example.com"]})
    assert not allows(policy, "route53:ListHostedZones", "*")


def test_pod_identity_trust():
    doc = trust_policy(POD_IDENTITY_SERVICE, *POD_IDENTITY_ACTIONS)
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]


def test_evaluator_rejects_operators_it_does_not_model():
    with pytest.raises(AssertionError):
        allows({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}, "s3:GetObject", "*")


def test_pod_identity_trust_admits_only_one_cluster_namespace_and_service_account():
    arn = "arn:aws:eks:eu-west-1:111122223333:cluster/quicstack-eks"
    (statement,) = scoped_trust_policy(arn, "cert-manager", "cert-manager")["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    as_policy = {"Statement": [{**statement, "Resource": "*"}]}  # the evaluator checks action and conditions
    tags = {"aws:SourceAccount": "111122223333", "aws:RequestTag/eks-cluster-arn": arn,
            "aws:RequestTag/kubernetes-namespace": "cert-manager",
            "aws:RequestTag/kubernetes-service-account": "cert-manager"}
    for action in ("sts:AssumeRole", "sts:TagSession"):
        assert allows(as_policy, action, "*", tags)
    for key, other in [("aws:SourceAccount", "444455556666"),
                       ("aws:RequestTag/eks-cluster-arn", "arn:aws:eks:eu-west-1:111122223333:cluster/other"),
                       ("aws:RequestTag/kubernetes-namespace", "default"),
                       ("aws:RequestTag/kubernetes-service-account", "default")]:
        assert not allows(as_policy, "sts:AssumeRole", "*", {**tags, key: other}), key
    assert not allows(as_policy, "sts:AssumeRole", "*", {})
