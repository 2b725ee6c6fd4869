"""Deploys the ClusterIssuers: Let's Encrypt production and staging with per-host solvers, or a local CA.

ACME: one solver per challenge, each selecting its hosts by ``dnsNames``, so web hosts can answer
HTTP-01 through the ingress while the relay host answers DNS-01. Self-signed: a self-signed root
Certificate and a CA ClusterIssuer, so every certificate chains to one root that a client trusts
with a single CA file (exported as ``ca_certificate``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.platform.cert_manager import NAMESPACE
from components.platform.certificates import Issuer
from components.restricted_workload import Pods

ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
ROOT_CA_SECRET = "quicstack-root-ca"
# A year: a client that trusts the root trusts it for no longer than that. cert-manager renews it at
# two thirds of its life (https://cert-manager.io/docs/usage/certificate/#renewal), after which
# clients trust the new `caCertificate` output instead.
ROOT_CA_DURATION = "8760h"


def dns01_solver(provider: str, zone: str, project: Optional[str], region: Optional[str],
                 credentials_secret: Optional[str] = None, follow_cnames: bool = False) -> dict:
    """The ``dns01`` solver stanza for Cloud DNS or Route53.

    Without a credentials Secret both use ambient credentials: GKE Workload Identity or EKS Pod
    Identity on cert-manager's ServiceAccount, so no key lives in the cluster. ``follow_cnames``: each
    ``_acme-challenge`` name is a CNAME into ``zone`` (a Cloud DNS challenge zone), and cert-manager
    writes the TXT record at the CNAME's target
    (https://cert-manager.io/docs/configuration/acme/dns01/#delegated-domains-for-dns01).
    """
    if provider == "clouddns":
        cloud_dns: dict = {"project": project, "hostedZoneName": zone}
        if credentials_secret:
            cloud_dns["serviceAccountSecretRef"] = {"name": credentials_secret, "key": "key.json"}
        return {"cloudDNS": cloud_dns, **({"cnameStrategy": "Follow"} if follow_cnames else {})}
    return {"route53": {"region": region, "hostedZoneID": zone}}


def permitted_domains(domain: str, hosts: Sequence[str]) -> list[str]:
    """The local CA's permitted DNS domains: the stack's domain, plus each public host outside it (a ``relay.host``
    in another domain): a name constraint covers a domain and every name under it (RFC 5280 4.2.1.10)."""
    outside = {h for h in hosts if h != domain and not h.endswith(f".{domain}")}
    return [domain, *sorted(outside)]


@dataclass(frozen=True)
class IssuersArgs:
    environment: Literal["production", "staging", "selfsigned"]
    """Which issuer signs workload certificates."""
    ingress_class: str
    """IngressClass the HTTP-01 solver's temporary Ingresses use."""
    http01_hosts: Sequence[str] = ()
    """Hosts validated over HTTP-01 (their address serves the ingress's TCP 80)."""
    dns01_hosts: Sequence[str] = ()
    """Hosts validated over DNS-01."""
    dns01: Mapping[str, object] = field(default_factory=dict)
    """The ``dns01`` solver stanza (``cloudDNS`` or ``route53``); required when ``dns01_hosts`` is set."""
    email: Optional[str] = None
    """ACME account e-mail."""
    ca_domain: str = ""
    """The stack's domain: with the hosts outside it, the only names the local CA may sign for (selfsigned mode)."""
    cert_manager: Sequence[pulumi.Resource] = ()
    """The cert-manager release: its CRDs and webhook must be up before any issuer is created."""
    http01_solver: Optional[Mapping[str, object]] = None
    """The ``http01`` solver stanza; None: through the Ingress class (the Gateway edge gives ``gatewayHTTPRoute``)."""
    edge: Optional[Pods] = None
    """The edge's pods: HTTP-01 solver pods admit them (required with ``http01_hosts`` and ACME)."""


class Issuers(pulumi.ComponentResource):
    issuer: Issuer
    """The ClusterIssuer workload certificates use."""
    ca_certificate: pulumi.Output[str]
    """PEM of the local root CA in selfsigned mode; "" with Let's Encrypt."""

    def __init__(self, name: str, args: IssuersArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:platform:Issuers", name, None, opts)
        after_cert_manager = pulumi.ResourceOptions(parent=self, depends_on=list(args.cert_manager))
        if args.environment == "selfsigned":
            domains = permitted_domains(args.ca_domain, [*args.http01_hosts, *args.dns01_hosts])
            self.issuer, self.ca_certificate = self._local_ca(name, domains, after_cert_manager)
        else:
            issuers = {env: self._acme(name, env, args, after_cert_manager) for env in ACME_SERVERS}
            self.issuer = Issuer(name=f"letsencrypt-{args.environment}", ready=[issuers[args.environment]],
                                 http01_hosts=tuple(args.http01_hosts), edge=args.edge)
            self.ca_certificate = pulumi.Output.from_input("")
        self.register_outputs({"issuer": self.issuer.name, "caCertificate": self.ca_certificate})

    def _acme(
        self, name: str, env: str, args: IssuersArgs, opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        solvers = []
        if args.dns01_hosts:
            solvers.append({"selector": {"dnsNames": sorted(args.dns01_hosts)}, "dns01": dict(args.dns01)})
        if args.http01_hosts:
            solvers.append({"selector": {"dnsNames": sorted(args.http01_hosts)},
                            "http01": dict(args.http01_solver) if args.http01_solver else
                            {"ingress": {"ingressClassName": args.ingress_class}}})
        acme = {
            "server": ACME_SERVERS[env],
            "privateKeySecretRef": {"name": f"letsencrypt-{env}-account"},
            "solvers": solvers,
        }
        if args.email:
            acme["email"] = args.email
        return k8s.apiextensions.CustomResource(
            f"{name}-letsencrypt-{env}", api_version="cert-manager.io/v1", kind="ClusterIssuer",
            metadata={"name": f"letsencrypt-{env}"}, spec={"acme": acme}, opts=opts,
        )

    def _local_ca(self, name: str, domains: Sequence[str], opts: pulumi.ResourceOptions
                  ) -> tuple[Issuer, pulumi.Output[str]]:
        if not domains[0]:
            raise ValueError("the local CA needs the stack's domain to constrain its names")
        bootstrap = k8s.apiextensions.CustomResource(
            f"{name}-selfsigned", api_version="cert-manager.io/v1", kind="ClusterIssuer",
            metadata={"name": "quicstack-selfsigned"}, spec={"selfSigned": {}}, opts=opts,
        )
        root = k8s.apiextensions.CustomResource(
            f"{name}-root-ca",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            # Pulumi waits until cert-manager has issued the root, so the CA issuer and the read-back
            # below never see a missing Secret.
            metadata={
                "name": ROOT_CA_SECRET,
                "namespace": NAMESPACE,
                "annotations": {"pulumi.com/waitFor": "condition=Ready"},
            },
            spec={
                "isCA": True,
                "commonName": "quicstack local root CA",
                "secretName": ROOT_CA_SECRET,
                "duration": ROOT_CA_DURATION,
                # Every client that trusts this root (a cluster-wide ClusterIssuer any namespace can
                # use) accepts only the stack's names from it (RFC 5280 4.2.1.10; cert-manager's
                # NameConstraints feature gate is Beta and on by default in v1.21).
                "nameConstraints": {"critical": True, "permitted": {"dnsDomains": list(domains)}},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8"},
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "quicstack-selfsigned"},
            },
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[bootstrap])),
        )
        ca = k8s.apiextensions.CustomResource(
            f"{name}-ca", api_version="cert-manager.io/v1", kind="ClusterIssuer",
            # A ClusterIssuer reads its CA Secret from cert-manager's own namespace.
            metadata={"name": "quicstack-ca"}, spec={"ca": {"secretName": ROOT_CA_SECRET}},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[root])),
        )
        # An id from the Certificate's output, so `pulumi preview` of a new stack skips the read (pulumi/pulumi#16395).
        secret_id = root.id.apply(lambda _: f"{NAMESPACE}/{ROOT_CA_SECRET}")
        secret = k8s.core.v1.Secret.get(
            f"{name}-root-ca-secret",
            secret_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[root]),
        )
        # The root's certificate is public (clients trust it); only the Secret's tls.key is sensitive.
        pem = pulumi.Output.unsecret(
            secret.data.apply(lambda d: base64.b64decode((d or {}).get("ca.crt", "")).decode())
        )
        return Issuer(name="quicstack-ca", ready=[ca]), pem
