"""The planned relay tier: EKS QUIC-LB wiring, the StatefulSet and what surrounds it, drain, metrics, the
node user data, and the config rule outside EKS."""

import base64
import email
import hashlib
import json
import re
import tomllib

import pytest
import yaml

from tests.conftest import stack_config
from tests.support import validators

PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"
LOCAL = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
         "quicstack:acme": {"environment": "selfsigned"}}


def tier(replicas: int, **relay) -> dict:
    return {**LOCAL, "quicstack:relay": {"replicas": replicas, "sessionAffinity": "ClientIP", **relay}}


def relay_toml(p) -> dict:
    return tomllib.loads(p.object("ConfigMap", "relay-config")["data"]["relay.toml"])


@pytest.fixture(scope="module")
def eks(plan):
    return plan("eks")


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    from tests.support.plan import Plan, run_plan

    out = tmp_path_factory.mktemp("three")
    (out / "Pulumi.three.yaml").write_text(yaml.safe_dump({"config": tier(3, metrics="podmonitor")}))
    run = run_plan(out / "Pulumi.three.yaml", out / "plan")
    assert run.returncode == 0, run.stderr
    return Plan(out / "plan" / "three")


def test_eks_relay_pods_get_a_server_id_and_a_readiness_gate(eks):
    labels = eks.object("Namespace", "moq")["metadata"]["labels"]
    assert labels["elbv2.k8s.aws/quic-server-id-inject"] == "enabled"
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    pod = eks.object("StatefulSet", "relay")["spec"]["template"]
    # The controller injects AWS_LBC_QUIC_SERVER_ID into the containers this annotation names.
    names = pod["metadata"]["annotations"][f"{PREFIX}quic-enabled-containers"].split(",")
    assert names == [c["name"] for c in pod["spec"]["containers"]] == ["relay"]
    (container,) = pod["spec"]["containers"]
    assert "AWS_LBC_QUIC_SERVER_ID" in container["command"][2] and "MOQ_LISTEN_QUIC_LB_ID" in container["command"][2]


def test_eks_namespace_exists_only_after_the_controller_whose_webhook_admits_its_pods(eks):
    namespace = next(n for n in eks.of_type("kubernetes:core/v1:Namespace") if n["inputs"]["metadata"]["name"] == "moq")
    release = next(r for r in eks.of_type("kubernetes:helm.sh/v3:Release")
                   if r["inputs"]["name"] == "aws-load-balancer-controller")
    assert release["urn"] in eks.depends_on(namespace["urn"])


