"""Rules that span several keys. Each raises one ConfigError before any resource exists."""

from __future__ import annotations

from importlib import import_module

from components.shared import grammar
from components.shared.errors import ConfigError

from . import certificate_plan, exposure
from .settings import CLOUD_SECTIONS, Settings


def check(s: Settings) -> None:
    _cloud_sections(s)
    _acme(s)
    _dns(s)
    _ingress(s)
    _host_ports(s)
    _relay(s)
    _web(s)
    _publisher(s)
    # Rules of the selected cloud live with its section: `def check(settings)` in stacks/config/<cloud>.py.
    cloud_check = getattr(import_module(f".{s.cloud}", __package__), "check", None)
    if cloud_check:
        cloud_check(s)
    exposure.check(s)
    certificate_plan.check(s)


def _cloud_sections(s: Settings) -> None:
    if s.cluster is None:
        raise ConfigError(s.cloud, f"is required when quicstack:cloud is '{s.cloud}'", has_value=False)
    for other in CLOUD_SECTIONS:
        if other != s.cloud and getattr(s, other) is not None:
            raise ConfigError(
                other,
                f"is set, but quicstack:cloud is '{s.cloud}' (remove the section or change cloud)",
                has_value=False,
            )


def _acme(s: Settings) -> None:
    acme = s.acme
    if acme.is_acme and not acme.email:
        raise ConfigError(
            "acme.email",
            f"is required when acme.environment is {acme.environment} (Let's Encrypt needs an account e-mail)",
            has_value=False,
        )
    if acme.uses_dns01 and (s.dns.provider == "none" or not s.dns.zone):
        raise ConfigError(
            "dns.zone",
            "is required for acme dns01: set dns.provider and dns.zone to the zone that holds the hosts",
            has_value=False,
        )
    if acme.is_acme and acme.relay == "http01" and s.relay.enabled and not s.profile.shares_ingress_address:
        raise ConfigError(
            "acme.relayChallenge",
            "is not possible here: the relay has its own load balancer with no TCP 80 behind it; "
            "use dns01 (or a cluster where the relay shares the ingress address)",
            "http01",
        )


def _dns(s: Settings) -> None:
    dns = s.dns
    # A key that is never read is a setting the operator believes in and does not have.
    unread = {"zone": (dns.zone, ("clouddns", "route53")), "project": (dns.project, ("clouddns",)),
              "region": (dns.region, ("route53",)), "credentialsSecret": (dns.credentials_secret, ("clouddns",)),
              "challengeZone": (dns.challenge_zone, ("clouddns",))}
    for key, (value, providers) in unread.items():
        if value and dns.provider not in providers:
            raise ConfigError(f"dns.{key}", f"is set, but is only read with dns.provider {' or '.join(providers)}",
                              value)
    if dns.provider == "none":
        return
    if dns.provider not in s.profile.dns_providers:
        allowed = ", ".join(s.profile.dns_providers)
        raise ConfigError(
            "dns.provider", f"is not available on a {s.cloud} stack (allowed: none, {allowed})", dns.provider
        )
    if not dns.zone:
        raise ConfigError("dns.zone", f"is required when dns.provider is {dns.provider}", has_value=False)
    if dns.provider == "clouddns" and not s.dns_project:
        raise ConfigError(
            "dns.project",
            "is required for clouddns on this cloud (the GCP project that owns the zone)",
            has_value=False,
        )
    if dns.provider == "route53" and not s.dns_region:
        raise ConfigError(
            "dns.region",
            "is required for route53 on this cloud (the AWS region for Route53 API calls)",
            has_value=False,
        )
    try:
        (grammar.cloud_dns_zone if dns.provider == "clouddns" else grammar.route53_zone)(dns.zone)
    except ValueError as problem:
        raise ConfigError("dns.zone", str(problem), dns.zone) from None
    if dns.challenge_zone:
        _challenge_zone(s)


def _challenge_zone(s: Settings) -> None:
    """A second Cloud DNS zone that cert-manager alone writes to, reached through CNAMEs in ``dns.zone``."""
    dns, key = s.dns, "dns.challengeZone"
    try:
        grammar.cloud_dns_zone(dns.challenge_zone)
    except ValueError as problem:
        raise ConfigError(key, str(problem), dns.challenge_zone) from None
    if dns.challenge_zone == dns.zone:
        raise ConfigError(key, "is dns.zone itself: name a separate zone that holds only ACME challenges",
                          dns.challenge_zone)
    if not s.profile.challenge_zone:
        raise ConfigError(key, f"is not available with cloud {s.cloud}: only on gke, where the stack gives "
                          "cert-manager its Google identity and writes the _acme-challenge CNAMEs", dns.challenge_zone)
    if not s.acme.uses_dns01:
        raise ConfigError(key, "is set, but no host uses DNS-01 (acme.environment production or staging, and "
                          "acme.challenge or acme.relayChallenge dns01)", dns.challenge_zone)


