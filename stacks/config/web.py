"""``quicstack:web``: the watch page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

from pydantic import AfterValidator

from .base import DnsName, Image, Model
from .errors import ConfigError
from .relay import BroadcastPath
from .resources import Resources

if TYPE_CHECKING:
    from .settings import Settings


def _named(value: str) -> str:
    if not value:
        raise ValueError("is empty: name the broadcast the page plays")
    return value


class Web(Model):
    """The watch page served by an unprivileged nginx through the ingress."""

    enabled: bool = True
    """Deploy the watch page."""
    image: Image = "nginxinc/nginx-unprivileged:1.29.3-alpine"
    """nginx image that serves the page, pinned by tag or digest."""
    host: Optional[DnsName] = None
    """Public host name; unset means `<domain>` itself."""
    broadcast: Annotated[BroadcastPath, AfterValidator(_named)] = "bbb.hang"
    """Broadcast the page plays, relative to the relay's public prefix."""
    resources: Resources = Resources.of("10m", "16Mi", "100m", "64Mi")
    """nginx container requests and limits."""


def check(s: "Settings") -> None:
    """Watch-page rules that depend on other sections."""
    if s.web.enabled and not s.relay.enabled:
        raise ConfigError("web.enabled", "needs the relay it plays from: set relay.enabled true, or web.enabled false", True)
