"""The relay in planned stacks: one source of truth for ports, certificate mount, probes, exposure per topology."""

import base64
import hashlib
import json
import posixpath
import re
import tomllib

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization

from components.workloads.relay.versions import CLI_IMAGE, RELAY_IMAGE
from tests.conftest import STACKS, stack_config

CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
BASE = {"quicstack:domain": "example.com"}


def relay_toml(p) -> dict:
    return tomllib.loads(p.object("ConfigMap", "relay-config")["data"]["relay.toml"])


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def relay_workload(p) -> dict:
    """The relay's Deployment (one relay) or StatefulSet (a tier)."""
    (workload,) = [o for kind in ("Deployment", "StatefulSet") for o in p.objects(kind) if o["metadata"]["name"] == "relay"]
    return workload


def relay_pod(p) -> dict:
    return relay_workload(p)["spec"]["template"]["spec"]


def container_port(pod: dict, name: str) -> dict:
    (port,) = [x for x in pod["containers"][0]["ports"] if x["name"] == name]
    return port


def service_ports(p, name: str, protocol: str) -> list[dict]:
    return [x for x in p.object("Service", name)["spec"]["ports"] if x["protocol"] == protocol]


@pytest.mark.parametrize("stack", STACKS)
def test_quic_port_has_one_source_of_truth(plan, stack):
    p = plan(stack)
    bind = port_of(relay_toml(p)["listen"]["bind"])
    (udp,) = service_ports(p, "relay", "UDP")
    quic = container_port(relay_pod(p), "quic")
    assert bind == udp["targetPort"] == quic["containerPort"] and quic["protocol"] == "UDP"
    assert udp["port"] == 443


def test_a_configured_quic_port_reaches_toml_service_and_container(plan_config):
    run, p = plan_config({**BASE, "quicstack:relay": {"quicPort": 5555}})
    assert run.returncode == 0, run.stderr
    (udp,) = service_ports(p, "relay", "UDP")
    assert port_of(relay_toml(p)["listen"]["bind"]) == udp["targetPort"] == container_port(relay_pod(p), "quic")["containerPort"] == 5555


@pytest.mark.parametrize("stack", STACKS)
def test_certificate_secret_is_mounted_as_a_directory_the_toml_reads(plan, stack):
    p = plan(stack)
    config = stack_config(stack)
    host = config.get("quicstack:relay", {}).get("host") or f"relay.{config['quicstack:domain']}"
    (cert,) = [c for c in p.objects("Certificate") if c["spec"].get("dnsNames") == [host]]
    assert cert["metadata"]["namespace"] == "moq"
    assert cert["spec"]["privateKey"]["algorithm"] == "ECDSA" and cert["spec"]["privateKey"]["size"] == 256
    pod = relay_pod(p)
    (tls,) = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == cert["spec"]["secretName"]]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == tls["name"]]
    assert "subPath" not in mount and "subPathExpr" not in mount and "items" not in tls["secret"]
    server_tls = relay_toml(p)["listen"]["tls"]
    # The public certificate is the QUIC listener's only one (a tier's peer certificate has a listener of its own).
    assert len(server_tls["cert"]) == len(server_tls["key"]) == 1 and "root" not in server_tls
    assert [posixpath.dirname(f) for f in (server_tls["cert"][0], server_tls["key"][0])] == [mount["mountPath"]] * 2
    assert not [m for c in pod["containers"] for m in c["volumeMounts"] if "subPath" in m]


