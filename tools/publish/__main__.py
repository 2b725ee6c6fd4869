"""``python -m tools.publish --stack S [--tone] [--duration SEC]``: publish a live test pattern to the stack's relay.

The broadcast is the one the stack's watch page plays (``quicstack:web.broadcast`` under
``quicstack:relay.publicPrefix`` at ``https://<relay host>``), so opening the page shows it. Where the
relay wants a token to publish, the tool mints one from the stack's signing key (``tools.token``,
valid for ``--token-ttl``, at most 7 days; the relay ends the session when it expires), or takes one from ``--token``,
``--token-file FILE`` or ``QUICSTACK_TOKEN`` (in that order; ``tools.verify.tokens``), or signs one with
``--key FILE``. There is no ``--insecure``: a token is sent only to a relay whose certificate was checked. The
relay's host is resolved as ``tools.verify`` does it
(``*.localhost`` is loopback) and its certificate checked against ``--ca``, else a ``selfsigned`` stack's own CA
(its ``caCertificate`` output, read with the Pulumi CLI), else the system's. Without ``--stack``, give ``--url``
(the session root the player dials) and ``--broadcast``. Ctrl-C (or SIGTERM) ends the tracks cleanly and exits 0.
Exit 2: bad arguments or stack config (one line); 1: the relay refused or could not be reached (one line).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import yaml

from stacks.config import ConfigError, Settings, load
from tools.plan.__main__ import stack_file
from tools.stacknames import UnknownStack
from tools.verify import inputs, tokens
from tools.verify.inputs import UsageError
from tools.verify.net import Trust

from . import connect
from .live import Target, publish
from .pattern import Pattern

_SIZE = re.compile(r"(\d{2,4})x(\d{2,4})")
_BROADCAST = re.compile(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*")
MAX_TOKEN_TTL = 7 * 86400
"""What tools.token mints without --long-lived: a leaked token works until it expires."""


def stack_settings(stack: str) -> tuple[str, Settings]:
    """The stack's name and its file's ``quicstack:`` config, validated like the program does (no Pulumi CLI)."""
    try:
        name, path = stack_file(stack)
    except UnknownStack as err:
        raise UsageError(str(err)) from None
    if not path.is_file():
        raise UsageError(f"no stack file {path}")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return name, load({k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("quicstack:")})


def target(args: argparse.Namespace) -> Target:
    token, _ = tokens.resolve(args.token, args.token_file)
    ca = args.ca
    if ca and not Path(ca).is_file():
        raise UsageError(f"--ca {ca}: no such file")
    settings = None
    if args.stack:
        name, settings = stack_settings(args.stack)
        if not settings.relay.enabled:
            raise UsageError(f"stack {name} has no relay (quicstack:relay.enabled is false)")
        url = args.url or f"https://{settings.hosts.relay}/{settings.relay.public_prefix}"
        broadcast = args.broadcast or settings.web.broadcast
    elif args.url and args.broadcast:
        url, broadcast = args.url, args.broadcast
    else:
        raise UsageError("give --stack, or --url and --broadcast")
    if not re.fullmatch(r"https://[^\s/?#]+(/[A-Za-z0-9._~/-]*)?", url):
        raise UsageError(f"--url {url!r} is not an https:// URL without a query (the token goes in --token)")
    if not _BROADCAST.fullmatch(broadcast):
        raise UsageError(f"--broadcast {broadcast!r} is not a broadcast path "
                         "(segments of A-Z, a-z, 0-9 and . _ ~ -, joined by '/')")
    wants_token = settings is None or settings.relay.auth_mode(settings.acme.is_acme) != "anonymous"
    if not token and (args.key or (settings and wants_token)):
        root = settings.relay.public_prefix if settings else urlsplit(url).path.strip("/")
        token = minted(name if settings else None, "/".join(filter(None, (root, broadcast))), args.token_ttl, args.key)
    return Target(url=url.rstrip("/"), broadcast=broadcast, token=token, ca_file=ca)


def minted(stack: Optional[str], path: str, ttl: int, key: Optional[str] = None) -> str:
    """A token that may publish ``path``, signed with ``key`` (a file) or the stack's key (``tools.token --stack``:
    the Pulumi CLI reads the secret output ``relayTokenKey``)."""
    from tools.token import __main__ as tool

    source = ["--key", key] if key else ["--stack", stack]
    try:
        return tool.token(tool.parser().parse_args([*source, "--publish", path, "--ttl", f"{ttl}s"]), None)
    except UsageError as err:  # tools.token's advice names stdin, which this tool does not read
        raise UsageError(str(err).replace(tool.INSTEAD, "pass --key FILE (the stack's signing key) or --token")) \
            from None


def trust(args: argparse.Namespace) -> Trust:
    """--ca FILE, else a selfsigned stack's own CA (the caCertificate output, as tools.verify reads it), else the
    system store."""
    if args.ca:
        return inputs.trust(args.ca, False, {})
    if args.stack:
        name, settings = stack_settings(args.stack)
        if not settings.acme.is_acme:
            outputs = inputs.stack_outputs(name, instead="pass --ca FILE (the stack's caCertificate output)")
            return inputs.trust(None, False, outputs)
    return inputs.trust(None, False, {})


def pattern(args: argparse.Namespace) -> Pattern:
    size = _SIZE.fullmatch(args.size)
    if not size:
        raise UsageError(f"--size {args.size!r} is not WIDTHxHEIGHT such as 640x360")
    try:
        return Pattern(int(size[1]), int(size[2]), args.fps)
    except ValueError as err:
        raise UsageError(f"--size/--fps: {err}") from None


class _Parser(argparse.ArgumentParser):
    """Argument errors become a UsageError: one line (tokens hidden), exit 2, like every other bad input."""

    def error(self, message: str):
        raise UsageError(message)


def parse(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = _Parser(prog="python -m tools.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="stack name (stacks/Pulumi.<name>.yaml) or a stack file path")
    parser.add_argument("--url", help="session root to publish under (default: the stack's relay + public prefix)")
    parser.add_argument("--broadcast", help="broadcast path under the URL (default: the stack's web.broadcast)")
    tokens.add_arguments(parser, "a JWT that may publish the broadcast (default with --stack: minted from the "
                         "stack's signing key)")
    parser.add_argument("--token-ttl", type=int, default=12 * 3600, metavar="SECONDS",
                        help=f"lifetime of a minted token (default 43200: 12 h; at most {MAX_TOKEN_TTL}: 7 days)")
    parser.add_argument("--key", metavar="FILE", help="sign the token with this private key (PEM, or a private JWK; "
                        "what tools.token --key reads) instead of the stack's relayTokenKey output")
    parser.add_argument("--ca", help="PEM file of the CA to trust (default with a selfsigned --stack: its "
                        "caCertificate output, read with the Pulumi CLI)")
    parser.add_argument("--connect-timeout", type=_seconds, default=10.0, metavar="SECONDS",
                        help="give up when the relay has not completed a QUIC handshake by then (default 10)")
    parser.add_argument("--size", default="640x360", help="picture size, WIDTHxHEIGHT (default 640x360)")
    parser.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
    parser.add_argument("--tone", action="store_true", help="also publish a 1 kHz test tone (Opus)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    args = parser.parse_args(argv)
    if args.duration is not None and not 0 < args.duration <= 86400:
        parser.error(f"--duration {args.duration}: 0 < seconds <= 86400")
    if not 60 <= args.token_ttl <= MAX_TOKEN_TTL:
        parser.error(f"--token-ttl {args.token_ttl}: 60 to {MAX_TOKEN_TTL} seconds (7 days); for a longer-lived "
                     "token, mint one with tools.token --long-lived and pass it with --token-file")
    return args


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 120:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0.1 to 120")
    return value


async def run(t: Target, p: Pattern, with_tone: bool, duration: Optional[float], trusted: Trust = Trust("system"),
              connect_timeout: float = 10.0) -> int:
    import moq

    try:
        address_url, fingerprint = await connect.pinned(t.url, trusted, connect_timeout, lambda m: print(m, flush=True))
    except connect.Unreachable as err:
        print(tokens.redact(f"error: {err}", t.token), file=sys.stderr)
        return 1
    t = replace(t, address_url=address_url, fingerprint=fingerprint)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration:
        loop.call_later(duration, stop.set)
    media = f"{p.width}x{p.height} {p.fps} fps H.264" + (" + 1 kHz tone" if with_tone else "")

    def live() -> None:
        print(f"publishing {t.broadcast!r} at {t.url} ({media}); Ctrl-C stops", flush=True)

    started = time.monotonic()
    try:
        stats = await publish(t, p, stop, with_tone=with_tone, on_live=live)
    except moq.Error as err:
        details = moq.protocol_error(err)  # a session the relay closed carries its reason here, not in str()
        reason = details.message if details and details.message else \
            str(err).splitlines()[0] if str(err) else type(err).__name__
        hint = " (the relay refused the token, or anonymous publishing)" if moq.is_auth(err) else ""
        print(tokens.redact(f"error: publishing {t.broadcast!r} at {t.url} failed: {reason}{hint}", t.token),
              file=sys.stderr)
        return 1
    if stats.ended_by_relay:
        print(f"error: the relay closed the session after {stats.frames} frames (a token expiring ends it)",
              file=sys.stderr)
        return 1
    print(f"stopped: {stats.frames} frames in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    try:
        args = parse(argv)
        t, p = target(args), pattern(args)
        trusted = trust(args)
    except (UsageError, ConfigError) as err:
        print(tokens.redact(f"error: {err}" if isinstance(err, UsageError) else str(err)), file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(t, p, args.tone, args.duration, trusted, args.connect_timeout))
    except KeyboardInterrupt:  # a second Ctrl-C while the tracks are being finished
        return 130


if __name__ == "__main__":
    sys.exit(main())
