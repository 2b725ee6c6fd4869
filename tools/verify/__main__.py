"""``python -m tools.verify``: check a deployed stack end to end over HTTP/2, HTTP/3 and WebTransport.

Input: the stack's outputs (``pulumi stack output --json | python -m tools.verify``, or ``--stack NAME``),
or explicit URLs (``--envoy``, ``--relay``, ``--web``, ``--url``). Exit 0 when every check passes
(warnings included), 1 when any fails, 2 for bad arguments or input, 130 when interrupted (Ctrl-C).
Every error is one line on stderr; with ``--json`` it is also a JSON object ``{"ok": false, "error": ...}``
on stdout, so CI that parses stdout sees why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time

from components.workloads.envoy.bootstrap import MAX_CONNECTION_ID_PAYLOAD

from . import defaults
from .checks import CHECKS, QUIC_LB_RELAY_CHECKS, Endpoint, Options, Result, checks_of, run_all
from .inputs import UsageError, from_outputs, from_urls, parse_outputs, stack_outputs, trust, typed_output
from . import tokens
from .report import Progress, as_json, table

JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
EXAMPLES = """examples:
  pulumi stack output --json | python -m tools.verify
  python -m tools.verify --stack local
  python -m tools.verify --envoy https://127.0.0.1:8443 --ca ca.pem --replicas 1
  python -m tools.verify --relay https://relay.example.com --token-file ~/.config/quicstack/relay.token
  export QUICSTACK_TOKEN="$(python -m tools.token --stack k3s --publish anon --subscribe anon)"
  python -m tools.verify --stack k3s
  python -m tools.verify --url https://example.com --json"""


def _bounded(kind, low, high):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low}-{high}")
        return value
    return parse


# The config allows what Envoy accepts: a server ID leaves room for the 4-byte minimum nonce.
MAX_SERVER_ID_LENGTH = MAX_CONNECTION_ID_PAYLOAD - 4
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """Argument errors become a UsageError, reported like every other bad input (one line, exit 2)."""

    def error(self, message: str):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m tools.verify",
        description="Check a deployed stack end to end over HTTP/2, HTTP/3 and WebTransport.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = p.add_argument_group("what to verify (default: stack outputs JSON on stdin)")
    source.add_argument(
        "--stack", metavar="NAME", help="run `pulumi stack output --json --stack NAME` and verify that stack"
    )
    source.add_argument("--envoy", metavar="URL", help="the Envoy demo: DNS, TLS, HTTP/2, HTTP/3, QUIC-LB")
    source.add_argument(
        "--relay", metavar="URL",
        help="the relay: DNS, TLS, WebTransport, its HTTP endpoints, WebSocket fallback, a MoQ session"
    )
    source.add_argument(
        "--web", metavar="URL", help="the watch page through the edge: DNS, TLS, page and cross-origin isolation "
        "headers, HTTP/3 where the edge advertises it, the HTTP->HTTPS redirect"
    )
    source.add_argument(
        "--url", metavar="URL", action="append", default=[], help="any HTTPS URL: DNS, TLS, HTTP/2, HTTP/3 (repeatable)"
    )
    trust_group = p.add_argument_group(
        "trust (default: the stack's caCertificate output if any, else the system CA store)"
    )
    trust_group.add_argument("--ca", metavar="FILE", help="trust only the CA certificates in this PEM file")
    trust_group.add_argument("--insecure", action="store_true", help="do not check certificates at all")
    _tuning(p.add_argument_group("checks"))
    p.add_argument("--json", action="store_true", help="print the results as JSON (for CI) instead of a table")
    return p


def _tuning(tuning) -> None:
    """What to expect; unset means the stack's outputs say, else the config's defaults."""
    tuning.add_argument("--timeout", type=_bounded(float, 0.1, 300), default=5.0, metavar="SECONDS",
                        help="bound of each check (default 5)")
    tuning.add_argument("--probes", type=_bounded(int, 1, 500), default=20, metavar="N",
                        help="QUIC-LB connections to open (default 20)")
    tuning.add_argument("--replicas", type=_bounded(int, 1, 1000), metavar="N",
                        help="Envoy replicas to expect (default: the envoyReplicas output)")
    tuning.add_argument("--relay-replicas", type=_bounded(int, 1, 1000), metavar="N",
                        help="the relay writes QUIC-LB connection IDs (an EKS tier): count the relays that answer, "
                        "expecting N (default with stack outputs: relayReplicas when relayQuicLb is true)")
    tuning.add_argument("--server-id-length", type=_bounded(int, 1, MAX_SERVER_ID_LENGTH), metavar="OCTETS",
                        help=f"QUIC-LB server ID length, 1-{MAX_SERVER_ID_LENGTH} "
                        "(default: the envoyServerIdLength output, else "
                        f"{defaults.SERVER_ID_LENGTH})")
    tuning.add_argument("--relay-path", metavar="PATH", help="relay session path when the relay URL has none "
                        f"(default: the relayPublicPrefix output, else {defaults.RELAY_PATH})")
    tokens.add_arguments(tuning, "the moq check publishes a probe broadcast under the relay path with it and reads "
                         "it back; on a relay tier (--relay-replicas) the fan-out check reads one through the other "
                         "pods")
    tuning.add_argument("--probe", action="store_true", help="the moq check publishes its probe broadcast without "
                        "a token, where the relay path is public (anyone may publish there), and reads it back")
    skippable = sorted({name for names in [*CHECKS.values(), QUIC_LB_RELAY_CHECKS] for name in names} - {"dns"})
    tuning.add_argument("--skip", action="append", default=[], choices=skippable, metavar="CHECK",
                        help=f"do not run this check (repeatable): {', '.join(skippable)}")
    tuning.add_argument("--h2-body", metavar="TEXT", help="body the Envoy demo answers over HTTP/2 "
                        "(default: the envoyH2Body output)")
    tuning.add_argument("--h3-body", metavar="TEXT", help="body the Envoy demo answers over HTTP/3 "
                        "(default: the envoyH3Body output)")
    tuning.add_argument("--http-port", type=_bounded(int, 1, 65535), default=80, metavar="PORT",
                        help="where the watch page's redirect check sends plain HTTP (default 80)")


