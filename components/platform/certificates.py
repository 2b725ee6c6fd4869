"""The one way a workload asks for a certificate for its host.

Which ACME challenge answers for a host is decided on the ClusterIssuer (per-host solver selectors),
so a workload only names its host and gets back the Secret name to mount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class Certificate:
    resource: k8s.apiextensions.CustomResource
    secret_name: str
    """Secret (``tls.crt``, ``tls.key``, ``ca.crt``) that cert-manager writes and renews."""


def secret_name(host: str) -> str:
    """Derived from the host, so the Secret of any host is found without a lookup."""
    return f"{host}-tls"


@dataclass(frozen=True)
class Issuer:
    """The ClusterIssuer that signs workload certificates, and what must exist before it can."""

    name: str
    ready: Sequence[pulumi.Resource] = ()
    """Issuers and cert-manager itself: a Certificate created earlier would be rejected by the webhook."""

    def certificate(
        self, name: str, host: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> Certificate:
        """A Certificate for ``host`` (ECDSA P-256, PKCS#8, a fresh key on every renewal)."""
        secret = secret_name(host)
        resource = k8s.apiextensions.CustomResource(
            name,
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={"name": secret.removesuffix("-tls").replace(".", "-"), "namespace": namespace},
            spec={
                "secretName": secret,
                "dnsNames": [host],
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": self.name},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8", "rotationPolicy": "Always"},
                "usages": ["digital signature", "server auth"],
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(self.ready))),
        )
        return Certificate(resource=resource, secret_name=secret)
