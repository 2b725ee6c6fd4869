"""Certificate plans no issuer could carry out, refused before anything is created."""

from __future__ import annotations

from typing import Any

from components.shared import grammar
from components.shared.errors import ConfigError

# The rules read the whole stack config (``Settings``), which is passed in, not imported: the section
# modules that call them are imported by settings.py.
Settings = Any

# Special-use and private top-level names no public CA issues for (RFC 6761, RFC 8375, ICANN's .internal).
NO_PUBLIC_CA = ("localhost", "local", "test", "invalid", "example", "internal", "home.arpa", "lan")
SECRET_SUFFIX = "-tls"
"""Each host's certificate Secret is ``<host>-tls`` (components/platform/certificates.py)."""
HOST_MAX = grammar.K8S_NAME_MAX - len(SECRET_SUFFIX)


def host_keys(s: Settings) -> list[tuple[str, str, str]]:
    """(config key that decides it, role, host) for every enabled workload's host."""
    hosts = s.hosts
    sections = (("web", s.web, hosts.web), ("relay", s.relay, hosts.relay), ("envoyDemo", s.envoy_demo, hosts.envoy))
    return [(f"{key}.host" if section.host else "domain", key, host)
            for key, section, host in sections if section.enabled]


def check(s: Settings) -> None:
    for key, role, host in host_keys(s):
        if len(host) > HOST_MAX:
            what = (f"makes the {role} host {len(host)} characters long" if key == "domain"
                    else f"is {len(host)} characters long")
            raise ConfigError(key, f"{what}; its certificate Secret '<host>{SECRET_SUFFIX}' must fit Kubernetes' "
                              f"{grammar.K8S_NAME_MAX} characters, so a host has at most {HOST_MAX}: use a shorter name"
                              + (f" or set {role}.host" if key == "domain" else ""), has_value=False)
        if s.acme.is_acme and host.endswith(tuple(f".{tld}" for tld in NO_PUBLIC_CA)):
            tld = next(t for t in NO_PUBLIC_CA if host.endswith(f".{t}"))
            raise ConfigError(key, f"is under .{tld}, for which Let's Encrypt issues no certificate: use "
                              "acme.environment selfsigned, or a public domain", host)
    _dns01_credentials(s)


def _dns01_credentials(s: Settings) -> None:
    """On an existing cluster cert-manager has no cloud identity the stack could give it."""
    acme, dns = s.acme, s.dns
    if s.cloud != "existing" or not acme.is_acme or "dns01" not in (acme.challenge, acme.relay):
        return
    key = "acme.challenge" if acme.challenge == "dns01" else "acme.relayChallenge"
    if dns.provider == "clouddns" and not dns.credentials_secret:
        raise ConfigError("dns.credentialsSecret", "is required for dns01 through clouddns on an existing cluster: "
                          "cert-manager has no Google identity there; name a Secret in namespace cert-manager with "
                          "a service-account key in key.json", has_value=False)
    if dns.provider == "route53":
        raise ConfigError(key, "through route53 is not possible on an existing cluster: the stack can give "
                          "cert-manager "
                          "no AWS identity there; use http01, or clouddns with dns.credentialsSecret", "dns01")