@pytest.mark.parametrize("stack", STACKS)
def test_probes_use_the_internal_listener_which_no_service_exposes(plan, stack):
    p = plan(stack)
    pod = relay_pod(p)
    internal = container_port(pod, "internal")["containerPort"]
    assert port_of(relay_toml(p)["internal"]["listen"]) == internal
    container = pod["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "internal"}, probe
    for svc in p.objects("Service"):
        for port in svc["spec"]["ports"]:
            assert internal not in (port.get("targetPort"), port["port"]) and port.get("targetPort") != "internal", svc["metadata"]["name"]
    policy = p.object("NetworkPolicy", "relay")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["podSelector"]["matchLabels"].items() <= relay_workload(p)["spec"]["template"]["metadata"]["labels"].items()
    open_ports = {(x["protocol"], x["port"]) for rule in policy["ingress"] for x in rule["ports"]}
    # A tier opens its peer port (to the relays); the web port is open where a route carries the WebSocket fallback.
    tcp = container_port(pod, "peer") if stack == "eks" else container_port(pod, "web")
    assert open_ports == {("UDP", container_port(pod, "quic")["containerPort"]), ("TCP", tcp["containerPort"])}


@pytest.mark.parametrize("stack", STACKS)
def test_pod_is_restricted_and_pinned_one_relay_except_on_eks(plan, stack):
    p = plan(stack)
    workload = relay_workload(p)
    eks = stack_config(stack).get("quicstack:cloud") == "eks"
    assert (workload["kind"], workload["spec"]["replicas"]) == (("StatefulSet", 2) if eks else ("Deployment", 1))
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert container["image"] == RELAY_IMAGE and container["imagePullPolicy"] == "IfNotPresent"
    (auth,) = pod["initContainers"]
    assert (auth["name"], auth["image"], auth["restartPolicy"]) == ("auth", CLI_IMAGE, "Always")
    assert auth["securityContext"] == sc and "ports" not in auth
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys() and {"cpu", "memory"} <= container["resources"]["limits"].keys()
    # The image's entrypoint passes its arguments to moq-relay: the config file path, in the ConfigMap's mount.
    (config_mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    config_path = posixpath.join(config_mount["mountPath"], "relay.toml")
    if eks:  # a shell line converts the injected QUIC-LB server ID first, then runs the relay with the same argument
        assert container["command"][:2] == ["/bin/sh", "-c"] and container["command"][3:] == ["moq-relay", config_path]
        assert "args" not in container
    else:
        assert container["args"] == [config_path] and "command" not in container
    assert p.object("Namespace", "moq")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_shared_address_routes_websocket_through_the_ingress(plan):
    p = plan("local")
    assert "http" in relay_toml(p)["web"] and "https" not in relay_toml(p)["web"]
    assert service_ports(p, "relay", "TCP") == []
    ingress = p.object("Ingress", "relay")
    (rule,) = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": f"{rule['host']}-tls"}]
    assert not [a for a in ingress["metadata"].get("annotations", {}) if "snippet" in a]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    (port,) = [x for x in p.object("Service", backend["name"])["spec"]["ports"] if x["name"] == backend["port"]["name"]]
    assert port["targetPort"] == port_of(relay_toml(p)["web"]["http"]["listen"]) == container_port(relay_pod(p), "web")["containerPort"]
    assert p.object("Service", "relay")["spec"]["type"] == "LoadBalancer"


def test_own_load_balancer_carries_tcp_443_to_the_relays_https_listener(plan_config):
    run, p = plan_config({**BASE, "quicstack:existing": {"sharedAddress": False, "mixedProtocol": True}})
    assert run.returncode == 0, run.stderr
    toml = relay_toml(p)
    assert "https" in toml["web"] and "http" not in toml["web"]
    assert toml["web"]["https"]["cert"][0] == toml["listen"]["tls"]["cert"][0]
    (tcp,) = service_ports(p, "relay", "TCP")
    assert tcp["port"] == 443 and tcp["targetPort"] == port_of(toml["web"]["https"]["listen"])
    assert [i for i in p.objects("Ingress") if i["metadata"]["name"] == "relay"] == []
    assert [s for s in p.objects("Service") if s["metadata"]["name"] == "relay-web"] == []
    assert p.object("Service", "relay")["spec"]["externalTrafficPolicy"] == "Local"


def test_ingress_carried_udp_keeps_the_relay_service_internal(plan_config):
    run, p = plan_config({**BASE, "quicstack:existing": {"mixedProtocol": True}, "quicstack:ingress": {"relayUdp": True}})
    assert run.returncode == 0, run.stderr
    svc = p.object("Service", "relay")
    assert svc["spec"]["type"] == "ClusterIP" and "externalTrafficPolicy" not in svc["spec"]
    # The controller's UDP map names this Service: namespace/name:port.
    (release,) = [r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "ingress-nginx"]
    targets = set(release["inputs"]["values"]["udp"].values())
    (udp,) = service_ports(p, "relay", "UDP")
    assert targets == {f"{svc['metadata']['namespace']}/{svc['metadata']['name']}:{udp['port']}"}


def test_no_websocket_fallback_when_disabled(plan_config):
    run, p = plan_config({**BASE, "quicstack:relay": {"websocket": False}})
    assert run.returncode == 0, run.stderr
    assert [i["metadata"]["name"] for i in p.objects("Ingress") if i["metadata"]["namespace"] == "moq"] == ["watch-page"]
    assert [s["metadata"]["name"] for s in p.objects("Service") if s["metadata"]["namespace"] == "moq"] == ["relay", "watch-page"]
    assert service_ports(p, "relay", "TCP") == []


def thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, no whitespace; base64url without padding."""
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(required, sort_keys=True, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_server(p) -> dict:
    (sidecar,) = [c for c in relay_pod(p).get("initContainers", []) if c["name"] == "auth"]
    return sidecar


def flag(args: list[str], name: str) -> list[str]:
    """Every value given to ``name`` in ``args``."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]


def test_jwt_mounts_only_public_keys_as_the_auth_servers_key_dir(plan_config):
    run, p = plan_config({**BASE, "quicstack:relay": {"auth": "jwt", "jwtKeys": ["2026a", "2026b"]}}, "--show-secrets")
    assert run.returncode == 0, run.stderr
    server = auth_server(p)
    assert flag(server["args"], "--public-subscribe") == ["anon/**"] and not flag(server["args"], "--public-publish")
    secret = p.object("Secret", "relay-auth")
    pod = relay_pod(p)
    (volume,) = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "relay-auth"]
    (mount,) = [m for m in server["volumeMounts"] if m["name"] == volume["name"]]
    assert flag(server["args"], "--key-dir") == [mount["mountPath"]] and "subPath" not in mount
    # Only the auth server reads the keys; the relay container does not even mount them.
    assert volume["name"] not in [m["name"] for m in pod["containers"][0]["volumeMounts"]]
    assert len(secret["stringData"]) == 2  # both keys verify: rotation keeps the old one until it is removed
    for name, text in secret["stringData"].items():
        jwk = json.loads(text)
        # moq-token's `{kid}.jwk`, public half only: ES256 on P-256, verify only, no private `d`.
        assert name == f"{jwk['kid']}.jwk" and jwk["kid"] == thumbprint(jwk)
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["key_ops"]) == ("EC", "P-256", "ES256", ["verify"]) and "d" not in jwk
    # The private key that signs is an output of the stack, the newest key's, and appears in no object.
    key = serialization.load_pem_private_key(p.outputs["relayTokenKey"].encode(), None)
    numbers = key.public_key().public_numbers()
    mine = {"crv": "P-256", "kty": "EC", "x": base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).rstrip(b"=").decode(),
            "y": base64.urlsafe_b64encode(numbers.y.to_bytes(32, "big")).rstrip(b"=").decode()}
    assert f"{thumbprint(mine)}.jwk" in secret["stringData"]
    assert not any("PRIVATE KEY" in json.dumps(m) for m in p.manifests)


