"""The GKE stack as planned: cluster and node pool, one address for ingress and relay, identity, DNS, readiness."""

import pytest

from tests.conftest import stack_config

CONFIG = stack_config("gke")
PROJECT = CONFIG["quicstack:gke"]["project"]
RELEASE = "kubernetes:helm.sh/v3:Release"
RECORD = "gcp:dns/recordSet:RecordSet"
K8S_PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def gke(plan):
    return plan("gke")


def release(p, name):
    (r,) = [r for r in p.of_type(RELEASE) if r["inputs"]["name"] == name]
    return r


def address_urn(p, purpose):
    return next(r["urn"] for r in p.of_type("gcp:compute/address:Address") if r["inputs"]["description"] == f"quicstack {purpose} address")


def test_standard_cluster(gke):
    c = gke.one("gcp:container/cluster:Cluster")["inputs"]
    assert c["location"] == CONFIG["quicstack:gke"]["zone"]
    assert c["removeDefaultNodePool"] is True and c["deletionProtection"] is False
    assert c["releaseChannel"] == {"channel": "REGULAR"} and "enableAutopilot" not in c
    assert c["networkingMode"] == "VPC_NATIVE" and set(c["ipAllocationPolicy"]) == {"clusterSecondaryRangeName", "servicesSecondaryRangeName"}
    assert c["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert c["addonsConfig"]["httpLoadBalancing"] == {"disabled": False}
    ranges = {r["rangeName"] for r in gke.one("gcp:compute/subnetwork:Subnetwork")["inputs"]["secondaryIpRanges"]}
    assert {c["ipAllocationPolicy"]["clusterSecondaryRangeName"], c["ipAllocationPolicy"]["servicesSecondaryRangeName"]} == ranges


def test_node_pool_is_tuned_for_quic_and_runs_as_a_minimal_account(gke):
    pool = gke.one("gcp:container/nodePool:NodePool")["inputs"]
    node = pool["nodeConfig"]
    assert node["linuxNodeConfig"]["sysctls"] == {"net.core.rmem_max": "8388608", "net.core.wmem_max": "8388608"}
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert pool["autoscaling"]["minNodeCount"] <= pool["autoscaling"]["maxNodeCount"]
    grants = {r["inputs"]["role"] for r in gke.of_type("gcp:projects/iAMMember:IAMMember")
              if r["inputs"]["member"] == f"serviceAccount:{node['serviceAccount']}"}
    assert grants == {"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer"}


def test_ingress_and_relay_services_share_the_reserved_address(gke):
    controller = release(gke, "ingress-nginx")
    relay = gke.object("Service", "relay")
    assert relay["metadata"]["namespace"] == "moq"
    assert {p["protocol"] for p in relay["spec"]["ports"]} == {"UDP"}
    ingress_ip = controller["inputs"]["values"]["controller"]["service"]["loadBalancerIP"]
    assert relay["spec"]["type"] == "LoadBalancer" and relay["spec"]["loadBalancerIP"] == ingress_ip
    # Both come from the one reserved address, not from two that happen to look alike.
    reserved = address_urn(gke, "ingress")
    relay_resource = next(r for r in gke.of_type("kubernetes:core/v1:Service") if r["inputs"]["metadata"]["name"] == "relay")
    assert reserved in controller["dependencies"] and reserved in relay_resource["dependencies"]
    envoy = next(r for r in gke.of_type("kubernetes:core/v1:Service")
                 if r["inputs"]["spec"].get("type") == "LoadBalancer" and r["inputs"]["metadata"]["namespace"] == "quic-example")
    assert envoy["inputs"]["spec"]["loadBalancerIP"] != ingress_ip and address_urn(gke, "envoy") in envoy["dependencies"]


def test_dns_records_point_at_the_reserved_addresses(gke):
    domain = CONFIG["quicstack:domain"]
    ingress_ip = gke.object("Service", "relay")["spec"]["loadBalancerIP"]
    envoy_ip = next(s["spec"]["loadBalancerIP"] for s in gke.objects("Service") if s["metadata"]["namespace"] == "quic-example"
                    and s["spec"].get("type") == "LoadBalancer")
    records = {r["inputs"]["name"]: r for r in gke.of_type(RECORD)}
    assert {n: r["inputs"]["rrdatas"] for n, r in records.items()} == {
        f"{domain}.": [ingress_ip], f"relay.{domain}.": [ingress_ip], f"quic.{domain}.": [envoy_ip]}
    assert address_urn(gke, "envoy") in records[f"quic.{domain}."]["dependencies"]
    assert all(r["inputs"]["type"] == "A" and r["inputs"]["managedZone"] == CONFIG["quicstack:dns"]["zone"] for r in records.values())


def test_workload_identity_binds_the_service_account_cert_manager_runs_as(gke):
    cert_manager = release(gke, "cert-manager")
    namespace = cert_manager["inputs"]["namespace"]
    service_account = cert_manager["inputs"]["values"]["serviceAccount"]
    binding = gke.one("gcp:serviceaccount/iAMMember:IAMMember")["inputs"]
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[{namespace}/{service_account['name']}]"
    gsa_email = service_account["annotations"]["iam.gke.io/gcp-service-account"]
    assert binding["serviceAccountId"].endswith(f"/serviceAccounts/{gsa_email}")
    # The pool exists only with the cluster; cert-manager starts only once it may act.
    assert gke.one("gcp:container/cluster:Cluster")["urn"] in gke.depends_on(gke.one("gcp:serviceaccount/iAMMember:IAMMember")["urn"])
    assert gke.one("gcp:serviceaccount/iAMMember:IAMMember")["urn"] in gke.depends_on(cert_manager["urn"])


def test_dns01_rights_are_one_zones_records(gke):
    grant = gke.one("gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember")["inputs"]
    role = gke.one("gcp:projects/iAMCustomRole:IAMCustomRole")["inputs"]
    gsa = release(gke, "cert-manager")["inputs"]["values"]["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert grant["managedZone"] == CONFIG["quicstack:dns"]["zone"] and grant["member"] == f"serviceAccount:{gsa}"
    assert grant["role"] == f"projects/{role['project']}/roles/{role['roleId']}"
    assert role["permissions"] and all(p.startswith(("dns.changes.", "dns.resourceRecordSets.")) for p in role["permissions"])
    # No project-wide grant for the solver.
    assert not [r for r in gke.of_type("gcp:projects/iAMMember:IAMMember") if r["inputs"]["member"] == f"serviceAccount:{gsa}"]
    # The issuer names the zone, so cert-manager never needs to list the project's zones.
    (issuer,) = [m for m in gke.objects("ClusterIssuer") if m["metadata"]["name"] == "letsencrypt-production"]
    clouddns = [s["dns01"]["cloudDNS"] for s in issuer["spec"]["acme"]["solvers"] if "dns01" in s]
    assert clouddns == [{"project": PROJECT, "hostedZoneName": grant["managedZone"]}]


def test_kubernetes_waits_for_the_node_pool(gke):
    provider = gke.one(K8S_PROVIDER, "gke")
    pool = gke.one("gcp:container/nodePool:NodePool")["urn"]
    assert pool in provider["dependencies"] and provider["inputs"]["kubeconfig"] == "[secret]"
    assert gke.outputs["kubeconfig"] == "[secret]"
    objects = [r for r in gke.resources if r["custom"] and r["type"].startswith("kubernetes:")]
    assert len(objects) >= 10
    for r in objects:
        assert {provider["urn"], pool} <= gke.depends_on(r["urn"]), r["name"]


def test_every_gcp_resource_uses_the_stack_provider(gke):
    (gcp,) = gke.of_type("pulumi:providers:gcp")
    assert gcp["inputs"]["project"] == PROJECT
    for r in gke.resources:
        if r["type"].startswith("gcp:"):
            assert r["provider"].rsplit("::", 1)[0] == gcp["urn"], r["name"]


def test_mixed_protocol_regional_variant(plan_config):
    config = {**CONFIG, "quicstack:gke": {**CONFIG["quicstack:gke"], "zone": None, "regional": True, "mixedProtocol": True,
                                          "minMasterVersion": "1.34.1-gke.2190000", "deletionProtection": True}}
    config["quicstack:gke"] = {k: v for k, v in config["quicstack:gke"].items() if v is not None}
    run, p = plan_config(config)
    assert run.returncode == 0, run.stderr
    c = p.one("gcp:container/cluster:Cluster")["inputs"]
    assert (c["location"], c["minMasterVersion"], c["deletionProtection"]) == ("europe-west1", "1.34.1-gke.2190000", True)
    service = release(p, "ingress-nginx")["inputs"]["values"]["controller"]["service"]
    assert service["loadBalancerClass"] == "networking.gke.io/l4-regional-external"
    assert p.object("Service", "relay")["spec"]["loadBalancerClass"] == "networking.gke.io/l4-regional-external"


def test_http01_needs_no_google_identity(plan_config):
    config = {**CONFIG, "quicstack:acme": {"environment": "production", "email": "ops@example.com"}}
    run, p = plan_config(config)
    assert run.returncode == 0, run.stderr
    assert not p.of_type("gcp:serviceaccount/iAMMember:IAMMember") and not p.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    assert not release(p, "cert-manager")["inputs"]["values"]["serviceAccount"].get("annotations")


def test_config_error_is_one_line(plan_config):
    config = {**CONFIG, "quicstack:gke": {**CONFIG["quicstack:gke"], "nodePool": {"minNodes": 5, "maxNodes": 2}}}
    run, _ = plan_config(config)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["quicstack:gke.nodePool.minNodes: 5 is greater than gke.nodePool.maxNodes (2)"]
