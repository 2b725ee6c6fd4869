"""The EnvoyDemo component under Pulumi's mocks, in this process: objects, wiring and ordering per server-ID source."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.cluster.contract import Exposure
from components.platform.certificates import Issuer
from components.workloads.envoy.bootstrap import Listener
from components.workloads.envoy.component import EnvoyDemo, EnvoyDemoArgs
from tests.conftest import MONITOR
from tests.support.envoy import quic_lb_generator
from tools.plan import mocks, writer

INJECT_LABEL = "elbv2.k8s.aws/quic-server-id-inject"
QUIC_CONTAINERS = "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-containers"
NLB = Exposure(class_name="service.k8s.aws/nlb", annotations={
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports": "443",
})
ARGS = EnvoyDemoArgs(
    namespace="quic-example", host="quic.example.com", image="envoyproxy/envoy:v1.40.0", replicas=3, concurrency=2,
    resources={"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "2", "memory": "256Mi"}},
    listener=Listener(port=3000, public_port=443, h2_body="h2 success!", h3_body="h3 success!", admin_port=9901),
    config_version=0, server_id_length=8, nonce_length=7, server_id_source="generated", issuer=Issuer("quicstack-ca"),
    exposure=Exposure(),
)
_names = itertools.count()


@dataclass
class Built:
    demo: EnvoyDemo
    outputs: dict
    registrations: list
    controller: str
    """URN of the stand-in for the load balancer controller's Helm release."""

    def manifest(self, kind: str) -> dict:
        (found,) = [m for m in writer.manifests(self.registrations, True) if m["kind"] == kind and m["metadata"]["name"] != "lbc"]
        return found

    def registration(self, kind: str):
        (found,) = [r for r in self.registrations if r.custom and r.inputs.get("kind") == kind and r.inputs["metadata"]["name"] != "lbc"]
        return found

    def waits_for_controller(self, urn: str) -> bool:
        by_urn = {r.urn: r for r in self.registrations}
        seen, todo = set(), [urn]
        while todo:
            for dep in by_urn[todo.pop()].dependencies:
                if dep not in seen and dep in by_urn:
                    seen.add(dep)
                    todo.append(dep)
        return self.controller in seen

    @property
    def kubernetes_objects(self) -> list:
        return [r for r in self.registrations if r.custom and r.type.startswith("kubernetes:") and r.inputs["metadata"]["name"] != "lbc"]

    @property
    def pod(self) -> dict:
        return self.manifest("Deployment")["spec"]["template"]


def build(**changes) -> Built:
    name = f"demo{next(_names)}"
    start = len(MONITOR.registrations)
    made = {}

    def program():
        controller = k8s.core.v1.ConfigMap(f"{name}-lbc", metadata={"name": "lbc", "namespace": "kube-system"})
        demo = EnvoyDemo(name, replace(ARGS, load_balancer_dependencies=[controller], **changes))
        made.update(demo=demo, controller=controller)
        pulumi.export(f"{name}-address", demo.address)

    outputs = mocks.run(program)
    registrations = MONITOR.registrations[start:]
    (controller,) = [r.urn for r in registrations if r.name == f"{name}-lbc"]
    return Built(made["demo"], {"address": outputs[f"{name}-address"]}, registrations, controller)


@pytest.fixture(scope="module")
def injected() -> Built:
    return build(server_id_source="injected", exposure=NLB)


@pytest.fixture(scope="module")
def generated() -> Built:
    return build()


def test_injected_ids_label_the_namespace_and_name_the_envoy_container(injected):
    assert injected.manifest("Namespace")["metadata"]["labels"][INJECT_LABEL] == "enabled"
    named = injected.pod["metadata"]["annotations"][QUIC_CONTAINERS].split(",")
    containers = [c["name"] for c in injected.pod["spec"]["containers"]]
    assert named == containers
    assert "initContainers" not in injected.pod["spec"]
    bootstrap = yaml.safe_load(injected.manifest("ConfigMap")["data"]["envoy.yaml"])
    assert quic_lb_generator(bootstrap)["server_id"] == {"environment_variable": "AWS_LBC_QUIC_SERVER_ID"}


def test_with_injected_ids_every_object_waits_for_the_controller(injected):
    """Its webhook fails closed, and a pod admitted before it is ready is never registered as a target."""
    assert [r.name for r in injected.kubernetes_objects if not injected.waits_for_controller(r.urn)] == []
    assert {r.inputs["kind"] for r in injected.kubernetes_objects} >= {"Namespace", "Deployment", "Service", "Certificate", "ConfigMap", "Secret"}


def test_generated_ids_come_from_an_init_container_that_envoy_reads(generated):
    spec = generated.pod["spec"]
    (init,) = spec["initContainers"]
    (envoy,) = spec["containers"]
    # No second image to pin and pull: the Envoy image ships sh, head and base64.
    assert init["image"] == envoy["image"] and init["imagePullPolicy"] == "IfNotPresent"
    (written,) = init["volumeMounts"]
    volume = next(v for v in spec["volumes"] if v["name"] == written["name"])
    assert volume["emptyDir"]["medium"] == "Memory"
    (read,) = [m for m in envoy["volumeMounts"] if m["name"] == written["name"]]
    assert read["readOnly"] and read["mountPath"] == written["mountPath"]
    bootstrap = yaml.safe_load(generated.manifest("ConfigMap")["data"]["envoy.yaml"])
    server_id_file = quic_lb_generator(bootstrap)["server_id"]["filename"]
    assert server_id_file.startswith(read["mountPath"] + "/") and server_id_file in init["command"][-1]
    assert INJECT_LABEL not in generated.manifest("Namespace")["metadata"]["labels"]
    assert QUIC_CONTAINERS not in generated.pod["metadata"].get("annotations", {})


