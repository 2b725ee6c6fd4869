"""Who may use a relay tier's peer issuer, decided by the real kube-apiserver: the ValidatingAdmissionPolicy
``peer_pki.admission_policy`` renders (the one the plan deploys, ``test_the_plan_deploys_this_policy``), with
cert-manager's CRDs installed. Every probe is a server-side dry run, so nothing is stored; the policy, its binding
and the namespace are deleted after the module.

A tier in a namespace of this module's own (``moq-vap``), so the stack tests' ``moq`` never meets it."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.workloads.relay import peer_pki
from components.workloads.relay.cluster import RelayCluster
from tests.support.control_plane import ControlPlane, KubectlError, wait_for

TIER = RelayCluster(replicas=2, namespace="moq-vap", peer_port=4490)
MALLORY = ("--as=mallory", "--as-group=system:masters")
"""A cluster admin by group, so RBAC admits every request and only the admission policy can refuse it."""
CONTROLLER = (f"--as={peer_pki.CONTROLLER}", "--as-group=system:masters")


def objects() -> list[dict]:
    policy, binding = peer_pki.admission_policy(TIER)
    name = binding["policyName"]
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TIER.namespace}},
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
             "metadata": {"name": name}, "spec": policy},
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
             "metadata": {"name": name}, "spec": binding}]


def certificate(name: str = peer_pki.PEER_CERTIFICATE, **spec) -> dict:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": TIER.namespace},
            "spec": {**peer_pki.peer_certificate_spec(TIER), **spec}}


def certificate_request(issuer: str) -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay-9")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"relay-9.{TIER.domain}")]), critical=False)
           .sign(key, hashes.SHA256()))
    pem = csr.public_bytes(serialization.Encoding.PEM)
    return {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": "forged", "namespace": TIER.namespace},
            "spec": {"request": base64.b64encode(pem).decode(), "usages": ["client auth"],
                     "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer}}}


def admitted(plane: ControlPlane, obj: dict, *identity: str) -> str:
    """"" when the API server admits ``obj`` (a server-side dry run), else its refusal."""
    run = plane.kubectl("create", "--dry-run=server", *identity, "-f", "-", input=json.dumps(obj), check=False)
    return "" if run.returncode == 0 else run.stderr.strip()


@pytest.fixture(scope="module")
def policed(control_plane: ControlPlane):
    control_plane.apply(objects())
    try:
        # The API server compiles and starts enforcing a new policy within a few seconds.
        wait_for(lambda: admitted(control_plane, certificate("intruder")), "the policy in force", 30)
        yield control_plane
    finally:
        for obj in objects()[::-1]:
            control_plane.kubectl("delete", obj["kind"], obj["metadata"]["name"], "--ignore-not-found", "--wait=false")


def test_the_planned_peer_certificate_is_admitted(policed):
    assert admitted(policed, certificate()) == ""


@pytest.mark.parametrize("change", ["another name", "other names", "a CA", "another Secret"])
def test_any_other_certificate_for_the_peer_issuer_is_refused(policed, change):
    bad = {"another name": certificate("intruder"),
           "other names": certificate(dnsNames=["relay.evil.example"]),
           "a CA": certificate(isCA=True),
           "another Secret": certificate(secretName="mine")}[change]
    refused = admitted(policed, bad)
    assert f"only Certificate {TIER.namespace}/relay-peer, for the tier's names, may use " in refused, refused


def test_a_certificate_request_for_the_peer_issuer_needs_cert_managers_controller(policed):
    forged = certificate_request(peer_pki.issuer_name(TIER))
    refused = admitted(policed, forged, *MALLORY)
    assert "only cert-manager's controller may request a certificate from quicstack-relay-peers-moq-vap" in refused
    assert admitted(policed, forged, *CONTROLLER) == ""


def test_other_issuers_are_not_its_business(policed):
    assert admitted(policed, certificate_request("quicstack-ca"), *MALLORY) == ""
    assert admitted(policed, certificate("intruder", issuerRef={"kind": "ClusterIssuer", "name": "quicstack-ca"})) == ""


def test_the_plan_deploys_this_policy(plan):
    """The eks stack (two relays in ``moq``) renders the policy of its own tier, verbatim."""
    eks = plan("eks")
    cluster = RelayCluster(replicas=2, namespace="moq", peer_port=4490)
    policy, binding = peer_pki.admission_policy(cluster)
    assert eks.object("ValidatingAdmissionPolicy", binding["policyName"])["spec"] == policy
    assert eks.object("ValidatingAdmissionPolicyBinding", binding["policyName"])["spec"] == binding


def test_a_refusal_reads_as_one_line(policed):
    with pytest.raises(KubectlError) as error:
        policed.kubectl("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(certificate("intruder")))
    assert "ValidatingAdmissionPolicy" in str(error.value)
