"""``python -m tools.token``: print a token for the stack's relay (moq-token's JWT format).

Where publishing needs a token (every ACME stack by default), the stack keeps the signing key as the
secret output ``relayTokenKey``; the cluster holds only its public half. This reads that output the
way ``tools.verify`` reads outputs (``--stack NAME`` runs ``pulumi stack output --json
--show-secrets``, or the JSON is piped in), or a key file (``--key FILE``: PEM or private JWK), and
prints one line: the token. Clients append it to the relay URL as ``?jwt=<token>``.

A token lives at most 7 days unless ``--long-lived`` is given (then up to 366 days). Nothing can revoke a single
token: a leaked one works until it expires, and the only way to end it sooner is to rotate the signing key
(``relay.jwtKeys``), which ends every token signed with it. So keep lifetimes short and mint again.

Exit 0 with the token, 2 with one line for bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from components.workloads.relay.config import BROADCAST_PATH
from components.workloads.relay.keys import BadKey, claims, load_private_key, sign
from tools.verify.inputs import UsageError, parse_outputs, stack_outputs

OUTPUT = "relayTokenKey"
INSTEAD = "pipe `pulumi stack output --json --show-secrets` in, or pass --key FILE"
TTL = re.compile(r"([1-9][0-9]{0,6})([smhd])")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL = 7 * 86400
"""The longest lifetime without --long-lived: a leaked token works until it expires (key rotation is the only
revocation), so a week bounds the harm of one left in a shell history, a CI log or a screenshot."""
MAX_LONG_TTL = 366 * 86400
"""The longest lifetime with --long-lived."""

EXAMPLES = """examples:
  python -m tools.token --stack k3s --publish anon/demo --ttl 1h
  pulumi stack output --json --show-secrets | python -m tools.token --publish anon --subscribe anon
  python -m tools.token --key relay-token.pem --publish live --ttl 30m
  python -m tools.token --stack k3s --subscribe anon --ttl 90d --long-lived
"""


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line and exit 2, not argparse's usage block."""

    def error(self, message: str):
        raise UsageError(message)


def prefix(text: str) -> str:
    path = text.strip("/")
    if not BROADCAST_PATH.fullmatch(path):  # the grammar of relay.publicPrefix; "" grants everything
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a broadcast path prefix (segments of A-Z, a-z, 0-9 and . _ ~ -, "
            "joined by '/'; '' grants everything)"
        )
    return path


def ttl(text: str) -> int:
    match = TTL.fullmatch(text.strip())
    seconds = int(match[1]) * UNIT[match[2]] if match else 0
    if not match or seconds > MAX_LONG_TTL:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a lifetime: a number and s, m, h or d (e.g. 90s, 15m, 1h, 7d), "
            "at most 7d (366d with --long-lived)"
        )
    return seconds


def shown_ttl(seconds: int) -> str:
    """A lifetime in the largest unit that divides it (``30d``, ``90m``)."""
    unit = next(u for u in "dhms" if seconds % UNIT[u] == 0)
    return f"{seconds // UNIT[unit]}{unit}"


def check_lifetime(args: argparse.Namespace) -> None:
    if args.ttl > MAX_TTL and not args.long_lived:
        raise UsageError(
            f"--ttl {shown_ttl(args.ttl)} is longer than 7d, the limit without --long-lived (which allows up to "
            "366d): a leaked token works until it expires, and rotating the signing key is the only revocation"
        )


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m tools.token",
        description=__doc__.split("\n\n")[0],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = p.add_argument_group("signing key (default: stack outputs JSON on stdin)")
    source.add_argument("--stack", metavar="NAME", help="read the relayTokenKey output of this stack (Pulumi CLI)")
    source.add_argument("--key", metavar="FILE", help="sign with this private key (PEM, or a private JWK) instead")
    grants = p.add_argument_group("what the token grants (prefixes of broadcast paths, relative to the relay's root)")
    grants.add_argument(
        "--publish", metavar="PREFIX", type=prefix, action="append", help="may publish under PREFIX (repeatable)"
    )
    grants.add_argument(
        "--subscribe", metavar="PREFIX", type=prefix, action="append", help="may subscribe under PREFIX (repeatable)"
    )
    p.add_argument(
        "--ttl",
        type=ttl,
        default=3600,
        metavar="DURATION",
        help="lifetime, e.g. 15m, 1h, 7d (default 1h), at most 7d without --long-lived; "
        "the relay ends a session when its token expires",
    )
    p.add_argument(
        "--long-lived",
        action="store_true",
        help="allow a --ttl over 7d, up to 366d. Nothing revokes one token: a leaked token works until it "
        "expires, unless the signing key is rotated (which ends every token it signed)",
    )
    return p


def key_text(args: argparse.Namespace, stdin) -> str:
    if args.key and args.stack:
        raise UsageError("give either --stack or --key, not both")
    if args.key:
        try:
            return Path(args.key).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--key {args.key}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    if args.stack:
        outputs, source = stack_outputs(args.stack, show_secrets=True, instead=INSTEAD), f"stack {args.stack}"
    elif stdin is None or stdin.isatty():
        raise UsageError(
            "no signing key: pass --stack NAME or --key FILE, or pipe `pulumi stack output --json --show-secrets` in"
        )
    else:
        text = stdin.read()
        if not text.strip():
            raise UsageError(
                "no signing key: stdin is empty; pipe `pulumi stack output --json --show-secrets` in, "
                "or pass --stack NAME or --key FILE"
            )
        outputs, source = parse_outputs(text, "stdin"), "the piped outputs"
    value = outputs.get(OUTPUT)
    if value == "[secret]":
        raise UsageError(f"{OUTPUT} in {source} is redacted: read the outputs with --show-secrets")
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"no {OUTPUT} output in {source}: its relay takes no tokens from this stack's key "
            "(anonymous publishing, or relay.jwtKey existing: use --key FILE)"
        )
    return value


def token(args: argparse.Namespace, stdin, now: float | None = None) -> str:
    if not args.publish and not args.subscribe:
        raise UsageError("the token would grant nothing: give --publish PREFIX and/or --subscribe PREFIX")
    check_lifetime(args)
    try:
        key = load_private_key(key_text(args, stdin))
    except BadKey as exc:
        raise UsageError(f"the signing key is unusable: {exc}") from None
    issued = int(time.time() if now is None else now)
    return sign(key, claims(args.publish, args.subscribe, issued + args.ttl, issued))


def main(argv: list[str] | None = None) -> int:
    try:
        print(token(parser().parse_args(argv), sys.stdin))
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
