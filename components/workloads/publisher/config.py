"""``quicstack:publisher``: the opt-in demo publisher that runs in the cluster."""

from __future__ import annotations

from typing import Optional

from components.shared.fields import Image
from components.workloads.relay.versions import CLI_IMAGE
from components.shared.model import Model
from components.shared.resources import Resources
from components.workloads.relay.config import SecretName


class PublisherConfig(Model):
    """A test pattern published to the relay from inside the cluster (off by default)."""

    enabled: bool = False
    """Run it: ffmpeg's test source (H.264 + AAC) pushed over RTMP on the pod's loopback into `moq` (moq-cli),
    which publishes `web.broadcast` under the relay's public prefix."""
    cli_image: Image = CLI_IMAGE
    """moq-cli image (the release of the relay's line, `versions.toml`); it must speak the relay's protocol."""
    ffmpeg_image: Image = "mwader/static-ffmpeg:9.0.1"
    """Static ffmpeg image (no shell; libx264 and fonts inside)."""
    token_secret: Optional[SecretName] = None
    """Secret in namespace `moq` whose key `token` is a JWT that may publish the broadcast (e.g. from
    `python -m tools.token`); required when the relay wants tokens to publish."""
    cli_resources: Resources.section("20m", "32Mi", "500m", "128Mi")  # type: ignore[valid-type]
    """moq-cli container requests and limits."""
    ffmpeg_resources: Resources.section("200m", "64Mi", "1", "256Mi")  # type: ignore[valid-type]
    """ffmpeg container requests and limits (x264 at 640x360, 30 fps)."""
