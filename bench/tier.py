"""``python -m bench.tier``: one publisher and many subscribers through a clustered relay tier,
next to one relay.

The publisher sends into relay 0 of a tier planned from the ``local`` stack with ``relay.replicas`` N
(``tests/support/relay_cluster.py`` runs the planned StatefulSet's pods on loopback, mTLS between them);
the subscribers are spread evenly over all N relays. The relays form a full mesh, so the subscribers of
relays 1..N-1 receive every frame over exactly one relay-to-relay hop more than those of relay 0: that hop
is measured twice side by side, against relay 0's subscribers of the same case and against the single relay
of the same run. CPU is per relay (each relay's auth server apart). With ``--old-relay-binary`` the previous line
(moq-relay 0.14.12, ``bench/old_line.py``) runs each tier size right after the pinned line's, in the same run.
The default load is bounded by the media rate, not the subscriber count (300 subscribers at 5 fps of ~1 kB
frames, many MoQ sessions per subscriber process): the machine is small and shared, so the load average is
printed with the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import yaml

from bench.case import Options, Row, Setup, Topology, run_case
from bench.measure import children_running
from bench.relay import PUBLIC, SingleRelay, counts, machine, ran, use_old_relay, use_relay
from components.workloads.relay.versions import RELAY_VERSION
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
    """``relays`` clustered relays, each with its auth server (not counted as the relay); the publisher on relay 0,
    subscribers on all of them."""

    line = RELAY_VERSION

    def __init__(self, relays: int, plan_dir: Path):
        self.relays, self.plan_dir, self.name = relays, plan_dir, f"tier{relays}"

    def start(self, stack: ExitStack, work: Path) -> Setup:
        from tests.support import relay, relay_cluster
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
        return Setup(["--url", urls[0], "--ca", str(ca)], urls, ca, [p.pid for p in tier.processes],
                     children_running(relay.AUTH_BINARY))


def _pair(a: float, b: float, sign: str = "") -> str:
    return f"{a:{sign}.1f} / {b:{sign}.1f}"


def hop_table(rows: list[tuple[int, Row]]) -> str:
    """Markdown, one line per case: every subscriber; those on the publisher's relay; those one hop away
    (relays 1..N-1); the hop as the difference to the single relay of the same run; CPU per relay, of the
    subscriber processes, and of the whole machine (all cores, anyone's processes)."""
    single = {r.subscribers: r for n, r in rows if n == 1}
    lines = ["| relays | subscribers in | frames received (lost) | p50 / p99 ms | vs 1 relay p50 / p99 "
             "| on relay 0 p50 / p99 | via a peer relay p50 / p99 | hop vs 1 relay p50 / p99 "
             "| CPU per relay (% of a core) | tier RSS MB | subscribers' CPU | machine busy |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for relays, r in rows:
        base, peer, home = single.get(r.subscribers), r.via_peers, r.shares[0]
        versus = "—" if relays == 1 or not base else _pair(r.p50_ms - base.p50_ms, r.p99_ms - base.p99_ms, "+")
        hop = "—" if not (peer and base) else _pair(peer.p50_ms - base.p50_ms, peer.p99_ms - base.p99_ms, "+")
        lost = f"{r.lost / r.expected:.1%}" if r.expected else "—"
        lines.append(f"| {relays} | {r.connected} of {r.subscribers} | {r.received} of {r.expected} ({lost}) "
                     f"| {_pair(r.p50_ms, r.p99_ms)} | {versus} | {_pair(home.p50_ms, home.p99_ms)} "
                     f"| {_pair(peer.p50_ms, peer.p99_ms) if peer else '—'} | {hop} "
                     f"| {' + '.join(f'{c:.0f}' for c in r.relay_cpu)} | {r.rss_mb:.0f} "
                     f"| {r.clients_cpu_percent:.0f} | {r.machine_busy_percent:.0f} % |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """``bench.relay``'s options (window, processes, binary, work, json), the tier sizes, and a load bounded for
    300 subscribers on 2 cores: 5 fps of ~1 kB frames (40 kbit/s), subscribers in 3 processes."""
    p = relay_parser()
    p.prog, p.description = "python -m bench.tier", __doc__.split("\n\n")[0]
    p.add_argument("--relays", type=counts(2, 10), default="2,3",
                   help="tier sizes (2 to 10) to run beside one relay (default 2,3)")
    p.set_defaults(subscribers="300", fps=5, bitrate=40_000, processes=3)
    return p


def bounds(args) -> str:
    """The load, in one line: rate, frame sizes, window, and the machine's load average now."""
    from bench.peers import frame_sizes

    group = round(args.fps * args.group_seconds)
    keyframe, delta = frame_sizes(args.bitrate, args.fps, group, 10.0)
    info = machine()
    return (f"{info['cpu']}, {info['cores']} cores, load {info['loadAverage']}; {args.fps} fps, {group}-frame groups "
            f"({keyframe} B + {delta} B frames, {args.bitrate / 1e3:g} kbit/s), {args.window:g} s window, "
            f"subscribers in {args.processes} processes")


def _line(name: str, row: Row) -> str:
    cpu = " + ".join(f"{c:.0f}" for c in row.relay_cpu)
    return (f"{name:>6} {row.line:>7} {row.subscribers:>4} subscribers ({row.connected} in): p50 {row.p50_ms:.1f} ms, "
            f"p99 {row.p99_ms:.1f} ms, lost {row.lost}/{row.expected}, relay CPU {cpu} %, "
            f"subscribers' CPU {row.clients_cpu_percent:.0f} %, machine {row.machine_busy_percent:.0f} % busy"
            + (f", auth servers' CPU {row.helpers_cpu_percent:.1f} %" if row.helpers_cpu_percent is not None else "")
            + (f", errors: {row.errors[:2]}" if row.errors else ""))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    binary, old = use_relay(args.relay_binary), use_old_relay(args.old_relay_binary)
    opts = Options(args.bitrate, args.fps, args.group_seconds, args.window, args.warmup, processes=args.processes)
    work = args.work / time.strftime("tier-%Y%m%d-%H%M%S")
    topologies = [SingleRelay(plan_tier(1, work)), *(Tier(n, plan_tier(n, work)) for n in args.relays)]
    if old:  # each size on the pinned line, then on the old one, so that both see the machine as alike as can be
        from bench.old_line import OldRelays

        olds = [OldRelays(1, old, "relay"), *(OldRelays(n, old, f"tier{n}") for n in args.relays)]
        topologies = [t for pair in zip(topologies, olds) for t in pair]
    started = f"{bounds(args)}; {ran(binary, old)}"
    print(f"# {started}", flush=True)
    rows = []
    for count in args.subscribers:
        for topology in topologies:
            row = run_case(topology, count, opts, work / topology.case(count))
            rows.append((getattr(topology, "relays", 1), row))
            print(_line(topology.name, row), flush=True)
    print(f"# load at the end: {machine()['loadAverage']}")
    for line in dict.fromkeys(row.line for _, row in rows):  # the pinned line first, then the old one
        print(f"\nmoq-relay {line}:\n{hop_table([(n, row) for n, row in rows if row.line == line])}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "bounds": started, "options": asdict(opts),
                                         "relayBinary": str(binary), "oldRelayBinary": str(old) if old else None,
                                         "rows": [{"relays": n, **asdict(r)} for n, r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
