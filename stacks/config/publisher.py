"""``quicstack:publisher``: the opt-in demo publisher that runs in the cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .base import Image, Model
from .errors import ConfigError
from .relay import SecretName
from .resources import Resources

if TYPE_CHECKING:
    from .settings import Settings


class Publisher(Model):
    """A test pattern published to the relay from inside the cluster (off by default)."""

    enabled: bool = False
    """Run it: ffmpeg's test source (H.264 + AAC) pushed over RTMP on the pod's loopback into `moq` (moq-cli), which publishes `web.broadcast` under the relay's public prefix."""
    cli_image: Image = "moqdev/moq-cli:0.9.12"
    """moq-cli image (the release of the relay's tag, moq-relay-v0.14.12); it must speak the relay's protocol."""
    ffmpeg_image: Image = "mwader/static-ffmpeg:9.0.1"
    """Static ffmpeg image (no shell; libx264 and fonts inside)."""
    token_secret: Optional[SecretName] = None
    """Secret in namespace `moq` whose key `token` is a JWT that may publish the broadcast (e.g. from `python -m tools.token`); required when the relay wants tokens to publish."""
    cli_resources: Resources = Resources.of("20m", "32Mi", "500m", "128Mi")
    """moq-cli container requests and limits."""
    ffmpeg_resources: Resources = Resources.of("200m", "64Mi", "1", "256Mi")
    """ffmpeg container requests and limits (x264 at 640x360, 30 fps)."""


def check(s: "Settings") -> None:
    """Publisher rules that depend on other sections."""
    p = s.publisher
    if not p.enabled:
        if p.token_secret:
            raise ConfigError("publisher.tokenSecret", "is set, but publisher.enabled is false", p.token_secret)
        return
    if not s.relay.enabled:
        raise ConfigError("publisher.enabled", "needs the relay it publishes to: set relay.enabled true, "
                          "or publisher.enabled false", True)
    if s.relay.auth != "anonymous" and not p.token_secret:
        raise ConfigError("publisher.tokenSecret", f"is required: relay.auth is {s.relay.auth}, so publishing "
                          "needs a token (a Secret in namespace moq with key `token`)", has_value=False)