def test_a_redacted_plan_keeps_the_key_file_names_and_hides_the_keys(plan_config):
    """Without --show-secrets the Secret's keys (the ``<kid>.jwk`` file names) stay; only the values are hidden."""
    run, p = plan_config({**BASE, "quicstack:relay": {"auth": "jwt", "jwtKeys": ["2026a", "2026b"]}})
    assert run.returncode == 0, run.stderr
    string_data = p.object("Secret", "relay-auth")["stringData"]
    assert len(string_data) == 2 and all(re.fullmatch(r"[A-Za-z0-9_-]{43}\.jwk", name) for name in string_data)
    assert set(string_data.values()) == {"<redacted>"}


def test_the_token_key_is_a_secret_output(plan_config):
    run, p = plan_config({**BASE, "quicstack:relay": {"auth": "jwt"}})
    assert run.returncode == 0, run.stderr
    assert p.outputs["relayTokenKey"] == "[secret]"
    assert [r["inputs"]["algorithm"] for r in p.of_type("tls:index/privateKey:PrivateKey")] == ["ECDSA"]


@pytest.mark.parametrize("stack", STACKS)
def test_publishing_needs_a_token_wherever_lets_encrypt_issues(plan, stack):
    p = plan(stack)
    assert relay_toml(p)["auth"] == {"url": "unix:///run/moq-auth/auth.sock"}
    args = auth_server(p)["args"]
    assert flag(args, "--listen") == ["unix:/run/moq-auth/auth.sock"] and flag(args, "--public-subscribe") == ["anon/**"]
    if stack_config(stack)["quicstack:acme"]["environment"] == "selfsigned":
        assert flag(args, "--public-publish") == ["anon/**"] and not flag(args, "--key-dir")
        assert "relayTokenKey" not in p.outputs
    else:
        assert not flag(args, "--public-publish") and flag(args, "--key-dir") == ["/etc/moq/auth"]
        assert p.outputs["relayTokenKey"] == "[secret]"


