"""The platform in every planned stack: pinned releases, their values, and the issuer chain."""

import pytest

from tests.conftest import STACKS, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"


def releases(p):
    return {r["inputs"]["name"]: r for r in p.of_type(RELEASE)}


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_nginx_is_the_final_pinned_chart(plan, stack):
    p = plan(stack)
    ingress = releases(p)["ingress-nginx"]["inputs"]
    assert (ingress["chart"], ingress["version"]) == ("ingress-nginx", "4.15.1")
    assert ingress["repositoryOpts"]["repo"] == "https://kubernetes.github.io/ingress-nginx"
    controller = ingress["values"]["controller"]
    assert controller["allowSnippetAnnotations"] is False
    assert controller["service"]["externalTrafficPolicy"] == "Local"
    assert {"requests", "limits"} <= controller["resources"].keys()


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_pinned_with_crds(plan, stack):
    cm = releases(plan(stack))["cert-manager"]["inputs"]
    assert (cm["chart"], cm["version"]) == ("oci://quay.io/jetstack/charts/cert-manager", "v1.21.1")
    assert cm["values"]["crds"] == {"enabled": True}
    assert "installCRDs" not in cm["values"]
    assert cm["values"]["startupapicheck"]["enabled"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_releases_install_in_parallel_and_issuers_wait_for_cert_manager(plan, stack):
    p = plan(stack)
    rel = releases(p)
    ingress, cm = rel["ingress-nginx"], rel["cert-manager"]
    assert cm["urn"] not in p.depends_on(ingress["urn"]) and ingress["urn"] not in p.depends_on(cm["urn"])
    for issuer in p.of_type(CLUSTER_ISSUER):
        assert cm["urn"] in p.depends_on(issuer["urn"]), issuer["name"]
    for cert in p.of_type("kubernetes:cert-manager.io/v1:Certificate"):
        assert cm["urn"] in p.depends_on(cert["urn"]), cert["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_replicas_follow_the_cloud(plan, stack):
    """Managed clouds: 2 replicas with PodDisruptionBudgets; k3s and existing clusters: 1."""
    managed = stack_config(stack).get("quicstack:cloud", "existing") in ("gke", "eks")
    rel = releases(plan(stack))
    cm = rel["cert-manager"]["inputs"]["values"]
    want = 2 if managed else 1
    assert cm["replicaCount"] == cm["webhook"]["replicaCount"] == want
    assert cm["podDisruptionBudget"]["enabled"] is cm["webhook"]["podDisruptionBudget"]["enabled"] is managed
    assert rel["ingress-nginx"]["inputs"]["values"]["controller"]["replicaCount"] == want


def test_local_stack_has_the_self_signed_ca_chain(plan):
    p = plan("local")
    issuers = {m["metadata"]["name"]: m for m in p.objects("ClusterIssuer")}
    assert issuers["quicstack-selfsigned"]["spec"] == {"selfSigned": {}}
    root = p.object("Certificate", "quicstack-root-ca")
    assert root["spec"]["isCA"] is True
    assert root["spec"]["issuerRef"]["name"] == "quicstack-selfsigned"
    assert issuers["quicstack-ca"]["spec"]["ca"]["secretName"] == root["spec"]["secretName"]
    assert p.outputs["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")
