"""Control planes are reachable only from the configured admin blocks (issue 16), as k3s's SSH and API are."""

from tests.conftest import stack_config


def test_gke_control_plane_admits_only_the_admin_blocks(plan):
    cluster = plan("gke").one("gcp:container/cluster:Cluster")["inputs"]
    blocks = [b["cidrBlock"] for b in cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"]]
    assert blocks == stack_config("gke")["quicstack:gke"]["adminCidrs"]
    assert "0.0.0.0/0" not in blocks


def test_eks_endpoint_admits_only_the_admin_blocks(plan):
    vpc = plan("eks").one("aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]
    assert vpc["publicAccessCidrs"] == stack_config("eks")["quicstack:eks"]["publicAccessCidrs"]
    assert "0.0.0.0/0" not in vpc["publicAccessCidrs"]

