"""``quicstack:web``: the watch page."""

from __future__ import annotations

from typing import Optional

from .base import DnsName, Image, Model
from .resources import Resources


class Web(Model):
    """The watch page served by an unprivileged nginx through the ingress."""

    enabled: bool = True
    """Deploy the watch page."""
    image: Image = "nginxinc/nginx-unprivileged:1.29.3-alpine"
    """nginx image that serves the page, pinned by tag or digest."""
    host: Optional[DnsName] = None
    """Public host name; unset means `<domain>` itself."""
    resources: Resources = Resources.of("10m", "16Mi", "100m", "64Mi")
    """nginx container requests and limits."""