def test_anonymous_publishing_on_a_public_stack_is_an_explicit_choice(plan_config):
    acme = {"quicstack:acme": {"environment": "production", "email": "ops@example.com"}}
    _, default = plan_config({**BASE, **acme})
    run, opted = plan_config({**BASE, **acme, "quicstack:relay": {"auth": "anonymous"}})
    assert run.returncode == 0, run.stderr
    assert not flag(auth_server(default)["args"], "--public-publish")
    assert flag(auth_server(opted)["args"], "--public-publish") == ["anon/**"]
    assert "relayTokenKey" not in opted.outputs


def test_jwt_with_an_existing_key_secret_creates_none(plan_config):
    run, p = plan_config({**BASE, "quicstack:relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": "my-relay-key"}})
    assert run.returncode == 0, run.stderr
    assert [s for s in p.objects("Secret") if s["metadata"]["namespace"] == "moq"] == []
    assert "my-relay-key" in [v.get("secret", {}).get("secretName") for v in relay_pod(p)["volumes"]]
    assert flag(auth_server(p)["args"], "--key-dir") == ["/etc/moq/auth"]


def relay_args(**overrides):
    from components.cluster.contract import Exposure
    from components.platform.certificates import Issuer
    from components.workloads.relay.component import RelayArgs

    values = dict(
        namespace="moq", host="relay.example.com", image=RELAY_IMAGE, resources={"requests": {"cpu": "1"}, "limits": {"cpu": "1"}},
        auth_image=CLI_IMAGE, auth_resources={"requests": {"cpu": "10m"}, "limits": {"cpu": "200m"}},
        quic_port=4443, web_port=4480, internal_port=9101, peer_port=4490,
        log_level="info", public_prefix="anon", auth="anonymous",
        issuer=Issuer(name="quicstack-ca"), websocket="ingress", ingress_class="nginx", exposure=Exposure(address="198.51.100.7"),
    )
    return RelayArgs(**{**values, **overrides})


@pulumi.runtime.test
def test_outputs_name_the_url_the_secret_and_the_load_balancer_address():
    from components.workloads.relay.component import Relay

    relay = Relay("outputs-lb", relay_args())
    assert (relay.url, relay.public_url, relay.secret_name) == ("https://relay.example.com", "https://relay.example.com/anon", "relay.example.com-tls")
    # The mocks answer a LoadBalancer Service with its loadBalancerIP in status, as a cloud would.
    return relay.address.apply(lambda address: assert_equal(address, "198.51.100.7"))


@pulumi.runtime.test
def test_address_is_the_ingress_address_when_the_ingress_carries_udp():
    from components.workloads.relay.component import Relay

    relay = Relay("outputs-udp", relay_args(exposure=None, ingress_address=pulumi.Output.from_input("203.0.113.9")))
    return relay.address.apply(lambda address: assert_equal(address, "203.0.113.9"))


def assert_equal(actual, expected):
    assert actual == expected


def test_load_balancer_service_waits_for_what_owns_its_load_balancer():
    """Created after, and so deleted before, the controller that owns the cloud load balancer."""
    import pulumi_kubernetes as k8s

    from components.workloads.relay.component import Relay
    from tests.conftest import MONITOR
    from tools.plan import mocks

    def program():
        controller = k8s.core.v1.ConfigMap("deps-controller", metadata={"name": "controller", "namespace": "kube-system"})
        Relay("deps-lb", relay_args(load_balancer_dependencies=[controller]))
        Relay("deps-udp", relay_args(exposure=None, load_balancer_dependencies=[controller]))

    mocks.run(program)
    by_name = {r.name: r for r in MONITOR.registrations}
    controller = by_name["deps-controller"].urn
    assert controller in by_name["deps-lb-service"].dependencies
    # A ClusterIP Service has no cloud load balancer to tear down first.
    assert controller not in by_name["deps-udp-service"].dependencies
