"""The one way a workload asks for a certificate for its host.

Which ACME challenge answers for a host is decided on the ClusterIssuer (per-host solver selectors),
so a workload only names its host and gets back the Secret name to mount.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.restricted_workload import Pods

# cert-manager v1.21.1 starts an HTTP-01 solver pod in the Certificate's namespace, labelled
# `acme.cert-manager.io/http01-solver: "true"` and `acme.cert-manager.io/http-domain: <adler32 of the DNS name, in
# decimal>`, listening on TCP 8089 (pkg/issuer/acme/http/pod.go `podLabels`, http.go `acmeSolverListenPort`,
# pkg/apis/acme/v1/types.go); the edge's pods proxy the challenge to it.
SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
SOLVER_DOMAIN_LABEL = "acme.cert-manager.io/http-domain"
SOLVER_PORT = 8089


@dataclass(frozen=True)
class Certificate:
    resource: k8s.apiextensions.CustomResource
    secret_name: str
    """Secret (``tls.crt``, ``tls.key``, ``ca.crt``) that cert-manager writes and renews."""


def secret_name(host: str) -> str:
    """Derived from the host, so the Secret of any host is found without a lookup."""
    return f"{host}-tls"


def certificate_name(host: str) -> str:
    """The Certificate's name: the host with dashes for dots."""
    return host.replace(".", "-")


@dataclass(frozen=True)
class Issuer:
    """The ClusterIssuer that signs workload certificates, and what must exist before it can."""

    name: str
    ready: Sequence[pulumi.Resource] = ()
    """Issuers and cert-manager itself: a Certificate created earlier would be rejected by the webhook."""
    http01_hosts: Sequence[str] = ()
    """Hosts validated over HTTP-01: each Certificate for one brings a NetworkPolicy that lets ``edge`` reach its
    solver pods (the Certificate's namespace may deny everything else)."""
    edge: Optional[Pods] = None
    """The edge's pods, which carry Let's Encrypt's HTTP-01 requests to the solver pods."""

    def certificate(
        self, name: str, host: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> Certificate:
        """A Certificate for ``host`` (ECDSA P-256, PKCS#8, a fresh key on every renewal)."""
        secret = secret_name(host)
        resource = k8s.apiextensions.CustomResource(
            name,
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={"name": certificate_name(host), "namespace": namespace},
            spec={
                "secretName": secret,
                "dnsNames": [host],
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": self.name},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8", "rotationPolicy": "Always"},
                "usages": ["digital signature", "server auth"],
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(self.ready))),
        )
        if host in self.http01_hosts:
            self._solver_policy(name, host, namespace, opts)
        return Certificate(resource=resource, secret_name=secret)

    def _solver_policy(self, name: str, host: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
                       ) -> k8s.networking.v1.NetworkPolicy:
        """The solver pods of ``host`` take connections on their port from the edge's pods, and nothing else."""
        if self.edge is None:
            raise ValueError(f"{host} is validated over HTTP-01, but the issuer knows no edge to admit")
        return k8s.networking.v1.NetworkPolicy(
            f"{name}-http01-solver",
            metadata={"name": f"{certificate_name(host)}-http01-solver", "namespace": namespace},
            spec={"podSelector": {"matchLabels": solver_labels(host)}, "policyTypes": ["Ingress"],
                  "ingress": [self.edge.rule("from", [{"protocol": "TCP", "port": SOLVER_PORT}])]},
            opts=opts)


def solver_labels(host: str) -> dict[str, str]:
    """The labels cert-manager gives the HTTP-01 solver pods of ``host`` (v1.21.1, pkg/issuer/acme/http/pod.go)."""
    return {SOLVER_LABEL: "true", SOLVER_DOMAIN_LABEL: str(zlib.adler32(host.encode()))}
