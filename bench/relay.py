"""``python -m bench.relay``: the real moq-relay on loopback under a video-like load, next to no relay at all.

One publisher (``bench/peers.py``: 2 Mbit/s, 30 fps, 1 s groups by default) sends through the relay
to 1, 10 and 100 subscribers (real MoQ clients, spread over a few processes), and, in the same run,
straight to the same number of subscribers with no relay (the publisher is then a MoQ server itself).
For each case it reports publish-to-receipt latency p50/p99 over a measuring window, the frames lost,
and the relay's CPU (``/proc/<pid>/stat``) and peak RSS; the relay's added latency is the ratio of
the two p50s at the same subscriber count. With ``--old-relay-binary`` the previous line (moq-relay 0.14.12,
``bench/old_line.py``) runs the same cases in the same run, right after the pinned line's.

The relay runs the TOML the ``local`` stack plans (``tests/support/relay.py``: a local CA's certificate,
loopback ports), with its auth server beside it (0.17 asks it about every session; its CPU is reported apart
from the relay's). The machine is small and shared (2 cores): subscribers share at most
``--processes`` processes, everything is bounded in time, and the load average is reported with the
results. A case (``bench/case.py``) runs one :class:`~bench.case.Topology`: it starts its relays and says
where the publisher and the subscribers connect (``bench.tier`` adds clustered relays).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from bench.case import ROOT, Options, Row, Setup, Topology, run_case
from bench.measure import children_running
from components.workloads.relay.versions import RELAY_VERSION

PUBLIC = "anon"


class Direct(Topology):
    """No relay: the publisher is a MoQ server (moq-rs's library server) and subscribers dial it."""

    name = "direct"

    def start(self, stack: ExitStack, work: Path) -> Setup:
        from tests.support.envoy import free_port
        from tests.support.pki import LocalCA

        ca = LocalCA()
        files = ca.issue(["localhost"])
        for name, data in files.items():
            (work / name).write_bytes(data)
        address = f"127.0.0.1:{free_port()}"
        serve = ["--serve", address, "--cert", str(work / "tls.crt"), "--key", str(work / "tls.key")]
        return Setup(serve, [f"https://{address}/{PUBLIC}"], work / "ca.crt")


class SingleRelay(Topology):
    """One moq-relay running the planned TOML, its auth server beside it (not counted as the relay); everyone
    dials it."""

    name, line = "relay", RELAY_VERSION

    def __init__(self, plan_dir: Path):
        self.plan_dir = plan_dir

    def start(self, stack: ExitStack, work: Path) -> Setup:
        from tests.support import relay
        from tests.support.plan import Plan

        pod = relay.materialize(Plan(self.plan_dir), work / "pod")
        running = stack.enter_context(relay.running(pod))
        url = f"{pod.url}/{PUBLIC}"
        return Setup(["--url", url, "--ca", str(pod.ca_file)], [url], pod.ca_file, [running.process.pid],
                     children_running(relay.AUTH_BINARY))


def use_relay(binary: str | None) -> Path:
    """The moq-relay the run starts: ``binary`` (e.g. ``make relay-release``'s) or the debug build ``make deps``
    installs. The test helpers read ``QUICSTACK_MOQ_RELAY`` once, on import, so it is set before that import and
    the imported path checked: the report names the binary that really ran. A missing file: one line, exit 2."""
    if binary:
        path = Path(binary).resolve()
        if not (path.is_file() and os.access(path, os.X_OK)):
            print(f"error: --relay-binary {binary}: not an executable file (`make relay-release` builds the "
                  "release relay)", file=sys.stderr)
            raise SystemExit(2)
        os.environ["QUICSTACK_MOQ_RELAY"] = str(path)
    from tests.support.relay import BINARY

    if binary and BINARY != path:
        raise RuntimeError(f"the relay helpers were imported before --relay-binary was applied: {BINARY}")
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        print(f"error: no moq-relay at {BINARY}: `make deps` builds it (debug), `make relay-release` the release "
              "build (then pass --relay-binary)", file=sys.stderr)
        raise SystemExit(2)
    return BINARY


def use_old_relay(binary: str | None) -> Path | None:
    """The previous line's moq-relay (``make relay-release-old``), run beside the pinned one; None: not asked for.
    Not an executable file: one line, exit 2."""
    if not binary:
        return None
    path = Path(binary).resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        print(f"error: --old-relay-binary {binary}: not an executable file (`make relay-release-old` builds it)",
              file=sys.stderr)
        raise SystemExit(2)
    return path


def ran(binary: Path, old: Path | None) -> str:
    """Which relay builds ran, for the report's first line."""
    from bench.old_line import VERSION

    return f"relay {binary}" + (f"; beside it relay {VERSION} {old}" if old else "")


def number(kind: type, low: float, high: float):
    """An argparse ``type=``: ``kind`` from ``low`` to ``high``; anything else is argparse's one-line usage error."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'} "
                                             f"from {low:g} to {high:g}")
        return value
    return parse


def counts(low: int, high: int):
    """An argparse ``type=``: comma-separated integers from ``low`` to ``high`` (``1,10,100``)."""
    one = number(int, low, high)

    def parse(text: str) -> list[int]:
        try:
            return [one(part.strip()) for part in text.split(",")]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{text!r} is not comma-separated integers from {low} to {high}") from None
    return parse


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "loadAverage": [round(x, 2) for x in os.getloadavg()]}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    direct = {r.subscribers: r for r in rows if r.topology == "direct"}
    lines = ["| subscribers | path | p50 ms | p99 ms | relay/direct p50 | frames lost | relay CPU (% of a core) "
             "| CPU per subscriber | relay RSS MB | subscribers' CPU | auth server CPU | machine busy |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base, path = direct.get(r.subscribers), f"{r.topology} {r.line}".strip()
        ratio = f"{r.p50_ms / base.p50_ms:.2f}×" if base and r.topology != "direct" and base.p50_ms > 0 else "—"
        cpu = _percent(r.cpu_percent)
        per = f"{r.cpu_percent / r.subscribers:.2f}" if r.cpu_percent is not None else "—"
        rss = f"{r.rss_mb:.0f}" if r.rss_mb is not None else "—"
        lines.append(f"| {r.subscribers} | {path} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {ratio} "
                     f"| {r.lost} of {r.expected} | {cpu} | {per} | {rss} | {r.clients_cpu_percent:.0f} "
                     f"| {_percent(r.helpers_cpu_percent)} | {r.machine_busy_percent:.0f} % |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__.split("\n\n")[0])
    p.add_argument("--subscribers", type=counts(1, 1000), default="1,10,100",
                   help="comma-separated subscriber counts, 1 to 1000 (default %(default)s)")
    p.add_argument("--bitrate", type=number(int, 1000, 1_000_000_000), default=2_000_000,
                   help="bits per second (default %(default)s)")
    p.add_argument("--fps", type=number(int, 1, 120), default=30, help="frames per second (default %(default)s)")
    p.add_argument("--group-seconds", type=number(float, 0.1, 60), default=1.0)
    p.add_argument("--window", type=number(float, 1, 3600), default=10.0,
                   help="measuring window per case, seconds (default %(default)s)")
    p.add_argument("--warmup", type=number(float, 0, 600), default=2.0,
                   help="seconds after every subscriber is in (default 2)")
    p.add_argument("--processes", type=number(int, 1, 64), default=4, help="subscriber processes (default %(default)s)")
    p.add_argument("--relay-binary", help="the moq-relay to run (default: the one make deps builds)")
    p.add_argument("--old-relay-binary", help="also run the previous line's moq-relay (0.14.12) beside it, "
                   "same load, same run (make relay-release-old builds it)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "bench", help="where logs and results go")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    binary, old = use_relay(args.relay_binary), use_old_relay(args.old_relay_binary)
    opts = Options(args.bitrate, args.fps, args.group_seconds, args.window, args.warmup, processes=args.processes)
    work = args.work / time.strftime("%Y%m%d-%H%M%S")
    from tests.support.plan import run_plan

    planned = run_plan("local", work / "plan", "--show-secrets")
    if planned.returncode != 0:
        print(f"error: planning the local stack failed: {planned.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    topologies = [Direct(), SingleRelay(work / "plan" / "local")]
    if old:
        from bench.old_line import OldRelays

        topologies.append(OldRelays(1, old, "relay"))
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, load {info['loadAverage']}; {args.bitrate / 1e6:g} Mbit/s, "
          f"{args.fps} fps, {args.group_seconds:g} s groups, {args.window:g} s window; {ran(binary, old)}", flush=True)
    rows = []
    for n in args.subscribers:
        for topology in topologies:
            row = run_case(topology, n, opts, work / topology.case(n))
            rows.append(row)
            print(f"{topology.name:>6} {topology.line:>7} {n:>4} subscribers: p50 {row.p50_ms:.1f} ms, "
                  f"p99 {row.p99_ms:.1f} ms, lost {row.lost}/{row.expected}"
                  + (f", errors: {row.errors[:2]}" if row.errors else "")
                  + (f", groups skipped: {row.skips}" if row.skips else ""), flush=True)
    print(f"# load at the end: {machine()['loadAverage']}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "options": asdict(opts), "relayBinary": str(binary),
                                         "oldRelayBinary": str(old) if old else None,
                                         "loadAtEnd": machine()["loadAverage"], "rows": [asdict(r) for r in rows]},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