def _ingress(s: Settings) -> None:
    if s.ingress.replicas is not None and s.ingress.replicas < 1:
        raise ConfigError("ingress.replicas", "is not at least 1", s.ingress.replicas)
    if s.ingress.relay_udp and not s.profile.mixed_protocol:
        raise ConfigError(
            "ingress.relayUdp", f"is not possible on {s.cloud}: it needs one LoadBalancer Service with TCP and UDP "
            "(mixed protocol), which this cluster does not support", True)
    if s.ingress.controller == "envoy-gateway":
        _gateway(s)
    elif s.ingress.http3 is not None:
        raise ConfigError("ingress.http3", "is an envoy-gateway setting: set ingress.controller envoy-gateway, or "
                          "remove it (ingress-nginx serves no HTTP/3)", s.ingress.http3)


def _gateway(s: Settings) -> None:
    if s.ingress.relay_udp:
        raise ConfigError("ingress.relayUdp", "is an ingress-nginx setting: with envoy-gateway the relay's QUIC keeps "
                          "its own load balancer (a UDPRoute would hide client addresses and end idle sessions after "
                          "60 s); remove it", True)
    problem = s.edge_http3_problem
    if s.ingress.http3 and problem:
        raise ConfigError("ingress.http3", f"is not possible here: {problem}; remove it or set it false", True)


def _host_ports(s: Settings) -> None:
    """On a single-address cluster every LoadBalancer port is a port on that one address (a NodePort
    ingress takes none of them, but the relay and the Envoy demo still do)."""
    if not s.profile.shared_address:
        return
    owners: dict[tuple[int, str], str] = {}
    for p in s.public_ports:
        if p.key == "ingress" and s.ingress.service_type != "LoadBalancer":
            continue
        if (p.port, p.protocol) in owners:
            raise ConfigError(
                p.key,
                f"collides with {owners[(p.port, p.protocol)]} on {p.protocol} "
                f"{p.port}: all Services share one address here; choose another port",
                p.port,
            )
        owners[(p.port, p.protocol)] = p.owner


def _relay(s: Settings) -> None:
    """Relay rules that depend on other sections."""
    if not s.relay.enabled:
        return
    s.relay.check_replicas(s.profile, s.cloud)
    s.relay.check_websocket(s.profile, s.relay_udp_via_ingress)
    s.relay.check_key(s.acme.is_acme)
    hosts = s.hosts
    others = {"web.host": hosts.web if s.web.enabled else None,
              "envoyDemo.host": hosts.envoy if s.envoy_demo.enabled else None}
    for key, host in others.items():
        if host == hosts.relay:
            raise ConfigError("relay.host", f"is also {key}: each host gets its own certificate and its own route for "
                              "TCP 443; choose another host", hosts.relay)
    if s.relay.websocket_route(s.profile, s.relay_udp_via_ingress) != "load-balancer":
        return
    # k3s and GKE always put the relay behind the ingress's address; EKS NLBs take TCP and UDP on one port
    # (stacks/config/eks.py requires webPort == quicPort for that listener).
    if not s.profile.tcp_udp_service:
        raise ConfigError(
            "relay.websocket", "is not possible here: the relay has its own load balancer, which would need TCP and "
            "UDP 443 on one Service; set existing.mixedProtocol if the cluster supports that, or relay.websocket false",
            True)


def _web(s: Settings) -> None:
    if s.web.enabled and not s.relay.enabled:
        raise ConfigError(
            "web.enabled", "needs the relay it plays from: set relay.enabled true, or web.enabled false", True
        )


def _publisher(s: Settings) -> None:
    p = s.publisher
    if not p.enabled:
        if p.token_secret:
            raise ConfigError("publisher.tokenSecret", "is set, but publisher.enabled is false", p.token_secret)
        return
    if not s.relay.enabled:
        raise ConfigError("publisher.enabled", "needs the relay it publishes to: set relay.enabled true, "
                          "or publisher.enabled false", True)
    auth = s.relay.auth_mode(s.acme.is_acme)
    if auth != "anonymous" and not p.token_secret:
        raise ConfigError("publisher.tokenSecret", f"is required: relay.auth is {auth} here, so publishing "
                          "needs a token (a Secret in namespace moq with key `token`)", has_value=False)
