"""Valid controls for issue 15: configs next to the refused ones that must still plan, each with what
the plan must show (the rules must not refuse what is fine)."""

from __future__ import annotations

import pytest

EXISTING = {"quicstack:domain": "example.com"}
K3S = {"quicstack:cloud": "k3s", "quicstack:domain": "example.com",
       "quicstack:k3s": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b",
                         "adminCidrs": ["203.0.113.7/32"]}}
GKE = {"quicstack:cloud": "gke", "quicstack:domain": "example.com",
       "quicstack:gke": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b"}}
EKS = {"quicstack:cloud": "eks", "quicstack:domain": "example.com",
       "quicstack:eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]},
       "quicstack:relay": {"webPort": 4443}}
DIGEST = "sha256:" + "0123456789abcdef" * 4
DOMAIN_243 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 51])


def container(plan, name: str) -> dict:
    deployment = plan.object("Deployment", name)
    return deployment["spec"]["template"]["spec"]["containers"][0]


def check_web_resources(plan):
    # Only memoryLimit was set: the other three are the watch page's own defaults (README config reference).
    assert container(plan, "watch-page")["resources"] == {
        "requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}


def check_envoy_cpu(plan):
    assert container(plan, "envoy")["resources"]["limits"] == {"cpu": "1", "memory": "128Mi"}


def check_digest_images(plan):
    assert container(plan, "relay")["image"] == f"moqdev/moq-relay@{DIGEST}"
    assert container(plan, "envoy")["image"] == "envoyproxy/envoy:distroless-v1.40.0"


def check_namespace_and_class(plan):
    assert plan.object("Namespace", "quic-demo-2")
    assert {i["spec"]["ingressClassName"] for i in plan.objects("Ingress")} == {"nginx-quic"}


def check_nodeport_envoy(plan):
    ports = {(p["port"], p["protocol"]) for s in plan.objects("Service") if s["metadata"]["namespace"] == "quic-example"
             for p in s["spec"]["ports"]}
    assert (8443, "UDP") in ports


def check_lower_case_hosts(plan):
    assert plan.outputs["webUrl"] == "https://example.com"


def check_long_domain(plan):
    secret = f"relay.{DOMAIN_243}-tls"
    assert len(secret) == 253 and plan.outputs["relayCertificateSecret"] == secret


def check_plans(plan):
    assert plan.resources


CONTROLS = [
    ("partial web resources", {**EXISTING, "quicstack:web": {"resources": {"memoryLimit": "32Mi"}}}, check_web_resources),
    ("partial Envoy resources", {**EXISTING, "quicstack:envoyDemo": {"resources": {"memoryLimit": "128Mi"}}}, check_envoy_cpu),
    ("images by digest and distroless tag", {**EXISTING, "quicstack:relay": {"image": f"moqdev/moq-relay@{DIGEST}"},
                                             "quicstack:envoyDemo": {"image": "envoyproxy/envoy:distroless-v1.40.0"}},
     check_digest_images),
    ("own namespace and class", {**EXISTING, "quicstack:envoyDemo": {"namespace": "quic-demo-2"},
                                 "quicstack:ingress": {"className": "nginx-quic"}}, check_namespace_and_class),
    ("NodePort ingress, Envoy on 8443", {**EXISTING, "quicstack:ingress": {"serviceType": "NodePort"}}, check_nodeport_envoy),
    ("domain in upper case with a root dot", {**EXISTING, "quicstack:domain": "Example.COM."}, check_lower_case_hosts),
    ("243-character domain: the longest Secret name fits", {**EXISTING, "quicstack:domain": DOMAIN_243}, check_long_domain),
    ("k3s admin list of one address and private ranges",
     {**K3S, "quicstack:k3s": {**K3S["quicstack:k3s"], "adminCidrs": ["203.0.113.7/32", "10.0.0.0/8", "192.168.0.0/16"]}},
     check_plans),
    ("k3s open on purpose", {**K3S, "quicstack:k3s": {**K3S["quicstack:k3s"], "adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"],
                                                      "allowOpenAdmin": True}}, check_plans),
    ("existing cluster, DNS-01 through Cloud DNS with a key Secret",
     {**EXISTING, "quicstack:acme": {"environment": "production", "email": "ops@example.com", "challenge": "dns01"},
      "quicstack:dns": {"provider": "clouddns", "zone": "example-com", "project": "quicstack-demo",
                        "credentialsSecret": "clouddns-key"}}, check_plans),
    ("GKE with an authorized network", {**GKE, "quicstack:gke": {**GKE["quicstack:gke"], "adminCidrs": ["203.0.113.7/32"]}},
     check_plans),
    ("EKS with two admins and 100 nodes at most",
     {**EKS, "quicstack:eks": {**EKS["quicstack:eks"], "admins": ["arn:aws:iam::123456789012:role/Admin",
                                                                  "arn:aws:iam::123456789012:user/ops"],
                               "nodes": {"maxSize": 100}}}, check_plans),
]


@pytest.mark.parametrize("config,check", [(c, k) for _, c, k in CONTROLS], ids=[n for n, _, _ in CONTROLS])
def test_valid_control_still_plans(plan_config, config, check):
    run, plan = plan_config(config)
    assert run.returncode == 0, run.stderr
    check(plan)


def test_at_least_ten_controls():
    assert len(CONTROLS) >= 10
