"""The one rule every cluster's admin access follows: a block that opens it to the whole internet is a
config error unless the stack says so explicitly (`allowOpenAdmin`)."""

from __future__ import annotations

import ipaddress
from typing import Sequence

from components.shared.errors import ConfigError


def refuse_open_admin(key: str, cidrs: Sequence[str], allow_open: bool, opens: str) -> None:
    """``key`` (e.g. ``gke.adminCidrs``) may hold ``0.0.0.0/0`` only with ``<section>.allowOpenAdmin: true``."""
    section = key.split(".")[0]
    for cidr in cidrs:
        if ipaddress.ip_network(cidr).prefixlen == 0 and not allow_open:
            raise ConfigError(key, f"opens {opens} to the whole internet: list your own addresses, "
                                   f"or set {section}.allowOpenAdmin true to accept that", cidr)
