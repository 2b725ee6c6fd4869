"""Pure helpers of the GCP components: kubeconfig rewriting and stack-derived names."""

import re

import yaml

from components.gcp.gke import kubeconfig
from components.gcp.k3s_access import k3s_kubeconfig
from components.gcp.names import account_id
from tools.plan.fake_gcp import K3S_YAML

ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")  # GCP's rule for service account IDs


def test_k3s_kubeconfig_points_at_the_static_address():
    doc = yaml.safe_load(k3s_kubeconfig(K3S_YAML, "203.0.113.10", "quicstack-k3s"))
    original = yaml.safe_load(K3S_YAML)
    assert doc["clusters"][0]["cluster"]["server"] == "https://203.0.113.10:6443"
    assert doc["clusters"][0]["cluster"]["certificate-authority-data"] == original["clusters"][0]["cluster"]["certificate-authority-data"]
    assert doc["users"][0]["user"] == original["users"][0]["user"]
    assert doc["current-context"] == "quicstack-k3s"
    assert doc["contexts"] == [{"name": "quicstack-k3s", "context": {"cluster": "quicstack-k3s", "user": "quicstack-k3s"}}]
    assert "127.0.0.1" not in k3s_kubeconfig(K3S_YAML, "203.0.113.10", "quicstack-k3s")


def test_account_ids_are_valid_and_distinct():
    stacks = ["k3s", "gke", "Prod_EU", "a-very-long-stack-name-for-production", "a-very-long-stack-name-for-production-2", "-"]
    ids = [account_id(stack, purpose) for stack in stacks for purpose in ("vm", "nodes", "dns01")]
    assert all(ACCOUNT_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert account_id("k3s", "vm") == "qs-k3s-vm"


def test_gke_kubeconfig_uses_the_auth_plugin_and_stores_no_token():
    doc = yaml.safe_load(kubeconfig("gke_p_z_c", "203.0.113.250", "Q0E="))
    (cluster,) = doc["clusters"]
    assert cluster["cluster"] == {"server": "https://203.0.113.250", "certificate-authority-data": "Q0E="}
    (user,) = doc["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert doc["current-context"] == "gke_p_z_c" and doc["contexts"][0]["context"] == {"cluster": "gke_p_z_c", "user": "gke_p_z_c"}
