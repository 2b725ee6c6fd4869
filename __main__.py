"""quicstack: QUIC services on Kubernetes.

Deploys, onto the cluster the stack selects (``quicstack:cloud``):
- the cluster itself for k3s, GKE and EKS (``stacks/<cloud>.py``), or nothing for an existing cluster;
- the platform: ingress-nginx, cert-manager and its issuers (``components/platform``);
- the workloads: the Media-over-QUIC relay and its watch page, and the Envoy HTTP/3 QUIC-LB demo
  (``components/workloads``).

Config is read once, here, into typed settings; everything below takes typed arguments.
"""

import importlib

import pulumi
import pulumi_kubernetes as k8s

from stacks.config import from_pulumi

settings = from_pulumi()
# Import only the selected cloud's layer, so an EKS stack never loads pulumi_gcp and vice versa.
cluster = importlib.import_module(f"stacks.{settings.cloud}").build(settings)
k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)

# The relay and its watch page share one namespace; pods there must meet the `restricted` profile.
moq_namespace = k8s.core.v1.Namespace(
    "moq",
    metadata={"name": "moq", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
    opts=k8s_opts,
)

# PLATFORM (issue 3)
# RELAY AND WATCH PAGE (issue 4)
# ENVOY DEMO (issue 5)
# ENDPOINTS AND RECORDS (lead)
