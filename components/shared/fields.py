"""The reusable field types every config section is built from (strings get their real grammar)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

from components.shared import grammar

# Patterns are matched whole (``fullmatch``): ``$`` would let a trailing newline through.
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# An address Let's Encrypt can use: an ASCII local part (RFC 5322 atext and dots) at a DNS name.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _dns_name(value: str) -> str:
    if grammar.is_ip_literal(value):
        raise ValueError("is an IP address; hosts must be DNS names (Ingress rules and certificates need names)")
    name = value.removesuffix(".").lower()
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)")
    if labels[-1].isdigit():
        raise ValueError("is not a DNS name: its last label is all digits")
    return name


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("is not an e-mail address")
    return value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError("is not a CIDR block such as 203.0.113.0/24") from None


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError("is not an IPv4 address") from None


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("is not a port (1-65535)")
    return value


def matching(pattern: re.Pattern, problem: str) -> AfterValidator:
    """A string validator: values that ``pattern`` does not match fail with ``problem`` ("<value> <problem>")."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


DnsName = Annotated[str, AfterValidator(_dns_name)]
Email = Annotated[str, AfterValidator(_email)]
Cidr = Annotated[str, AfterValidator(_cidr)]
IPv4 = Annotated[str, AfterValidator(_ipv4)]
Image = Annotated[str, AfterValidator(grammar.image)]
Port = Annotated[int, AfterValidator(_port)]
K8sName = Annotated[str, AfterValidator(grammar.k8s_subdomain)]
"""The name of a Kubernetes object (a DNS-1123 subdomain): Secrets, IngressClasses."""
Namespace = Annotated[str, AfterValidator(grammar.own_namespace)]
"""A namespace the stack creates: a DNS-1123 label, not reserved by Kubernetes."""
Cpu = Annotated[str, AfterValidator(grammar.cpu)]
Memory = Annotated[str, AfterValidator(grammar.memory)]
