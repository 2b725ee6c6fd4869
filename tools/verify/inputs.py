"""What to verify and whom to trust: the stack's outputs (piped, or fetched with the Pulumi CLI) or URLs."""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
from urllib.parse import urlsplit

from components.shared import grammar
from stacks.outputs import name
from tools import stacknames

from .checks import Endpoint
from .net import Trust

OUTPUTS = {
    "envoy": (name("envoy_url"), name("envoy_address")),
    "relay": (name("relay_url"), name("relay_address")),
    "web": (name("web_url"), name("ingress_address")),
}
"""Role -> (its URL output, the output with the load balancer address its host must resolve to)."""


class UsageError(Exception):
    """Bad arguments or unusable input: reported in one line, exit code 2."""


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def shown(url: str) -> str:
    """The URL as an error may repeat it: a ``user:password@`` part is replaced, never echoed."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if sep and "@" in authority:
        return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{tail}"
    return url


def _host_ok(host: str) -> bool:
    if grammar.is_ip_literal(host):
        return True
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def endpoint(role: str, name: str, url: str, **extra) -> Endpoint:
    if not isinstance(url, str):
        raise UsageError(f"the {name} URL is {json.dumps(url)}, not a string")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"{shown(url)!r} is not an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{shown(url)!r} has a user name or password in it; the checks send no credentials: remove it")
    if not _host_ok(parts.hostname):
        raise UsageError(f"{url!r} has no valid host name "
                         "(letters, digits and '-' in dot-separated labels, or an IP address)")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"{url!r} has an invalid port (1-65535)") from None
    if port == 0:
        raise UsageError(f"{url!r} has an invalid port (1-65535)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(role, name, url, parts.hostname, port or 443, path, parts.netloc, **extra)


def parse_outputs(text: str, source: str) -> dict:
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not JSON ({exc.msg}, line {exc.lineno}); "
                         "expected the output of `pulumi stack output --json`") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"{source} is not a JSON object of stack outputs")
    return outputs


def stack_outputs(stack: str, show_secrets: bool = False,
                  instead: str = "pipe `pulumi stack output --json` in, or pass --envoy/--relay/--web URLs") -> dict:
    """``pulumi stack output --json --stack STACK`` (with ``--show-secrets``: secret values too), run for the user."""
    try:
        stacknames.require(stack)  # a typo lists the stacks, before the CLI asks for a passphrase
    except stacknames.UnknownStack as err:
        raise UsageError(str(err)) from None
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise UsageError(f"--stack needs the Pulumi CLI, which is not on PATH: install it, or {instead}")
    try:
        command = [pulumi, "stack", "output", "--json", "--stack", stack, *(["--show-secrets"] if show_secrets else [])]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise UsageError(f"`pulumi stack output --stack {stack}` did not finish within 120 s") from None
    if proc.returncode != 0:
        reason = next(
            (line.strip() for line in proc.stderr.splitlines() if line.strip()), f"exit code {proc.returncode}"
        )
        raise UsageError(f"`pulumi stack output --stack {stack}` failed: {reason}")
    return parse_outputs(proc.stdout, f"the outputs of stack {stack}")


def _text(outputs: dict, key: str) -> str | None:
    value = outputs.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"the {key} output is {_kind(value)}, not a string: is this `pulumi stack output --json`?")
    # `pulumi stack output --json` prints "[secret]" for secrets unless --show-secrets is given.
    return value.strip() if value and value.strip() and value != "[secret]" else None


def _kind(value) -> str:
    """A JSON value described without repeating it (it may be anything, even a key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return {dict: "an object", list: "a list"}.get(type(value), "null")


def typed_output(outputs: dict, key: str, kind: type, what: str, valid=lambda value: True):
    """An output the verifier reads, or None when absent; a wrong type or value is bad input, never ignored."""
    value = outputs.get(key)
    if value is None:
        return None
    if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind) or not valid(value):
        shown_value = repr(value) if isinstance(value, str) and len(value) < 20 else _kind(value)
        raise UsageError(f"the {key} output is {shown_value}, not {what}")
    return value


def _replicas(outputs: dict, key: str = "envoyReplicas") -> int | None:
    reported = outputs.get(key)
    if reported is None:
        return None
    if isinstance(reported, bool) or not isinstance(reported, int) or not 1 <= reported <= 1000:
        shown_value = repr(reported) if isinstance(reported, str) and len(reported) < 20 else _kind(reported)
        raise UsageError(f"the {key} output is {shown_value}, not a whole number of replicas (1-1000)")
    return reported


def from_outputs(outputs: dict, replicas: int | None = None) -> list[Endpoint]:
    """The endpoints a deployed stack reports; ``replicas`` overrides ``envoyReplicas``."""
    endpoints = []
    for role, (url_key, address_key) in OUTPUTS.items():
        url = _text(outputs, url_key)
        if url is None:
            continue
        extra: dict = {"expected_address": _text(outputs, address_key)}
        if role == "envoy":
            extra["replicas"] = replicas or _replicas(outputs)
        if role == "relay" and outputs.get("relayQuicLb") is True:
            extra.update(quic_lb=True, replicas=_replicas(outputs, "relayReplicas"))
        if role == "relay" and outputs.get("relayWebsocket") is False:
            extra["tcp"] = False
        if role == "web":
            extra["relay_url"] = _text(outputs, "relayUrl")
        endpoints.append(endpoint(role, role, url, **extra))
    if not endpoints:
        raise UsageError(
            f"the stack outputs have none of {', '.join(u for u, _ in OUTPUTS.values())}: is the stack deployed?"
        )
    return endpoints


def from_urls(envoy: str | None, relay: str | None, web: str | None, urls: list[str],
              replicas: int | None, relay_replicas: int | None = None) -> list[Endpoint]:
    endpoints = []
    if envoy:
        endpoints.append(endpoint("envoy", "envoy", envoy, replicas=replicas))
    if relay:
        endpoints.append(endpoint("relay", "relay", relay, replicas=relay_replicas, quic_lb=relay_replicas is not None))
    if web:
        endpoints.append(endpoint("web", "web", web, relay_url=relay))
    endpoints += [endpoint("url", "url" if len(urls) == 1 else f"url{i}", url) for i, url in enumerate(urls, 1)]
    return endpoints


def trust(ca_file: str | None, insecure: bool, outputs: dict) -> Trust:
    """--insecure, else --ca FILE, else the stack's own CA (self-signed mode), else the system store."""
    if insecure:
        return Trust("nothing (--insecure: certificates are not checked)", insecure=True)
    if ca_file:
        try:
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                f"--ca {ca_file}: not a readable PEM CA certificate ({getattr(exc, 'strerror', None) or exc})"
            ) from None
        return Trust(f"CA file {ca_file}", cafile=ca_file)
    ca = _text(outputs, "caCertificate")
    if ca is None:
        return Trust("system CA store")
    try:
        ssl.create_default_context(cadata=ca)
    except ssl.SSLError:
        raise UsageError("the stack's caCertificate output is not a PEM certificate") from None
    return Trust("stack's own CA (caCertificate output)", cadata=ca)