def test_only_the_service_waits_for_the_controller_when_nothing_is_injected(generated):
    waiting = {r.inputs["kind"] for r in generated.kubernetes_objects if generated.waits_for_controller(r.urn)}
    assert waiting == {"Service"}


def test_service_carries_the_exposure_and_both_protocols_to_the_listener_port(injected):
    service = injected.manifest("Service")
    assert service["metadata"]["annotations"] == dict(NLB.annotations)
    assert service["spec"]["loadBalancerClass"] == "service.k8s.aws/nlb" and service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ipFamilies"] == ["IPv4"] and service["spec"]["ipFamilyPolicy"] == "SingleStack"
    assert sorted((p["protocol"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]) == [("TCP", 443, 3000), ("UDP", 443, 3000)]
    assert service["spec"]["selector"] == injected.manifest("Deployment")["spec"]["selector"]["matchLabels"]


def test_url_address_and_replicas():
    on_8443 = build(listener=replace(ARGS.listener, public_port=8443), exposure=Exposure(address="203.0.113.7"))
    assert on_8443.demo.url == "https://quic.example.com:8443"
    assert on_8443.outputs["address"] == "203.0.113.7"
    assert on_8443.manifest("Service")["spec"]["loadBalancerIP"] == "203.0.113.7"
    assert on_8443.demo.replicas == on_8443.manifest("Deployment")["spec"]["replicas"] == 3


def test_default_port_url_has_no_port(generated):
    assert generated.demo.url == "https://quic.example.com"


def test_quic_lb_key_is_random_secret_and_only_in_the_secret(generated):
    (key,) = [r for r in generated.registrations if r.type == "random:index/randomBytes:RandomBytes"]
    assert key.inputs["length"] == 16
    secret = generated.registration("Secret")
    mocked_key = mocks.COMPUTED[key.type]({})["base64"]
    # In the Secret's key file, and hidden wherever secrets are hidden (state, previews, plans).
    assert mocked_key in json.dumps(mocks.plain(secret.inputs))
    assert mocked_key not in json.dumps(mocks.redacted(secret.inputs))
    assert mocked_key not in json.dumps(generated.manifest("ConfigMap"))


def test_container_runs_envoy_with_the_worker_count_and_probes_the_tcp_listener(generated):
    (envoy,) = generated.pod["spec"]["containers"]
    args = envoy["args"]
    assert args[args.index("--concurrency") + 1] == "2"
    assert envoy["imagePullPolicy"] == "IfNotPresent" and envoy["resources"] == ARGS.resources
    tcp = {p["name"]: p for p in envoy["ports"] if p["protocol"] == "TCP"}
    bootstrap = yaml.safe_load(generated.manifest("ConfigMap")["data"]["envoy.yaml"])
    (h2,) = [x for x in bootstrap["static_resources"]["listeners"] if x["address"]["socket_address"]["protocol"] == "TCP"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert tcp[envoy[probe]["tcpSocket"]["port"]]["containerPort"] == h2["address"]["socket_address"]["port_value"]
    zones = [c["topologyKey"] for c in generated.pod["spec"]["topologySpreadConstraints"]]
    assert "topology.kubernetes.io/zone" in zones


def test_a_changed_bootstrap_rolls_the_pods(generated):
    checksum = "quicstack/config-sha256"
    other = build(listener=replace(ARGS.listener, h2_body="changed"))
    same = build()
    assert other.pod["metadata"]["annotations"][checksum] != generated.pod["metadata"]["annotations"][checksum]
    assert same.pod["metadata"]["annotations"][checksum] == generated.pod["metadata"]["annotations"][checksum]


def test_envoy_gets_twin_services_on_one_address_without_mixed_protocol(plan):
    """GKE rejects one LoadBalancer Service with TCP and UDP unless mixed protocol is on: two Services
    share the reserved address instead. EKS (TCP_UDP NLB listener) and k3s keep one Service."""
    gke = {s["metadata"]["name"]: s["spec"] for s in plan("gke").objects("Service") if s["metadata"]["namespace"] == "quic-example"}
    assert {n: {p["protocol"] for p in spec["ports"]} for n, spec in gke.items()} == {"envoy": {"UDP"}, "envoy-tcp": {"TCP"}}
    assert gke["envoy"]["loadBalancerIP"] == gke["envoy-tcp"]["loadBalancerIP"]
    for stack in ("eks", "k3s"):
        (one,) = [s for s in plan(stack).objects("Service") if s["metadata"]["namespace"] == "quic-example"]
        assert {p["protocol"] for p in one["spec"]["ports"]} == {"TCP", "UDP"}, stack
