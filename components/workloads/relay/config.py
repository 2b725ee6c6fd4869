"""``quicstack:relay``: the Media-over-QUIC relay."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from components.cluster.profile import Profile
from components.shared import grammar
from components.shared.errors import ConfigError
from components.shared.fields import DnsName, Image, Port, matching
from components.shared.model import Model
from components.shared.resources import Resources
from components.workloads.relay.versions import CLI_IMAGE, RELAY_IMAGE

# Broadcast paths are `/`-separated segments; the relay matches prefixes on segment boundaries.
BROADCAST_PATH = re.compile(r"([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?")
# Token key names end up in Pulumi resource names: short, lower-case.
_KEY_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?")

WebSocketRoute = Literal["ingress", "load-balancer", "none"]
Auth = Literal["anonymous", "jwt"]


def _no_dot_segments(value: str) -> str:
    # A browser normalizes `anon/../x` in the relay URL to `/x`: a path outside the public prefix.
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError("has a '.' or '..' segment, which URL normalization removes (moving the path elsewhere)")
    return value


def _secret_name(value: str) -> str:
    if len(value) > grammar.K8S_NAME_MAX or not grammar.K8S_SUBDOMAIN.fullmatch(value):
        raise ValueError("is not a Secret name (lower-case a-z, 0-9, '-' and '.')")
    return value

BroadcastPath = Annotated[
    str,
    matching(
        BROADCAST_PATH,
        "is not a broadcast path (segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/', no leading or trailing '/')",
    ),
    AfterValidator(_no_dot_segments),
]
SecretName = Annotated[str, AfterValidator(_secret_name)]
# The Prometheus namespace: any existing namespace (kube-* included) may hold the scraper.
NamespaceName = Annotated[str, AfterValidator(grammar.k8s_label)]
KeyName = Annotated[
    str, matching(_KEY_NAME, "is not a key name (1-20 of lower-case a-z, 0-9 and '-', no '-' at either end)")
]


class RelayConfig(Model):
    """The Media-over-QUIC relay (moq-relay) on UDP/443."""

    # Keys of earlier releases, refused with what became of them (a stack file from before an upgrade).
    REMOVED: ClassVar[dict[str, str]] = {
        "linger": "moq-relay 0.17 removed `[cluster] linger` (cluster.rs refuses it); delete the key",
    }

    enabled: bool = True
    """Deploy the relay."""
    image: Image = RELAY_IMAGE
    """Relay image, pinned by a version tag or a `sha256:` digest (64 hex digits); moving tags (`latest`, `main`,
    `master`, `edge`, `nightly`, `dev`, ... in any case) and whitespace are refused. The generated TOML follows
    moq-relay 0.17 (which refuses 0.14 spellings)."""
    auth_image: Image = CLI_IMAGE
    """Image of the auth server beside each relay (`moq auth serve`, moq-cli of the relay's release)."""
    host: Optional[DnsName] = None
    """Public host name; unset means `relay.<domain>`. Must differ from the web and Envoy hosts, also once dots become
    dashes (the Certificate's name)."""
    quic_port: Port = 4443
    """Container port the relay binds for QUIC (UDP); the Service maps UDP 443 to it, so no privilege is needed."""
    web_port: Port = 4480
    """Container port of the relay's TCP web listener (WebSocket fallback, /certificate.sha256): plain HTTP behind the
    ingress, or HTTPS where the relay's own load balancer carries TCP 443."""
    internal_port: Port = 9101
    """Container port of the relay's internal listener (/health, /metrics); used by probes, never exposed by a Service,
    and closed to other pods by a NetworkPolicy."""
    peer_port: Port = 4490
    """Container port (TCP) where the relays of a tier reach each other (WebSocket over TLS with the peer certificates);
    only the relay pods may reach it and no Service but the headless one names it. Unused by one relay."""
    log_level: Literal["error", "warn", "info", "debug", "trace"] = "info"
    """Log level of the relay (its TOML's `[log] level`) and of the auth server beside it (`MOQ_LOG_LEVEL`)."""
    listen: Literal["dual-stack", "ipv4"] = "dual-stack"
    """Relay listeners bind `[::]` (IPv6 and IPv4, so `localhost` clients that try `::1` first connect), or `0.0.0.0`
    for nodes booted without IPv6 (`ipv6.disable=1`)."""
    auth: Optional[Auth] = None
    """`jwt`: anyone may subscribe under `publicPrefix`; publishing (and every other path) needs a token signed with
    the relay's key (`python -m tools.token`). `anonymous`: anyone may also publish under `publicPrefix`, so anyone
    can replace what the watch page plays. Unset: `jwt` wherever certificates come from Let's Encrypt, `anonymous`
    on `selfsigned` stacks; set `anonymous` on a public stack only knowingly."""
    public_prefix: BroadcastPath = "anon"
    """Broadcast path prefix open without a token (the watch page plays from it); `""` opens every path."""
    anonymous_publish_everywhere: bool = False
    """With `auth: anonymous` and `publicPrefix: ""` on a stack whose certificates come from Let's Encrypt, anyone on
    the internet may publish any broadcast path: refused unless this is set too."""
    jwt_key: Literal["generate", "existing"] = "generate"
    """With `auth: jwt`: `generate` creates an ES256 key pair per name in `jwtKeys`: the cluster gets only the public
    JWKs (Secret `relay-auth`), the stack keeps the newest private key as the secret output `relayTokenKey`;
    `existing` uses `jwtKeySecret`."""
    jwt_keys: list[KeyName] = Field(default_factory=lambda: ["1"], min_length=1, max_length=4)
    """With `jwtKey: generate`: names of the token keys the relay accepts; the last one signs new tokens. Rotate by
    appending a name, then (once its tokens expired) removing the old one."""
    jwt_key_secret: Optional[SecretName] = None
    """With `jwtKey: existing`: a Secret in namespace `moq` holding one public JWK per key as `<kid>.jwk` (the auth
    server's `--key-dir`; tokens name their key by `kid`)."""
    websocket: Optional[bool] = None
    """Serve the WebSocket fallback (browsers without WebTransport) on TCP 443 of the relay host. Unset: on, except for
    a tier of relays with their own load balancer (EKS's default): there the relay's one TLS web listener carries the
    peer links, so the fallback would need `relay.replicas` 1."""
    resources: Resources.section("100m", "128Mi", "1", "512Mi")  # type: ignore[valid-type]
    """Relay container requests and limits."""
    auth_resources: Resources.section("10m", "16Mi", "200m", "64Mi")  # type: ignore[valid-type]
    """Auth server container requests and limits."""
    replicas: Optional[int] = Field(default=None, ge=1, le=16)
    """Relays in the tier; unset means 2 where the load balancer routes QUIC by server ID (EKS) and 1 elsewhere. More
    than one run as a StatefulSet that forms a cluster: a broadcast published to any relay plays from every relay."""
    session_affinity: Literal["None", "ClientIP"] = "None"
    """The relay Service's `sessionAffinity`. Without QUIC-LB routing (every cloud but EKS) more than one relay behind
    one UDP address needs `ClientIP`: the load balancer then keeps each client address on one relay (docs:
    workloads/relay.md, "Scaling the relay")."""
    drain_seconds: int = Field(default=30, ge=0, le=3600)
    """On a rollout or eviction a relay leaves the load balancer and keeps serving its viewers this long before it
    stops (`preStop`); its termination grace period is 15 s longer."""
    metrics: Literal["none", "podmonitor"] = "none"
    """`podmonitor`: a Prometheus-operator PodMonitor scrapes every relay's /metrics on the internal port, which then
    admits `metricsNamespace`."""
    metrics_namespace: NamespaceName = "monitoring"
    """With `metrics: podmonitor`: the namespace of the Prometheus that scrapes the relays."""

    @model_validator(mode="after")
    def _listeners(self) -> "RelayConfig":
        # The pod drops every capability, so it cannot bind privileged ports.
        for key, port in (
            ("quicPort", self.quic_port),
            ("webPort", self.web_port),
            ("internalPort", self.internal_port),
            ("peerPort", self.peer_port),
        ):
            if port < 1024:
                raise ConfigError(
                    f"relay.{key}",
                    "is a privileged port: the relay runs without "
                    "capabilities; use 1024-65535 (the Service maps 443 to it)",
                    port,
                )
        tcp = {"webPort": self.web_port, "internalPort": self.internal_port, "peerPort": self.peer_port}
        for i, (key, port) in enumerate(tcp.items()):
            for other, taken in list(tcp.items())[:i]:
                if port == taken:
                    raise ConfigError(f"relay.{key}", f"is also relay.{other}: both are TCP listeners of one pod; "
                                      "choose another port", port)
        return self

    @model_validator(mode="after")
    def _jwt_keys(self) -> "RelayConfig":
        twice = [name for i, name in enumerate(self.jwt_keys) if name in self.jwt_keys[:i]]
        if twice:
            raise ConfigError("relay.jwtKeys", "is listed twice; give each key its own name", twice[0])
        return self

    def replicas_on(self, profile: Profile) -> int:
        """Relays: the configured number, else 2 where the load balancer routes QUIC by server ID, else 1."""
        return self.replicas or (2 if profile.quic_lb else 1)

    def check_replicas(self, profile: Profile, cloud: str) -> None:
        """Several relays behind one UDP address without QUIC-LB routing need the Service's client affinity."""
        replicas = self.replicas_on(profile)
        if replicas > 1 and not profile.quic_lb and self.session_affinity != "ClientIP":
            raise ConfigError(
                "relay.replicas", f"needs relay.sessionAffinity ClientIP on {cloud}: nothing here routes QUIC by "
                "connection ID, so without it one client's packets could reach different relays", replicas)
    def auth_mode(self, public_certificates: bool) -> Auth:
        """``auth``, or its default: tokens for publishing wherever Let's Encrypt issues (a public stack)."""
        return self.auth or ("jwt" if public_certificates else "anonymous")

    def check_key(self, public_certificates: bool) -> None:
        """The key settings against the effective ``auth`` (which depends on the certificates' issuer)."""
        auth = self.auth_mode(public_certificates)
        if auth == "jwt" and self.jwt_key == "existing" and not self.jwt_key_secret:
            raise ConfigError("relay.jwtKeySecret", "is required when relay.jwtKey is existing (a Secret in namespace "
                              "moq with <kid>.jwk files)", has_value=False)
        if (auth == "anonymous" and not self.public_prefix and public_certificates
                and not self.anonymous_publish_everywhere):
            raise ConfigError("relay.publicPrefix", "is empty with relay.auth anonymous on a public stack: anyone "
                              "could publish any path; set a prefix, use jwt, or set relay.anonymousPublishEverywhere "
                              "true", self.public_prefix)
        if self.jwt_key_secret and (auth != "jwt" or self.jwt_key != "existing"):
            raise ConfigError("relay.jwtKeySecret", "is set, but is only read with relay.jwtKey existing and "
                              f"relay.auth jwt (here {auth})", self.jwt_key_secret)

    def host_under(self, domain: str) -> str:
        return self.host or f"relay.{domain}"

    def websocket_route(self, profile: Profile, udp_via_ingress: bool) -> WebSocketRoute:
        """How TCP 443 of the relay host reaches the relay's WebSocket listener.

        ``ingress``: the relay host resolves to the ingress's address, so an Ingress carries it (and
        HTTP-01 works there); ``load-balancer``: the relay's own load balancer carries TCP 443 next to
        UDP 443 and the relay terminates TLS itself, on its one ``[web.https]`` listener, which a tier's
        peers need (``cluster.py``): off by default there.
        """
        route = "ingress" if profile.shares_ingress_address or udp_via_ingress else "load-balancer"
        tier = self.replicas_on(profile) > 1
        if self.websocket is False or (self.websocket is None and route == "load-balancer" and tier):
            return "none"
        return route

    def check_websocket(self, profile: Profile, udp_via_ingress: bool) -> None:
        """A tier's peers and the public WebSocket fallback cannot share the relay's one TLS web listener."""
        replicas = self.replicas_on(profile)
        if self.websocket and replicas > 1 and self.websocket_route(profile, udp_via_ingress) == "load-balancer":
            raise ConfigError("relay.websocket", f"is not possible with {replicas} relays on their own load balancer: "
                              "the relay's one TLS web listener carries the peer links there; set relay.replicas 1 "
                              "or relay.websocket false", True)
