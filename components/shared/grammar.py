"""The grammar of the strings a stack hands to Kubernetes, a registry or a cloud API.

A leaf module (standard library only): each function takes the whole value, checks it with
``fullmatch`` (never a ``$`` that lets a trailing newline through) and raises ``ValueError`` with the
problem, which the config layer turns into its one-line error.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation

# DNS-1123: a label (namespaces, Service names) and a subdomain (most object names, Secret names).
K8S_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
K8S_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
K8S_NAME_MAX = 253

# https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces:
# the kube- prefix is reserved for Kubernetes system namespaces.
RESERVED_NAMESPACE_PREFIX = "kube-"
RESERVED_NAMESPACES = ("default",)


def k8s_label(value: str) -> str:
    if len(value) > 63 or not K8S_LABEL.fullmatch(value):
        raise ValueError("is not a Kubernetes name "
                         "(lower-case a-z, 0-9 and '-', starting and ending alphanumeric, at most 63)")
    return value


def k8s_subdomain(value: str) -> str:
    if len(value) > K8S_NAME_MAX or not K8S_SUBDOMAIN.fullmatch(value):
        raise ValueError("is not a Kubernetes object name (lower-case a-z, 0-9, '-' and '.', at most 253)")
    return value


def own_namespace(value: str) -> str:
    """A namespace the stack may create and own: a valid name, not one Kubernetes reserves."""
    k8s_label(value)
    if value.startswith(RESERVED_NAMESPACE_PREFIX) or value in RESERVED_NAMESPACES:
        raise ValueError("is reserved by Kubernetes (kube-* and default): choose a namespace of the demo's own")
    return value


# Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource/quantity.go): a non-negative
# decimal number and one suffix, binary (Ki..Ei), decimal (n, u, m, k, M..E) or an exponent (e3).
_QUANTITY = re.compile(
    r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal("1e3"),
            "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18")}


def quantity(value: str) -> Decimal:
    """The value of a Kubernetes quantity (``500m`` -> 0.5, ``128Mi`` -> 134217728)."""
    found = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if not found:
        raise ValueError("is not a Kubernetes quantity")
    suffix = found.group("suffix") or ""
    try:
        number = Decimal(found.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError("is not a Kubernetes quantity") from None
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Decimal(10) ** int(suffix[1:])


CPU_MIN, CPU_MAX = Decimal("0.001"), Decimal(256)
MEMORY_MIN, MEMORY_MAX = Decimal(2**20), Decimal(256 * 2**30)


def cpu(value: str) -> str:
    try:
        cores = quantity(value)
    except ValueError:
        cores = Decimal(0)
    if cores < CPU_MIN:
        raise ValueError("is not a CPU quantity such as 1, 2.5 or 500m")
    if cores > CPU_MAX:
        raise ValueError("is not a CPU quantity from 1m to 256")
    return value


def memory(value: str) -> str:
    try:
        size = quantity(value)
    except ValueError:
        raise ValueError("is not a memory quantity such as 128Mi or 1Gi") from None
    if not MEMORY_MIN <= size <= MEMORY_MAX:
        raise ValueError("is not a memory quantity from 1Mi to 256Gi")
    return value


# Image references (github.com/distribution/reference grammar): [host[:port]/]path[:tag][@digest].
_HOST = r"(?:[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
_IMAGE = re.compile(rf"(?P<name>{_HOST}?{_PATH})(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>[^\s]*))?", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# Tags that name a branch or a channel: what they point at changes under the same name.
UNPINNED = "is not pinned: give a version tag (not a moving tag such as latest, main or nightly) or a digest"
MOVING_TAGS = ("latest", "dev", "main", "master", "edge", "nightly", "stable", "head", "canary", "develop", "trunk",
               "beta")


def image(value: str) -> str:
    """A pinned image reference: a version tag or a sha256 digest, never a tag that moves."""
    if any(c.isspace() for c in value):
        raise ValueError("contains whitespace")
    found = _IMAGE.fullmatch(value)
    if not found:
        raise ValueError("is not an image reference such as registry.example/name:1.2.3 or name@sha256:<64 hex>")
    tag, digest = found.group("tag"), found.group("digest")
    if digest is not None and not _DIGEST.fullmatch(digest):
        raise ValueError("has a malformed digest: give sha256: and 64 lower-case hex digits")
    if (digest is None and not tag) or (tag and tag.lower() in MOVING_TAGS):
        raise ValueError(UNPINNED)
    return value


def image_version(value: str) -> tuple[int, int] | None:
    """(major, minor) from an image's tag (``v1.40.0``, ``distroless-v1.36.2``); None for a digest alone."""
    tag = _IMAGE.fullmatch(value).group("tag") if _IMAGE.fullmatch(value) else None
    found = re.search(r"(?:^|[^0-9.])v?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?", f"-{tag}") if tag else None
    return (int(found.group(1)), int(found.group(2))) if found else None


# Cloud DNS managed-zone names: https://cloud.google.com/dns/docs/zones (1-63, a-z 0-9 -, starting with a letter).
_CLOUD_DNS_ZONE = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
# Route53 hosted-zone IDs: Z and upper-case letters and digits (the console shows them as /hostedzone/Z...).
ROUTE53_ZONE = re.compile(r"Z[0-9A-Z]{4,31}")


def cloud_dns_zone(value: str) -> str:
    if ROUTE53_ZONE.fullmatch(value):
        raise ValueError("looks like a Route53 hosted-zone ID; for clouddns give the managed zone's *name* "
                         "(gcloud dns managed-zones list)")
    if "." in value:
        raise ValueError("is a DNS name; for clouddns give the managed zone's *name*, e.g. example-com "
                         "(gcloud dns managed-zones list)")
    if not _CLOUD_DNS_ZONE.fullmatch(value):
        raise ValueError("is not a Cloud DNS managed-zone name (a-z, 0-9 and '-', starting with a letter, at most 63)")
    return value


def route53_zone(value: str) -> str:
    if not ROUTE53_ZONE.fullmatch(value):
        raise ValueError("is not a Route53 hosted-zone ID such as Z0123456789ABCDEFGHIJ "
                         "(aws route53 list-hosted-zones-by-name --dns-name <domain>)")
    return value


def is_ip_literal(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False
