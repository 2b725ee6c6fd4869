"""Deploys the ingress controller: ingress-nginx as a pinned Helm release.

ingress-nginx was retired upstream in March 2026 (final chart 4.15.1, controller v1.15.1: no more
fixes, including security fixes). It is shipped because the product's design names it; the
component's interface (``IngressArgs`` and the outputs) says nothing nginx-specific, so a Gateway
API implementation can replace it behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Exposure
from components.helm import chart_selector, release_options, spread_over_nodes
from components.k8s import lb_address, restricted_namespace
from components.shared.resources import Resources

CHART = "ingress-nginx"
CHART_VERSION = "4.15.1"
REPOSITORY = "https://kubernetes.github.io/ingress-nginx"
NAMESPACE = "ingress-nginx"
# fullnameOverride pins the Service name, so the address can be read back without guessing.
SERVICE = "ingress-nginx-controller"
# The controller pods' selector labels (chart 4.15.1, _helpers.tpl "ingress-nginx.selectorLabels").
CONTROLLER_SELECTOR = chart_selector("ingress-nginx", "ingress-nginx", "controller")
# The controller's default access log line (controller v1.15.1, internal/ingress/controller/config/
# config.go) with `"$request"` (which carries the query string) replaced by method, path and protocol,
# and without the Referer: relay tokens travel as `?jwt=`, and the watch page's URL carries one too.
ACCESS_LOG_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request_method $uri $server_protocol" $status '
    '$body_bytes_sent "$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
    "[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time "
    "$upstream_status $req_id"
)
# The controller renders `proxy_responses <proxy-stream-responses>` (default 1) into each UDP server
# block: nginx ends the UDP session after that many answers from the backend, so a QUIC handshake
# through it never completes. 2147483647 is the most nginx accepts; a QUIC connection lives as long as
# it stays active (`proxy-stream-timeout`, 600 s idle). A string on purpose: the chart passes it through
# `toString`, which would print a float (Helm's values are JSON) as 2.147483647e+09, which the
# controller's Atoi rejects, silently keeping 1.
# Upstream (github.com/kubernetes/ingress-nginx, tag controller-v1.15.1): rootfs/etc/nginx/template/nginx.tmpl
# (UDP services) and internal/ingress/controller/template/configmap.go (proxy-stream-responses).
UDP_SESSION_RESPONSES = "2147483647"


@dataclass(frozen=True)
class IngressArgs:
    class_name: str
    """IngressClass that this controller serves."""
    service_type: str
    """`LoadBalancer`, or `NodePort` for clusters without a load balancer."""
    exposure: Exposure
    """Address, class and annotations of the controller's LoadBalancer Service (from the cluster layer)."""
    replicas: int
    """Controller pods; above 1 the chart adds a PodDisruptionBudget (minAvailable 1)."""
    resources: Resources
    """Controller container requests and limits."""
    udp: Mapping[int, str] = field(default_factory=dict)
    """Public UDP port -> `namespace/service:port` carried through the controller (mixed protocol)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must run before the release (EKS: the load balancer controller)."""


class IngressController(pulumi.ComponentResource):
    address: pulumi.Output[str]
    """External IP or host name of the controller's load balancer ("" for NodePort)."""

    def __init__(self, name: str, args: IngressArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:platform:IngressController", name, None, opts)
        self.class_name = args.class_name

        service: dict = {"type": args.service_type, "externalTrafficPolicy": "Local"}
        if args.service_type == "LoadBalancer":
            service.update({k: v for k, v in args.exposure.spec().items() if k != "type"})
            service["annotations"] = dict(args.exposure.annotations)
        values = {
            "fullnameOverride": "ingress-nginx",
            "controller": {
                "replicaCount": args.replicas,
                "ingressClass": args.class_name,
                "ingressClassResource": {"name": args.class_name, "default": False},
                # Snippet annotations let any Ingress author inject nginx config; keep them off.
                "allowSnippetAnnotations": False,
                "resources": args.resources.as_k8s(),
                "service": service,
                "metrics": {"enabled": False},
                # The chart's NetworkPolicies: the controller admits only its own ports, and the
                # admission webhook's certificate jobs get one too (both default to off).
                "networkPolicy": {"enabled": True},
                "admissionWebhooks": {"patch": {"networkPolicy": {"enabled": True}}},
                "config": {"log-format-upstream": ACCESS_LOG_FORMAT},
                "topologySpreadConstraints": spread_over_nodes(CONTROLLER_SELECTOR) if args.replicas > 1 else [],
            },
            "udp": {str(port): target for port, target in args.udp.items()},
        }
        if args.udp:
            values["controller"]["config"]["proxy-stream-responses"] = UDP_SESSION_RESPONSES
        namespace = restricted_namespace(
            f"{name}-namespace", NAMESPACE, pulumi.ResourceOptions(parent=self),
            labels=args.exposure.namespace_labels if args.service_type == "LoadBalancer" else None)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name="ingress-nginx",
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": REPOSITORY},
            namespace=namespace.metadata.name,
            values=values,
            **release_options(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *args.depends_on]),
        )
        if args.service_type == "LoadBalancer":
            # The id comes from the release's output, not a literal: `pulumi preview` of a new stack then skips
            # the read (the chart's Service does not exist yet); depends_on alone does not (pulumi/pulumi#16395).
            service_id = self.release.status.apply(lambda _: f"{NAMESPACE}/{SERVICE}")
            svc = k8s.core.v1.Service.get(
                f"{name}-service",
                service_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
            )
            self.address = svc.status.apply(lb_address)
        else:
            self.address = pulumi.Output.from_input("")
        self.register_outputs({"address": self.address})