def _expected(args: argparse.Namespace, outputs: dict) -> dict:
    """Flags first, then the stack's outputs, then the config's defaults."""
    length = typed_output(outputs, "envoyServerIdLength", int, f"a server ID length (1-{MAX_SERVER_ID_LENGTH})",
                          lambda n: 1 <= n <= MAX_SERVER_ID_LENGTH)
    prefix = typed_output(outputs, "relayPublicPrefix", str, "a broadcast path")
    bodies = {key: typed_output(outputs, key, str, "a response body") for key in ("envoyH2Body", "envoyH3Body")}
    return {
        "server_id_length": args.server_id_length or length or defaults.SERVER_ID_LENGTH,
        "relay_path": "/" + (args.relay_path if args.relay_path is not None
                             else prefix if prefix is not None else defaults.RELAY_PATH).lstrip("/"),
        "h2_body": args.h2_body if args.h2_body is not None else bodies["envoyH2Body"] or defaults.H2_BODY,
        "h3_body": args.h3_body if args.h3_body is not None else bodies["envoyH3Body"] or defaults.H3_BODY,
    }


def _check_token(token: str | None, source: str | None, endpoints: list[Endpoint]) -> None:
    if token is None:
        return
    if not JWT.fullmatch(token):
        raise UsageError(f"the token ({source}) is not a JWT (three base64url parts separated by dots); "
                         "the value is not shown")
    if not any(ep.role == "relay" for ep in endpoints):
        unset = f": unset {tokens.ENV}" if source == tokens.ENV else ""
        raise UsageError(f"the token ({source}) is for the relay's moq check, but there is no relay to verify{unset}")


def configure(args: argparse.Namespace, stdin) -> tuple[list[Endpoint], Options]:
    if args.ca and args.insecure:
        raise UsageError("--ca and --insecure contradict each other")
    token, source = tokens.resolve(args.token, args.token_file)
    tokens.refuse_insecure(args.insecure, token, source)
    explicit = args.envoy or args.relay or args.web or args.url
    if explicit and args.stack:
        raise UsageError("give either --stack or URLs, not both")
    outputs: dict = {}
    if explicit:
        endpoints = from_urls(args.envoy, args.relay, args.web, args.url, args.replicas, args.relay_replicas)
    else:
        if args.stack:
            outputs = stack_outputs(args.stack)
        elif stdin is None or stdin.isatty():
            raise UsageError(
                "nothing to verify: pipe `pulumi stack output --json` in, or pass --stack NAME or URLs (see --help)"
            )
        else:
            text = stdin.read()
            if not text.strip():
                raise UsageError(
                    "nothing to verify: stdin is empty; pipe `pulumi "
                    "stack output --json` in, or pass --stack NAME or URLs"
                )
            outputs = parse_outputs(text, "stdin")
        endpoints = from_outputs(outputs, args.replicas)
    _check_token(token, source, endpoints)
    options = Options(trust(args.ca, args.insecure, outputs), args.timeout, args.probes, **_expected(args, outputs),
                      token=token, probe=args.probe, skip=frozenset(args.skip), http_port=args.http_port)
    return endpoints, options


async def verify(endpoints: list[Endpoint], options: Options, progress: Progress) -> tuple[list[Result], float]:
    started = time.perf_counter()
    ticker = asyncio.ensure_future(progress.tick())
    try:
        results = await run_all(endpoints, options, progress)
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        progress.clear()
    return results, time.perf_counter() - started


def run(args: argparse.Namespace) -> int:
    endpoints, options = configure(args, sys.stdin)
    # aioquic logs each connection error to stderr itself; the checks report them in their own words.
    logging.getLogger("quic").setLevel(logging.CRITICAL)
    progress = Progress(sum(len(checks_of(ep)) for ep in endpoints), sys.stderr)
    # A Runner of our own: closing it leaves no global loop state behind, and it turns Ctrl-C into
    # cancelling the checks (then KeyboardInterrupt), so every task ends before the loop closes.
    with asyncio.Runner() as runner:
        results, seconds = runner.run(verify(endpoints, options, progress))
    if args.json:
        print(tokens.redact(as_json(endpoints, results, options.trust, seconds, options.timeout), options.token))
    else:
        print(tokens.redact(table(endpoints, results, options.trust, seconds, sys.stdout.encoding), options.token))
    return 1 if any(r.status == "fail" for r in results) else 0


def _fail(message: str, code: int, as_json: bool) -> int:
    message = tokens.redact(message)  # every token resolved so far, and anything shaped like one
    print(message, file=sys.stderr)
    if as_json:
        print(json.dumps({"ok": False, "error": message.removeprefix("error: "), "exitCode": code}))
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        return run(parser().parse_args(argv))
    except UsageError as err:
        return _fail(f"error: {err}", 2, as_json)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED, as_json)
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        return _fail(f"error: {type(err).__name__}: {err}".splitlines()[0], 1, as_json)


def _entry() -> int:
    """Ctrl-C before main() runs (during imports) or while it prints still ends in one line."""
    try:
        return main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(_entry())
