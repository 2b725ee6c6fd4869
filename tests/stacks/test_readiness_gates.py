"""On EKS a rollout waits until new pods are healthy load balancer targets (issue 16)."""

import pytest

from tests.conftest import STACKS, stack_config


@pytest.mark.parametrize("stack", STACKS)
def test_nlb_backed_namespaces_wait_for_healthy_targets_on_eks_only(plan, stack):
    p = plan(stack)
    eks = stack_config(stack).get("quicstack:cloud") == "eks"
    gate = "elbv2.k8s.aws/pod-readiness-gate-inject"
    for name in ("ingress-nginx", "moq", p.object("Deployment", "envoy")["metadata"]["namespace"]):
        labels = p.object("Namespace", name)["metadata"]["labels"]
        assert (labels.get(gate) == "enabled") is eks, name
    if eks:  # the controller's webhook admits the gated pods: it runs first
        controller = next(r for r in p.of_type("kubernetes:helm.sh/v3:Release")
                          if r["inputs"]["name"] == "aws-load-balancer-controller")
        # One relay is a Deployment, a tier (EKS's default of two) a StatefulSet.
        relay = next(r for kind in ("Deployment", "StatefulSet") for r in p.of_type(f"kubernetes:apps/v1:{kind}")
                     if r["inputs"]["metadata"]["name"] == "relay")
        assert controller["urn"] in p.depends_on(relay["urn"])
