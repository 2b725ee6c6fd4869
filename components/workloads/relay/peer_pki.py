"""The relay tier's peer CA and peer certificate, and who may use them.

The CA is issued outside the relays' namespace: a self-signed Issuer and the CA's Certificate (a year, renewed three
months before its end, name-constrained to the headless Service's domain) live in cert-manager's namespace, and a
ClusterIssuer signs with it (a ClusterIssuer reads its CA Secret from there). Only one Certificate may use that
ClusterIssuer: ``relay-peer`` in the relays' namespace, for the tier's names, whose Secret every relay mounts (90
days, renewed 30 days before; cert-manager caps it at the CA's end, ``pkg/util/pki`` ``CertificateNotAfterValidity``,
so the renewed CA re-signs it in time).

A ClusterIssuer alone would sign for anyone who may create a Certificate or a CertificateRequest anywhere, so a
ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, the API server's own CEL admission) refuses, for that
ClusterIssuer: any CertificateRequest not created by cert-manager's controller (a request carries the requester's own
key, so it is the one way to a peer certificate without reading the relays' Secret), and any Certificate but
``relay-peer`` as planned. Whoever may create Certificates in the relays' namespace therefore gets no peer
credential; reading the Secret ``relay-peer-tls`` (or the CA's in cert-manager's namespace) still gives one, which is
what Secret access means anyway.
"""

from __future__ import annotations

from typing import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.platform.cert_manager import NAMESPACE as CERT_MANAGER_NAMESPACE
from components.platform.cert_manager import SERVICE_ACCOUNT as CERT_MANAGER_ACCOUNT
from components.workloads.relay.cluster import RelayCluster

PEER_SECRET = "relay-peer-tls"
PEER_CERTIFICATE = "relay-peer"
CA_SECRET = "relay-peer-ca"
CA_DURATION, CA_RENEW_BEFORE, PEER_DURATION, PEER_RENEW_BEFORE = "8760h", "2160h", "2160h", "720h"
"""A year at most for the CA (renewed 3 months before its end); the peers' certificate lives 90 days."""
_KEY = {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8"}
CONTROLLER = f"system:serviceaccount:{CERT_MANAGER_NAMESPACE}:{CERT_MANAGER_ACCOUNT}"
"""The identity cert-manager's controller creates CertificateRequests with (chart defaults)."""


def issuer_name(cluster: RelayCluster) -> str:
    """The ClusterIssuer of one tier (cluster-scoped: named for the relays' namespace)."""
    return f"quicstack-relay-peers-{cluster.namespace}"


def _resource(kind: str, resource_name: str, metadata: dict, spec: dict, opts: pulumi.ResourceOptions):
    return k8s.apiextensions.CustomResource(resource_name, api_version="cert-manager.io/v1", kind=kind,
                                            metadata=metadata, spec=spec, opts=opts)


def peer_certificate_spec(cluster: RelayCluster) -> dict:
    """The one Certificate the peers' ClusterIssuer signs (the admission policy admits exactly this)."""
    return {
        "secretName": PEER_SECRET, "dnsNames": cluster.certificate_dns_names,
        "duration": PEER_DURATION, "renewBefore": PEER_RENEW_BEFORE,
        "privateKey": {**_KEY, "rotationPolicy": "Always"},
        "usages": ["digital signature", "server auth", "client auth"],
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer_name(cluster)},
    }


def admission_policy(cluster: RelayCluster) -> tuple[dict, dict]:
    """(ValidatingAdmissionPolicy spec, its binding's spec): who may use the peers' ClusterIssuer."""
    issuer, names = issuer_name(cluster), cluster.certificate_dns_names
    uses_issuer = ("has(object.spec.issuerRef) && has(object.spec.issuerRef.kind) && "
                   f"object.spec.issuerRef.kind == 'ClusterIssuer' && object.spec.issuerRef.name == '{issuer}' && "
                   "(!has(object.spec.issuerRef.group) || object.spec.issuerRef.group == 'cert-manager.io')")
    planned = (f"request.namespace == '{cluster.namespace}' && object.metadata.name == '{PEER_CERTIFICATE}' && "
               f"object.spec.secretName == '{PEER_SECRET}' && has(object.spec.dnsNames) && "
               f"object.spec.dnsNames == {names!r} && !(has(object.spec.isCA) && object.spec.isCA)")
    policy = {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{"apiGroups": ["cert-manager.io"], "apiVersions": ["*"],
                                                "operations": ["CREATE", "UPDATE"],
                                                "resources": ["certificates", "certificaterequests"]}]},
        "matchConditions": [{"name": "uses-the-relay-peers-issuer", "expression": uses_issuer}],
        "validations": [
            {"expression": f"request.resource.resource != 'certificaterequests' || "
                           f"request.userInfo.username == '{CONTROLLER}'",
             "message": f"only cert-manager's controller may request a certificate from {issuer} (it does so for "
                        f"Certificate {cluster.namespace}/{PEER_CERTIFICATE})"},
            {"expression": f"request.resource.resource != 'certificates' || ({planned})",
             "message": f"only Certificate {cluster.namespace}/{PEER_CERTIFICATE}, for the tier's names, may use "
                        f"{issuer}"},
        ],
    }
    return policy, {"policyName": f"{issuer}-users", "validationActions": ["Deny"]}


def peer_certificate(name: str, cluster: RelayCluster, namespace: pulumi.Input[str], ready: Sequence[pulumi.Resource],
                     opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The CA in cert-manager's namespace, its ClusterIssuer, the admission policy, and the peers' certificate (in
    ``PEER_SECRET``, the relays' namespace)."""
    def after(*resources) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[*ready, *resources]))

    bootstrap_name = f"{cluster.namespace}-relay-peer-ca-bootstrap"
    bootstrap = _resource("Issuer", f"{name}-peer-ca-bootstrap",
                          {"name": bootstrap_name, "namespace": CERT_MANAGER_NAMESPACE}, {"selfSigned": {}}, after())
    ca = _resource("Certificate", f"{name}-peer-ca", {"name": f"{cluster.namespace}-{CA_SECRET}",
                                                      "namespace": CERT_MANAGER_NAMESPACE}, {
        "isCA": True, "commonName": f"{cluster.domain} peers", "secretName": f"{cluster.namespace}-{CA_SECRET}",
        "duration": CA_DURATION, "renewBefore": CA_RENEW_BEFORE, "privateKey": _KEY,
        # cert-manager's NameConstraints feature (beta and on by default since v1.17): a chain through this CA is
        # valid only for names under the tier's domain (RFC 5280 4.2.1.10; rustls-webpki enforces it).
        "nameConstraints": {"critical": True, "permitted": {"dnsDomains": [cluster.domain]}},
        "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": bootstrap_name},
    }, after(bootstrap))
    policy_spec, binding_spec = admission_policy(cluster)
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        f"{name}-peer-issuer-policy", metadata={"name": binding_spec["policyName"]}, spec=policy_spec, opts=after())
    binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        f"{name}-peer-issuer-binding", metadata={"name": binding_spec["policyName"]}, spec=binding_spec,
        opts=after(policy))
    issuer = _resource("ClusterIssuer", f"{name}-peer-issuer", {"name": issuer_name(cluster)},
                       {"ca": {"secretName": f"{cluster.namespace}-{CA_SECRET}"}}, after(ca, binding))
    return _resource("Certificate", f"{name}-peer-certificate", {"name": PEER_CERTIFICATE, "namespace": namespace},
                     peer_certificate_spec(cluster), after(issuer))
