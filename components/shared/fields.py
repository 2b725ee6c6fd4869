"""The reusable field types every config section is built from (strings get their real grammar)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _dns_name(value: str) -> str:
    name = value.rstrip(".").lower()
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("is not a DNS name (lower-case labels of a-z, 0-9 and '-', at least two)")
    return name


def _email(value: str) -> str:
    if not _EMAIL.match(value):
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


def _pinned_image(image: str) -> str:
    tag = "digest" if "@" in image else image.rsplit("/", 1)[-1].partition(":")[2]
    if not tag or tag in ("latest", "dev"):
        raise ValueError("is not pinned: give a version tag (never latest or dev) or a digest")
    return image


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("is not a port (1-65535)")
    return value


def matching(pattern: re.Pattern, problem: str) -> AfterValidator:
    """A string validator: values that ``pattern`` does not match fail with ``problem`` ("<value> <problem>")."""

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


DnsName = Annotated[str, AfterValidator(_dns_name)]
Email = Annotated[str, AfterValidator(_email)]
Cidr = Annotated[str, AfterValidator(_cidr)]
IPv4 = Annotated[str, AfterValidator(_ipv4)]
Image = Annotated[str, AfterValidator(_pinned_image)]
Port = Annotated[int, AfterValidator(_port)]
