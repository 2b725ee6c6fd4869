"""Example values a stack must not take to a cloud: the placeholders the shipped example stacks hold.

The example stack files (``stacks/Pulumi.{k3s,gke,eks}.yaml``) name documentation domains, a
documentation address range as the admin network, a made-up hosted-zone ID and project. They plan
offline (the tests and ``tools.plan`` use them), but under the engine a stack holding one of them would
spend half an hour creating a cluster nobody can reach or certificates for a name nobody owns. So under
``pulumi up`` the program refuses them before any resource is registered, naming the key and how to set it;
``pulumi preview`` (which creates nothing) warns, and the offline plan lets them through
(``offline_plan``), as it reaches no cloud.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from components.shared.errors import PROJECT, ConfigError

# Names reserved for documentation (RFC 2606 section 3, RFC 6761 section 6.5): nobody can own them.
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example")
# Address blocks reserved for documentation: TEST-NET-1/2/3 (RFC 5737) and IPv6's (RFC 3849). ipaddress
# counts them as private (not global) like 10.0.0.0/8, which is a real network, so they are named here.
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
# Placeholders of the shipped examples and the docs: Route53 hosted-zone IDs (counting 0-9 then A-J; AWS docs), the
# GCP project the examples name, the Cloud DNS zones named after example.com, and the usual stand-ins.
PLACEHOLDERS = frozenset({"Z0123456789ABCDEFGHIJ", "Z1D633PJN98FT9", "quicstack-demo", "my-project", "my-project-id",
                          "your-project", "your-project-id", "my-zone", "your-zone"})
_PLACEHOLDER_PATTERN = re.compile(r"(?:[a-z0-9-]*-)?example-(?:com|net|org)|Z[0-9A-Z]*EXAMPLE[0-9A-Z]*")

_OFFLINE = [False]


@contextmanager
def offline_plan() -> Iterator[None]:
    """While the offline plan runs the program: example values pass (nothing reaches a cloud)."""
    _OFFLINE[0] = True
    try:
        yield
    finally:
        _OFFLINE[0] = False


def is_offline_plan() -> bool:
    return _OFFLINE[0]


def _under_example_domain(name: str) -> bool:
    name = name.lower().rstrip(".")
    return any(name == d or name.endswith("." + d) for d in EXAMPLE_DOMAINS)


def _in_documentation_range(text: str) -> bool:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return any(net.version == doc.version and net.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS)


def why_example(value: str) -> str | None:
    """Why ``value`` is an example value, or None when it is not."""
    if _in_documentation_range(value):
        return "a documentation address range (RFC 5737/3849), which no one's traffic comes from"
    if value in PLACEHOLDERS or _PLACEHOLDER_PATTERN.fullmatch(value):
        return "a placeholder of the example stacks"
    host = value.rpartition("@")[2]
    if "." in host.strip(".") and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", host) and _under_example_domain(host):
        return "a name under a domain reserved for documentation (RFC 2606), which no one can own"
    return None


def _walk(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _walk(inner, f"{key}.{name}" if key else name)
    elif isinstance(value, (list, tuple)):
        for i, inner in enumerate(value):
            yield from _walk(inner, f"{key}.{i}")
    elif isinstance(value, str):
        yield key, value


def found(settings) -> list[tuple[str, str, str]]:
    """(key, value, why) for every example value the stack sets itself (defaults never are)."""
    raw = settings.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return [(key, value, why) for key, value in _walk(raw, "") if (why := why_example(value))]


def _set_hint(key: str, stack: str | None) -> str:
    section, _, rest = key.partition(".")
    path = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", rest)
    where = f" --stack {stack}" if stack else ""
    target = f"stacks/Pulumi.{stack}.yaml" if stack else "the stack file"
    if not rest:
        return f"`pulumi config set {PROJECT}:{section} <value>{where}` or edit {target}"
    return f"`pulumi config set --path '{PROJECT}:{section}.{path}' <value>{where}` or edit {target}"


def error(key: str, value: str, stack: str | None = None, more: list[str] = ()) -> ConfigError:
    """The one line for an example value: the key, the value, why, how to set it, and the other keys."""
    others = f" ({len(more)} more: {', '.join(more)})" if more else ""
    return ConfigError(key, f"is an example value, {why_example(value)}: set your own with "
                       f"{_set_hint(key, stack)}{others}", value)


def check(settings, stack: str | None = None) -> None:
    """Refuse the first example value in one line, naming the other keys that hold one."""
    values = found(settings)
    if values:
        (key, value, _), rest = values[0], values[1:]
        raise error(key, value, stack, [k for k, _, _ in rest])
