"""The kubeconfig the EKS layer builds, and the NLB exposures it hands to the workloads."""

import json

import yaml

from components.aws.cluster import kubeconfig
from components.aws.load_balancer_controller import nlb

PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"


def test_kubeconfig_mints_tokens_with_the_aws_cli():
    raw = kubeconfig("quicstack-eks", "eu-west-1", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "Q0E=")
    # kubectl and client-go read YAML; JSON is YAML, so one parser answers for both.
    config = yaml.safe_load(raw)
    assert config == json.loads(raw)
    (user,) = config["users"]
    exec_ = user["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1" and exec_["command"] == "aws"
    args = exec_["args"]
    assert args[args.index("--region") + 1] == "eu-west-1"
    assert args[args.index("--cluster-name") + 1] == "quicstack-eks"
    assert ["eks", "get-token"] == args[2:4]
    assert "token" not in user["user"] and "client-key-data" not in user["user"]
    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {"server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "certificate-authority-data": "Q0E="}
    assert config["current-context"] == "quicstack-eks"


def test_only_the_quic_nlb_drops_its_security_group():
    """QUIC listeners are refused on NLBs with security groups; the other NLBs keep the controller's default."""
    quic, tcp_udp, plain = nlb("a-envoy", quic_port=8443), nlb("a-relay", tcp_udp=True), nlb("a-ingress")
    assert quic.annotations[f"{PREFIX}quic-enabled-ports"] == "8443"
    assert quic.annotations[f"{PREFIX}disable-nlb-sg"] == "true"
    assert quic.annotations[f"{PREFIX}enable-tcp-udp-listener"] == "true"
    assert tcp_udp.annotations[f"{PREFIX}enable-tcp-udp-listener"] == "true"
    assert not {f"{PREFIX}quic-enabled-ports", f"{PREFIX}disable-nlb-sg"} & (tcp_udp.annotations.keys() | plain.annotations.keys())
    for exposure, name in ((quic, "a-envoy"), (tcp_udp, "a-relay"), (plain, "a-ingress")):
        assert exposure.annotations[f"{PREFIX}name"] == name
        assert exposure.spec() == {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "loadBalancerClass": "service.k8s.aws/nlb"}
