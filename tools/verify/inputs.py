"""What to verify and whom to trust: the stack's outputs (piped, or fetched with the Pulumi CLI) or URLs."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from urllib.parse import urlsplit

from stacks.outputs import name

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


def endpoint(role: str, name: str, url: str, **extra) -> Endpoint:
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"{url!r} is not an https:// URL")
    try:
        port = parts.port or 443
    except ValueError:
        raise UsageError(f"{url!r} has an invalid port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(role, name, url.strip(), parts.hostname, port, path, parts.netloc.rsplit("@", 1)[-1], **extra)


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
    # `pulumi stack output --json` prints "[secret]" for secrets unless --show-secrets is given.
    return value.strip() if isinstance(value, str) and value.strip() and value != "[secret]" else None


def from_outputs(outputs: dict, replicas: int | None = None) -> list[Endpoint]:
    """The endpoints a deployed stack reports; ``replicas`` overrides ``envoyReplicas``."""
    endpoints = []
    for role, (url_key, address_key) in OUTPUTS.items():
        url = _text(outputs, url_key)
        if url is None:
            continue
        extra: dict = {"expected_address": _text(outputs, address_key)}
        if role == "envoy":
            reported = outputs.get("envoyReplicas")
            extra["replicas"] = replicas or (
                int(reported) if isinstance(reported, (int, float)) and reported >= 1 else None
            )
        if role == "web":
            extra["relay_url"] = _text(outputs, "relayUrl")
        endpoints.append(endpoint(role, role, url, **extra))
    if not endpoints:
        raise UsageError(
            f"the stack outputs have none of {', '.join(u for u, _ in OUTPUTS.values())}: is the stack deployed?"
        )
    return endpoints


def from_urls(envoy: str | None, relay: str | None, web: str | None, urls: list[str],
              replicas: int | None) -> list[Endpoint]:
    endpoints = []
    if envoy:
        endpoints.append(endpoint("envoy", "envoy", envoy, replicas=replicas))
    if relay:
        endpoints.append(endpoint("relay", "relay", relay))
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
