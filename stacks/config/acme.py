"""``quicstack:acme``: how certificates are issued."""

from __future__ import annotations

from typing import Literal, Optional

from .base import Email, Model

Challenge = Literal["http01", "dns01"]


class Acme(Model):
    """Certificate issuing for every public host."""

    environment: Literal["production", "staging", "selfsigned"] = "selfsigned"
    """Let's Encrypt `production` or `staging`, or `selfsigned`: one local CA issues every certificate (local and test clusters)."""
    challenge: Challenge = "http01"
    """ACME challenge for the web and Envoy demo hosts: `http01` through the ingress controller, or `dns01` through `quicstack:dns` (on an existing cluster only `clouddns` with `dns.credentialsSecret`: the stack can give cert-manager no cloud identity there)."""
    relay_challenge: Optional[Challenge] = None
    """ACME challenge for the relay host; unset means the same as `challenge`. Must be `dns01` where the relay has its own load balancer (no TCP 80 behind its address)."""
    email: Optional[Email] = None
    """ACME account e-mail; required for `production` and `staging`."""

    @property
    def is_acme(self) -> bool:
        return self.environment != "selfsigned"

    @property
    def relay(self) -> Challenge:
        return self.relay_challenge or self.challenge
