"""Credentials pasted into stack config. No ``quicstack:`` key takes a secret: the stack file is committed and
``pulumi config`` prints it. Keys that point at credentials take a path (``existing.kubeconfig``) or a Kubernetes
Secret's name (``dns.credentialsSecret``, ``relay.jwtKeySecret``); a value that *is* a credential is refused, by
its key and never echoed, before anything else reads the config."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Iterator

from components.shared.errors import ConfigError

_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", re.ASCII)
# A kubeconfig's user entry holds its credential in one of these fields (client-go's clientcmd API, v1).
_KUBECONFIG_USER = re.compile(
    r"[ \t]*(?:-[ \t]+)?(token|client-key-data|client-key|password|id-token|refresh-token)[ \t]*:[ \t]*\S.*", re.ASCII)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}", re.ASCII)
_SERVICE_ACCOUNT_KEY = re.compile(r'"private_key"[ \t\r\n]*:', re.ASCII)


def _kubeconfig_with_credential(text: str) -> bool:
    lines = text.splitlines()
    sections = {line.split(":", 1)[0] for line in lines if not line[:1].isspace()}
    return {"clusters", "users"} <= sections and any(_KUBECONFIG_USER.fullmatch(line) for line in lines)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}")


def kind(text: str) -> str | None:
    """What credential ``text`` holds, or None."""
    if _PRIVATE_KEY.search(text):
        return "a PEM private key"
    if _SERVICE_ACCOUNT_KEY.search(text):
        return "a service account key (JSON with private_key)"
    if _kubeconfig_with_credential(text):
        return "a kubeconfig with a credential (token, password or client key)"
    if _JWT.search(text):
        return "a bearer token (JWT)"
    return None


def check(raw: Mapping[str, Any]) -> None:
    """Refuse the first config value that holds a credential, naming its key."""
    for key, text in _strings(raw, ""):
        found = kind(text)
        if found:
            where = ("give the path of the kubeconfig file instead (kept outside the repository, mode 0600)"
                     if key.endswith("kubeconfig") else
                     "keep it in a file or a Kubernetes Secret outside the stack config, and name that")
            raise ConfigError(key, f"holds {found} in plain stack config, which is committed and shown by "
                              f"`pulumi config`: remove it (and rotate it if the file was shared); {where}",
                              has_value=False)
