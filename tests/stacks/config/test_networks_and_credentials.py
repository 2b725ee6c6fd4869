"""Configs that planned but should not: networks below the platform's minimum, public ranges used as private
networks, and credentials pasted into plain config. Each is one line naming the key (the expected numbers come
from the cloud documentation cited in stacks/config/networks.py, not from the code)."""

import pytest

from stacks.config import ConfigError, load

GKE = {"domain": "example.com", "cloud": "gke",
       "gke": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b",
               "adminCidrs": ["203.0.113.7/32"]}}
K3S = {"domain": "example.com", "cloud": "k3s",
       "k3s": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b",
               "adminCidrs": ["203.0.113.7/32"]}}
EKS = {"cloud": "eks", "domain": "quic.example.com", "relay": {"webPort": 4443},
       "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]}}
PRIVATE = "use a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"


def with_(base: dict, section: str, **values) -> dict:
    return {**base, section: {**base[section], **values}}


def refused(raw: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load(raw)
    return str(err.value)


@pytest.mark.parametrize("raw, message", [
    # GKE's default 110 Pods per node take a /24 each: a /25 holds none, a /24 one node of the default three.
    (with_(GKE, "gke", podCidr="10.24.0.0/25"),
     "quicstack:gke.podCidr: '10.24.0.0/25' holds 0 node Pod block(s) of /24 (GKE takes one per node for up to 110 "
     "Pods), but the cluster may have 3 node(s): use a /22 or larger"),
    (with_(GKE, "gke", podCidr="10.24.0.0/24"),
     "quicstack:gke.podCidr: '10.24.0.0/24' holds 1 node Pod block(s) of /24 (GKE takes one per node for up to 110 "
     "Pods), but the cluster may have 3 node(s): use a /22 or larger"),
    # A regional pool of up to 3 nodes per zone in 3 zones: 9 nodes.
    (with_(GKE, "gke", zone=None, regional=True, podCidr="10.24.0.0/21"),
     "quicstack:gke.podCidr: '10.24.0.0/21' holds 8 node Pod block(s) of /24 (GKE takes one per node for up to 110 "
     "Pods), but the cluster may have 9 node(s): use a /20 or larger"),
    # GCP's smallest subnet is a /29; a /29 keeps 4 addresses for GCP, leaving 4 for nodes.
    (with_(GKE, "gke", subnetCidr="10.20.0.0/30"), "quicstack:gke.subnetCidr: '10.20.0.0/30' is smaller than GCP's "
     "smallest subnet, a /29"),
    (with_(GKE, "gke", subnetCidr="10.20.0.0/29", nodePool={"maxNodes": 5}),
     "quicstack:gke.subnetCidr: '10.20.0.0/29' has 4 addresses for nodes (4 are the cloud's), fewer than the 5 nodes "
     "the node pool may grow to"),
    (with_(K3S, "k3s", subnetCidr="10.10.0.0/30"), "quicstack:k3s.subnetCidr: '10.10.0.0/30' is smaller than GCP's "
     "smallest subnet, a /29"),
    (with_(K3S, "k3s", podCidr="10.42.0.0/25"), "quicstack:k3s.podCidr: '10.42.0.0/25' holds 0 node Pod block(s) of "
     "/24 (k3s takes one per node), but the cluster may have 1 node(s): use a /24 or larger"),
])
def test_networks_below_the_platforms_minimum(raw, message):
    assert refused(raw) == message


def test_the_smallest_accepted_networks_plan():
    load(with_(GKE, "gke", subnetCidr="10.20.0.0/29", podCidr="10.24.0.0/22", nodePool={"maxNodes": 4}))
    load(with_(K3S, "k3s", subnetCidr="10.10.0.0/29", podCidr="10.42.0.0/24"))


@pytest.mark.parametrize("raw, message", [
    (with_(GKE, "gke", podCidr="8.8.0.0/14"),
     f"quicstack:gke.podCidr: '8.8.0.0/14' holds 262,144 public internet addresses, but is the Pod range: {PRIVATE}"),
    (with_(GKE, "gke", serviceCidr="34.118.224.0/20"), "quicstack:gke.serviceCidr: '34.118.224.0/20' holds 4,096 "
     f"public internet addresses, but is the Service range: {PRIVATE}"),
    (with_(GKE, "gke", subnetCidr="11.0.0.0/20"), "quicstack:gke.subnetCidr: '11.0.0.0/20' holds 4,096 public "
     f"internet addresses, but is the cluster's subnet (node addresses): {PRIVATE}"),
    (with_(K3S, "k3s", podCidr="172.32.0.0/16"), "quicstack:k3s.podCidr: '172.32.0.0/16' holds 65,536 public "
     f"internet addresses, but is the k3s Pod network: {PRIVATE}"),
    (with_(EKS, "eks", vpcCidr="52.0.0.0/16"), "quicstack:eks.vpcCidr: '52.0.0.0/16' holds 65,536 public internet "
     f"addresses, but is the VPC (nodes and Pods take their addresses from it): {PRIVATE}"),
])
def test_public_ranges_as_private_networks(raw, message):
    assert refused(raw) == message


def test_shared_address_space_is_private_enough():
    load(with_(GKE, "gke", podCidr="100.64.0.0/14"))


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: 'https://10.0.0.1:6443'}
  name: k3s
users:
- name: admin
  user:
    token: K10a1b2c3d4e5f6::server:0123456789abcdef
"""
PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBs...\n-----END EC PRIVATE KEY-----\n"
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJwdXQiOlsiYW5vbiJdfQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
STORED = ("in plain stack config, which is committed and shown by `pulumi config`: remove it (and rotate it if the "
          "file was shared); ")
ELSEWHERE = "keep it in a file or a Kubernetes Secret outside the stack config, and name that"


@pytest.mark.parametrize("raw, message", [
    ({"domain": "example.com", "existing": {"kubeconfig": KUBECONFIG}},
     f"quicstack:existing.kubeconfig: holds a kubeconfig with a credential (token, password or client key) {STORED}"
     "give the path of the kubeconfig file instead (kept outside the repository, mode 0600)"),
    ({"domain": "example.com", "envoyDemo": {"h3Body": PEM}},
     f"quicstack:envoyDemo.h3Body: holds a PEM private key {STORED}{ELSEWHERE}"),
    ({"domain": "example.com", "relay": {"jwtKeySecret": JWT}},
     f"quicstack:relay.jwtKeySecret: holds a bearer token (JWT) {STORED}{ELSEWHERE}"),
    ({"domain": "example.com",
      "k3s": {"adminCidrs": ["10.0.0.0/8", '{"type": "service_account", "private_key": "x"}']}},
     f"quicstack:k3s.adminCidrs.1: holds a service account key (JSON with private_key) {STORED}{ELSEWHERE}"),
])
def test_credentials_in_plain_config(raw, message):
    text = refused(raw)
    assert text == message
    assert "K10a1b2c3" not in text and "MHcC" not in text and JWT not in text


def test_a_kubeconfig_path_or_one_without_credentials_is_fine():
    load({"domain": "example.com", "existing": {"kubeconfig": "~/.kube/k3s.kubeconfig"}})
    load({"domain": "example.com", "envoyDemo": {"h3Body": "users: 3\nkind: demo\ntoken: the word"}})