def test_eks_nodes_raise_both_udp_buffer_limits(eks):
    template = eks.one("aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    document = email.message_from_bytes(base64.b64decode(template["userData"]))
    assert document.get_content_type() == "multipart/mixed"
    (script,) = [part.get_payload(decode=True).decode() for part in document.get_payload()
                 if part.get_content_type() == "text/x-shellscript"]
    values = dict(re.findall(r"^(net\.core\.[rw]mem_max) = ([0-9]+)$", script, re.MULTILINE))
    assert values == {"net.core.rmem_max": "8388608", "net.core.wmem_max": "8388608"}


def test_a_tier_is_a_statefulset_with_stable_names_a_peer_list_and_a_budget(three):
    statefulset = three.object("StatefulSet", "relay")
    spec = statefulset["spec"]
    selector = spec["selector"]["matchLabels"]
    assert spec["replicas"] == 3
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    headless = three.object("Service", spec["serviceName"])["spec"]
    assert headless["clusterIP"] == "None" and headless["selector"] == selector
    assert headless["ports"] == [{"name": "peer", "protocol": "TCP", "port": 4490, "targetPort": "peer"}]
    budget = three.object("PodDisruptionBudget", "relay")["spec"]
    assert budget == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    domain = f"{spec['serviceName']}.moq.svc.cluster.local"
    peers_file = relay_toml(three)["cluster"]["connect_api"]
    peers = json.loads(three.object("ConfigMap", "relay-peers")["data"][peers_file.rsplit("/", 1)[1]])
    assert peers == [f"wss://relay-{i}.{domain}:4490/" for i in range(3)]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # The relay's own entry, so it skips dialing itself.
    assert env["MOQ_CLUSTER_NODE"]["value"].replace("$(POD_NAME)", "relay-1") == peers[1]
    assert three.object("Service", "relay")["spec"]["sessionAffinity"] == "ClientIP"


def hours(duration: str) -> float:
    """A cert-manager duration (Go's time.ParseDuration subset it writes: h, m, s) in hours."""
    parts = re.fullmatch(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", duration)
    assert parts and duration, duration
    h, m, sec = (int(x or 0) for x in parts.groups())
    return h + m / 60 + sec / 3600


def test_peers_authenticate_with_a_cluster_internal_ca(three):
    toml = relay_toml(three)
    (peer,) = [c for c in three.objects("Certificate") if "client auth" in c["spec"].get("usages", [])]
    assert peer["spec"]["dnsNames"] == ["*.relay-peers.moq.svc.cluster.local"]
    # Signed by a ClusterIssuer whose CA (and its self-signed bootstrap) live in cert-manager's namespace.
    issuer = three.object("ClusterIssuer", peer["spec"]["issuerRef"]["name"])
    assert peer["spec"]["issuerRef"]["kind"] == "ClusterIssuer" and "ca" in issuer["spec"]
    (ca,) = [c for c in three.objects("Certificate") if c["spec"]["secretName"] == issuer["spec"]["ca"]["secretName"]]
    assert ca["spec"]["isCA"] is True and ca["metadata"]["namespace"] == "cert-manager"
    (bootstrap,) = [i for i in three.objects("Issuer") if i["metadata"]["name"] == ca["spec"]["issuerRef"]["name"]]
    assert "selfSigned" in bootstrap["spec"] and bootstrap["metadata"]["namespace"] == "cert-manager"
    assert not [o for o in three.manifests if o["metadata"].get("namespace") == "moq" and o["kind"] == "Issuer"]
    # A year at most, renewed before the peer certificate it signed would need it; valid only for the tier's names.
    assert hours(ca["spec"]["duration"]) <= 366 * 24
    assert hours(ca["spec"]["renewBefore"]) > hours(peer["spec"]["duration"]) - hours(peer["spec"]["renewBefore"])
    assert ca["spec"]["nameConstraints"] == {"critical": True,
                                             "permitted": {"dnsDomains": ["relay-peers.moq.svc.cluster.local"]}}
    pod = three.object("StatefulSet", "relay")["spec"]["template"]["spec"]
    (mount,) = [m["mountPath"] for v in pod["volumes"]
                if v.get("secret", {}).get("secretName") == peer["spec"]["secretName"]
                for m in pod["containers"][0]["volumeMounts"] if m["name"] == v["name"]]
    # The peers' own listener serves it and verifies client certificates from the CA; dials present it. The public
    # QUIC listener serves the public certificate only and asks for no client certificate.
    assert toml["web"]["https"] == {"listen": "[::]:4490", "cert": [f"{mount}/tls.crt"], "key": [f"{mount}/tls.key"],
                                    "root": [f"{mount}/ca.crt"]}
    assert toml["connect"]["tls"]["cert"] == f"{mount}/tls.crt"
    assert toml["connect"]["tls"]["root"] == [f"{mount}/ca.crt"]
    assert toml["listen"]["tls"] == {"cert": ["/etc/moq/tls/tls.crt"], "key": ["/etc/moq/tls/tls.key"]}
    # 0.17 hands client certificates to the auth server: only its --mtls rules grant a verified peer anything.
    (auth,) = pod["initContainers"]
    assert auth["args"][auth["args"].index("--mtls-publish") + 1] == "**"


def test_scaling_rewrites_the_peer_list_without_rolling_the_relays(three, plan_config):
    run, four = plan_config(tier(4, metrics="podmonitor"))
    assert run.returncode == 0, run.stderr
    annotation = "quicstack/config-sha256"
    hashes = [p.object("StatefulSet", "relay")["spec"]["template"]["metadata"]["annotations"][annotation]
              for p in (three, four)]
    assert hashes[0] == hashes[1]
    assert len(json.loads(four.object("ConfigMap", "relay-peers")["data"]["peers.json"])) == 4
    toml = three.object("ConfigMap", "relay-config")["data"]["relay.toml"]
    assert hashes[0] == hashlib.sha256(toml.encode()).hexdigest()


def test_one_relay_surges_and_drains(plan):
    p = plan("local")
    deployment = p.object("Deployment", "relay")
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    pod = deployment["spec"]["template"]["spec"]
    sleep = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert sleep == 30 and pod["terminationGracePeriodSeconds"] > sleep
    assert p.object("PodDisruptionBudget", "relay")["spec"]["maxUnavailable"] == 1
    assert "cluster" not in relay_toml(p)
    assert not p.objects("StatefulSet") and not p.objects("PodMonitor")


def test_internal_port_admits_only_the_scraper_namespace(three, plan):
    internal = int(relay_toml(three)["internal"]["listen"].rsplit(":", 1)[1])
    for p, scraper in ((plan("local"), None), (three, "monitoring")):
        rules = p.object("NetworkPolicy", "relay")["spec"]["ingress"]
        open_to_all = {port["port"] for rule in rules if "from" not in rule for port in rule["ports"]}
        assert internal not in open_to_all
        restricted = [rule for rule in rules if "from" in rule and any(x["port"] == internal for x in rule["ports"])]
        if scraper is None:
            assert restricted == []
        else:
            (rule,) = restricted
            assert rule["ports"] == [{"protocol": "TCP", "port": internal}]
            assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": scraper}}}]


def test_pod_monitor_scrapes_the_internal_port_and_fits_the_operator_schema(three):
    (monitor,) = three.objects("PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "internal" and endpoint["path"] == "/metrics"
    selector = three.object("StatefulSet", "relay")["spec"]["selector"]
    assert monitor["spec"]["selector"] == selector
    assert relay_toml(three)["stats"] == {"enabled": True}
    files = sorted((three.dir / "manifests").glob("podmonitor-*.yaml"))
    results = validators.kubernetes_models(files)
    assert [r["result"] for r in results] == ["valid"]


def test_the_operator_schema_check_can_fail(tmp_path, three):
    (monitor,) = three.objects("PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["interval"] = "half a minute"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(monitor))
    assert [r["result"] for r in validators.kubernetes_models([path])] == ["invalid"]


@pytest.mark.parametrize("stack", ["gke", "k3s", "local"])
def test_two_relays_without_session_affinity_are_a_one_line_error(plan_config, stack):
    config = stack_config(stack)
    run, _ = plan_config({**config, "quicstack:relay": {**config.get("quicstack:relay", {}), "replicas": 2}})
    assert run.returncode == 2
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("quicstack:relay.replicas: 2 needs relay.sessionAffinity ClientIP")


def test_the_peer_port_is_open_to_the_relay_pods_only_and_on_no_other_service(three):
    """Ingress and egress of the peer port name the relay pods; the public Service carries UDP 443 only."""
    selector = three.object("StatefulSet", "relay")["spec"]["selector"]
    policy = three.object("NetworkPolicy", "relay")["spec"]
    peer = {"protocol": "TCP", "port": 4490}
    holding = [rule for rule in policy["ingress"] if peer in rule["ports"]]
    assert holding == [{"from": [{"podSelector": selector}], "ports": [peer]}]
    assert {"to": [{"podSelector": selector}], "ports": [peer]} in policy["egress"]
    (container,) = three.object("StatefulSet", "relay")["spec"]["template"]["spec"]["containers"]
    assert {"name": "peer", "containerPort": 4490, "protocol": "TCP"} in container["ports"]
    for service in three.objects("Service"):
        ports = {(p["protocol"], p.get("targetPort")) for p in service["spec"]["ports"]}
        if service["spec"].get("clusterIP") != "None":
            assert not ports & {("TCP", 4490), ("TCP", "peer")}, service


def test_eks_tier_has_no_websocket_fallback_and_its_nlb_carries_quic_only(eks):
    """The relay's one TLS web listener carries the peers on EKS's default two relays."""
    toml = relay_toml(eks)
    assert set(toml["web"]) == {"http", "https"} and toml["web"]["https"]["listen"] == "[::]:4490"
    (service,) = [s for s in eks.objects("Service") if s["metadata"]["name"] == "relay"]
    assert [(p["protocol"], p["port"]) for p in service["spec"]["ports"]] == [("UDP", 443)]
