"""``python -m bench.tier``: ``bench.relay``'s load through a clustered relay tier (issue 14) next to one relay.

The publisher sends into relay 0 of a tier planned from the ``local`` stack with ``relay.replicas`` N
(``tests/support/relay_cluster.py`` runs the planned StatefulSet's pods on loopback, mTLS between them);
the subscribers are spread over relays 1..N-1, so every frame crosses one relay-to-relay hop more than
in the single-relay run measured in the same invocation, and the difference of the p50s/p99s is that
hop. Relay CPU is the tier's total and per relay. Bounded like ``bench.relay``: the machine is small and
shared, so say the load average with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import yaml

from bench.relay import PUBLIC, Options, Row, Setup, SingleRelay, Topology, machine, run_case
from bench.relay import parser as relay_parser

LOCAL = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
         "quicstack:acme": {"environment": "selfsigned"}}


def plan_tier(relays: int, work: Path) -> Path:
    """The local stack planned with ``relays`` relays (sessionAffinity: what a tier needs outside EKS)."""
    from tests.support.plan import run_plan

    stack = work / f"Pulumi.tier{relays}.yaml"
    stack.parent.mkdir(parents=True, exist_ok=True)
    stack.write_text(yaml.safe_dump({"config": {**LOCAL, "quicstack:relay": {
        "replicas": relays, "sessionAffinity": "ClientIP"}}}))
    planned = run_plan(stack, work / "plan", "--show-secrets")
    if planned.returncode != 0:
        raise SystemExit(f"error: planning a {relays}-relay tier failed: {planned.stderr.strip()[-500:]}")
    return work / "plan" / f"tier{relays}"


class Tier(Topology):
    """``relays`` clustered relays; the publisher on relay 0, subscribers on the others."""

    def __init__(self, relays: int, plan_dir: Path):
        self.relays, self.plan_dir, self.name = relays, plan_dir, f"tier{relays}"

    def start(self, stack: ExitStack, work: Path) -> Setup:
        from tests.support import relay_cluster
        from tests.support.pki import LocalCA
        from tests.support.plan import Plan

        public = LocalCA("public")
        ca = work / "public-ca.crt"
        ca.write_bytes(public.pem)
        pods = relay_cluster.lay_out(relay_cluster.from_plan(Plan(self.plan_dir)), self.relays, work / "tier", public,
                                     LocalCA("relay peers"))
        tier = stack.enter_context(relay_cluster.running(pods))
        time.sleep(1)  # the peers dial each other
        urls = [f"{pod.url}/{PUBLIC}" for pod in pods]
        return Setup(["--url", urls[0], "--ca", str(ca)], urls[1:], ca, [p.pid for p in tier.processes])


def hop_table(rows: list[tuple[int, Row]]) -> str:
    """Markdown: each tier beside the single relay at the same subscriber count, the extra hop as the p50/p99
    differences."""
    single = {r.subscribers: r for n, r in rows if n == 1}
    lines = ["| subscribers | relays | subscribers on | p50 ms | p99 ms | extra hop p50 / p99 ms | frames lost "
             "| tier CPU (% of a core) | CPU per relay | tier RSS MB | subscribers' CPU |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for relays, r in rows:
        base = single.get(r.subscribers)
        hop = "—" if relays == 1 or not base else f"{r.p50_ms - base.p50_ms:+.1f} / {r.p99_ms - base.p99_ms:+.1f}"
        where = "the publisher's relay" if relays == 1 else f"relays 1-{relays - 1}" if relays > 2 else "relay 1"
        lines.append(f"| {r.subscribers} | {relays} | {where} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {hop} "
                     f"| {r.lost} of {r.expected} | {r.cpu_percent:.1f} | {r.cpu_percent / relays:.1f} "
                     f"| {r.rss_mb:.0f} | {r.clients_cpu_percent:.0f} |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """``bench.relay``'s options (load, window, processes, binary, work, json) plus the tier sizes."""
    p = relay_parser()
    p.prog, p.description = "python -m bench.tier", __doc__.split("\n\n")[0]
    p.add_argument("--relays", default="2,3", help="tier sizes to run beside one relay (default 2,3)")
    p.set_defaults(subscribers="300")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.relay_binary:
        os.environ["QUICSTACK_MOQ_RELAY"] = str(Path(args.relay_binary).resolve())
    opts = Options(args.bitrate, args.fps, args.group_seconds, args.window, args.warmup, processes=args.processes)
    work = args.work / time.strftime("tier-%Y%m%d-%H%M%S")
    sizes = [int(n) for n in args.relays.split(",")]
    topologies = [SingleRelay(plan_tier(1, work)), *(Tier(n, plan_tier(n, work)) for n in sizes)]
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, load {info['loadAverage']}; {args.bitrate / 1e6:g} Mbit/s, "
          f"{args.fps} fps, {args.window:g} s window", flush=True)
    rows = []
    for count in (int(n) for n in args.subscribers.split(",")):
        for topology in topologies:
            row = run_case(topology, count, opts, work / f"{topology.name}-{count}")
            rows.append((getattr(topology, "relays", 1), row))
            print(f"{topology.name:>6} {count:>4} subscribers: p50 {row.p50_ms:.1f} ms, p99 {row.p99_ms:.1f} ms, "
                  f"lost {row.lost}/{row.expected}" + (f", errors: {row.errors[:2]}" if row.errors else ""), flush=True)
    print(hop_table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "options": asdict(opts),
                                         "rows": [{"relays": n, **asdict(r)} for n, r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
