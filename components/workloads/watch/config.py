"""``quicstack:web``: the watch page."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import AfterValidator

from components.shared.fields import DnsName, Image
from components.shared.model import Model
from components.shared.resources import Resources
from components.workloads.relay.config import BroadcastPath


def _named(value: str) -> str:
    if not value:
        raise ValueError("is empty: name the broadcast the page plays")
    return value


class WebConfig(Model):
    """The watch page served by an unprivileged nginx through the ingress."""

    enabled: bool = True
    """Deploy the watch page."""
    image: Image = "nginxinc/nginx-unprivileged:1.29.3-alpine"
    """nginx image that serves the page, pinned like `relay.image`."""
    host: Optional[DnsName] = None
    """Public host name; unset means `<domain>` itself. Same rules as `domain`."""
    broadcast: Annotated[BroadcastPath, AfterValidator(_named)] = "bbb.hang"
    """Broadcast the page plays, relative to the relay's public prefix."""
    resources: Resources.section("10m", "16Mi", "100m", "64Mi")  # type: ignore[valid-type]
    """nginx container requests and limits."""


    def host_under(self, domain: str) -> str:
        return self.host or domain
