"""The relay's auth server: ``moq auth serve`` (moq-cli) beside the relay in its pod, as pure values.

moq-relay 0.17 verifies no tokens itself; it asks the server named in ``[auth] url`` about every session
(``connect``, ``revalidate``, ``end``). The reference server is moq-cli's ``moq auth serve`` (``src/auth.rs`` at
``moq-cli-v0.14.10``). It runs as a native sidecar (an init container with ``restartPolicy: Always``, so it is up
before the relay starts) and answers only on a unix socket in an emptyDir the two containers share: no port, so no
other pod, Service or NetworkPolicy mistake can reach it ("The server has no authentication of its own").

The policy is the one the relay held at 0.14:
- anyone may subscribe under the public prefix; with ``anonymous`` anyone may also publish there;
- a token signed by a key in ``key_dir`` (``<kid>.jwk``, the public JWKs the stack mounts) grants what it names;
- in a tier, a client certificate from the peer CA (verified on the peers' own listener, ``[web.https] root``;
  the public QUIC listener asks for none) grants every path, which is what a peer needs to forward any broadcast.

Revalidation bounds what a removed key or an expired token can still do: the relay re-asks every
``REVALIDATE`` and ends a session whose grant is gone, so removing a key from ``jwtKeys`` ends the sessions it
admitted within that time (plus the kubelet's Secret sync). ``EXPIRES`` bounds grants that carry no expiry of
their own (anonymous sessions, certificates); they are renewed at each revalidation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.workloads.relay.toml import AUTH_DIR, AUTH_SOCKET, pattern

CONTAINER = "auth"
REVALIDATE = "30s"
EXPIRES = "5m"


@dataclass(frozen=True)
class AuthServer:
    """What the auth server decides, in this project's terms."""

    public_prefix: str
    auth: Literal["anonymous", "jwt"]
    peers: bool = False
    """A tier: certificates from the peer CA may publish and subscribe everywhere."""

    def args(self) -> list[str]:
        """``moq`` arguments (the image's entrypoint is the CLI)."""
        public = pattern(self.public_prefix)
        args = ["auth", "serve", "--listen", f"unix:{AUTH_SOCKET}", "--public-subscribe", public]
        if self.auth == "anonymous":
            args += ["--public-publish", public]
        else:
            args += ["--key-dir", AUTH_DIR]
        if self.peers:
            args += ["--mtls-publish", "**", "--mtls-subscribe", "**"]
        return [*args, "--revalidate", REVALIDATE, "--expires", EXPIRES]
