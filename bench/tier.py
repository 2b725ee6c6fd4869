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

from bench.relay import PUBLIC, ROOT, Options, Row, Setup, SingleRelay, Topology, machine, run_case

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
    """Markdown: each tier beside the single relay (the first row), the extra hop as the p50/p99 differences."""
    base = rows[0][1]
    lines = ["| relays | subscribers on | p50 ms | p99 ms | extra hop p50 / p99 ms | frames lost "
             "| tier CPU (% of a core) | CPU per relay | tier RSS MB | subscribers' CPU |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for relays, r in rows:
        hop = "—" if relays == 1 else f"{r.p50_ms - base.p50_ms:+.1f} / {r.p99_ms - base.p99_ms:+.1f}"
        where = "the publisher's relay" if relays == 1 else f"relays 1-{relays - 1}" if relays > 2 else "relay 1"
        lines.append(f"| {relays} | {where} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {hop} | {r.lost} of {r.expected} "
                     f"| {r.cpu_percent:.1f} | {r.cpu_percent / relays:.1f} | {r.rss_mb:.0f} "
                     f"| {r.clients_cpu_percent:.0f} |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.tier", description=__doc__.split("\n\n")[0])
    p.add_argument("--relays", default="2,3", help="tier sizes to run beside one relay (default 2,3)")
    p.add_argument("--subscribers", type=int, default=300, help="subscribers in every case (default 300)")
    p.add_argument("--bitrate", type=int, default=2_000_000, help="bits per second (default 2000000)")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--window", type=float, default=10.0, help="measuring window per case, seconds (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds after every subscriber is in (default 2)")
    p.add_argument("--processes", type=int, default=4, help="subscriber processes at most (default 4)")
    p.add_argument("--relay-binary", help="the moq-relay to run (default: the one make deps builds)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "bench", help="where logs and results go")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.relay_binary:
        os.environ["QUICSTACK_MOQ_RELAY"] = str(Path(args.relay_binary).resolve())
    opts = Options(bitrate=args.bitrate, fps=args.fps, window=args.window, warmup=args.warmup, processes=args.processes)
    work = args.work / time.strftime("tier-%Y%m%d-%H%M%S")
    sizes = [int(n) for n in args.relays.split(",")]
    topologies = [SingleRelay(plan_tier(1, work)), *(Tier(n, plan_tier(n, work)) for n in sizes)]
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, load {info['loadAverage']}; {args.subscribers} subscribers, "
          f"{args.bitrate / 1e6:g} Mbit/s, {args.fps} fps, {args.window:g} s window", flush=True)
    rows = []
    for topology in topologies:
        row = run_case(topology, args.subscribers, opts, work / topology.name)
        rows.append((getattr(topology, "relays", 1), row))
        print(f"{topology.name:>6}: p50 {row.p50_ms:.1f} ms, p99 {row.p99_ms:.1f} ms, lost {row.lost}/{row.expected}"
              + (f", errors: {row.errors[:2]}" if row.errors else ""), flush=True)
    print(hop_table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "options": asdict(opts), "subscribers": args.subscribers,
                                         "rows": [{"relays": n, **asdict(r)} for n, r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
