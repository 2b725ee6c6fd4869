"""``python -m bench.relay``: the real moq-relay on loopback under a video-like load, next to no relay at all.

One publisher (``bench/peers.py``: 2 Mbit/s, 30 fps, 1 s groups by default) sends through the relay
to 1, 10 and 100 subscribers (real MoQ clients, spread over a few processes), and, in the same run,
straight to the same number of subscribers with no relay (the publisher is then a MoQ server itself).
For each case it reports publish-to-receipt latency p50/p99 over a measuring window, the frames lost,
and the relay's CPU (``/proc/<pid>/stat``) and peak RSS; the relay's added latency is the ratio of
the two p50s at the same subscriber count.

The relay runs the TOML the ``local`` stack plans (``tests/support/relay.py``: a local CA's certificate,
loopback ports). The machine is small and shared (2 cores): subscribers share at most
``--processes`` processes, everything is bounded in time, and the load average is reported with the
results. :class:`Topology` is the extension point for clustered relays (issue 14): a topology starts
its relays and says where the publisher and each subscriber process connect.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.measure import Usage, latency
from tests.support.processes import started, stop, wait_for_output

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = "anon"
PEERS = [sys.executable, "-m", "bench.peers"]


@dataclass
class Setup:
    """Where peers connect in one topology, and which processes are "the relay" for CPU and memory."""

    publisher: list[str]
    """Arguments of ``bench.peers publish`` that say where to publish (or to serve)."""
    subscribe_urls: list[str]
    """Session URLs; subscriber process ``i`` dials ``subscribe_urls[i % len]``."""
    ca: Path
    relays: list[int] = field(default_factory=list)


class Topology:
    name = "?"

    def start(self, stack: ExitStack, work: Path) -> Setup:
        raise NotImplementedError


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
    """One moq-relay running the planned TOML; everyone dials it."""

    name = "relay"

    def __init__(self, plan_dir: Path):
        self.plan_dir = plan_dir

    def start(self, stack: ExitStack, work: Path) -> Setup:
        from tests.support import relay
        from tests.support.plan import Plan

        pod = relay.materialize(Plan(self.plan_dir), work / "pod")
        running = stack.enter_context(relay.running(pod))
        url = f"{pod.url}/{PUBLIC}"
        return Setup(["--url", url, "--ca", str(pod.ca_file)], [url], pod.ca_file, [running.process.pid])


@dataclass
class Options:
    bitrate: int = 2_000_000
    fps: int = 30
    group_seconds: float = 1.0
    window: float = 10.0
    warmup: float = 2.0
    grace: float = 1.0
    processes: int = 4
    wait: float = 60.0


@dataclass
class Row:
    topology: str
    subscribers: int
    p50_ms: float
    p99_ms: float
    received: int
    expected: int
    cpu_percent: float | None
    rss_mb: float | None
    clients_cpu_percent: float
    """CPU of the subscriber processes together (100 = one core): near the machine's cores, the clients
    and not the relay set the latency."""
    errors: list[str]
    """Why subscribers stopped before the end (each ends the case's measurement for that subscriber)."""
    skips: dict[str, int]
    """Groups a subscriber could not read (it fell behind and was handed newer ones), by error."""

    @property
    def lost(self) -> int:
        return self.expected - self.received


def peer(args: list[str], log: Path):
    """A ``bench.peers`` process, stopped by PID when the block ends."""
    return started([*PEERS, *args], log, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for(log: Path, event: str, process: subprocess.Popen, timeout: float) -> None:
    wait_for_output(log, f'"event": "{event}"', process, timeout)


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_case(topology: Topology, subscribers: int, opts: Options, work: Path) -> Row:
    work.mkdir(parents=True)
    with ExitStack() as stack:
        setup = topology.start(stack, work)
        seconds = opts.wait + opts.warmup + opts.window + opts.grace + 30  # outlives the case; stopped at its end
        pub_log, sent = work / "publisher.log", work / "sent.txt"
        publisher = stack.enter_context(peer(
            ["publish", *setup.publisher, "--sent", str(sent), "--bitrate", str(opts.bitrate), "--fps", str(opts.fps),
             "--group-seconds", str(opts.group_seconds), "--seconds", str(seconds)], pub_log))
        wait_for(pub_log, "ready", publisher, opts.wait)
        subs = []
        for i, clients in enumerate(split(subscribers, min(opts.processes, subscribers))):
            log, out = work / f"subscribers-{i}.log", work / f"subscribers-{i}.json"
            url = setup.subscribe_urls[i % len(setup.subscribe_urls)]
            process = stack.enter_context(peer(["subscribe", "--url", url, "--ca", str(setup.ca), "--clients",
                                                str(clients), "--wait", str(opts.wait), "--out", str(out)], log))
            subs.append((process, log, out))
        for process, log, _ in subs:
            wait_for(log, "subscribed", process, opts.wait)
        time.sleep(opts.warmup)
        usage, clients_usage = Usage(setup.relays), Usage([process.pid for process, _, _ in subs])
        usage.start()
        clients_usage.start()
        start = time.monotonic_ns()
        while time.monotonic_ns() - start < opts.window * 1e9:
            time.sleep(0.25)
            usage.sample()
        end = time.monotonic_ns()
        usage.stop()
        clients_usage.stop()
        time.sleep(opts.grace)  # frames sent at the end of the window are still on their way
        for process, _, _ in subs:
            stop(process)
        stop(publisher)
    sent_at = dict(tuple(map(int, line.split())) for line in sent.read_text().splitlines() if line.strip())
    clients, errors, skips = [], [], Counter()
    for _, _, out in subs:
        report = json.loads(out.read_text())
        clients += report["clients"]
        errors += report["errors"]
        skips.update(report["skips"])
    measured = latency(sent_at, (start, end), clients)
    relay = bool(setup.relays)
    return Row(topology.name, subscribers, measured.p50_ms, measured.p99_ms, measured.received, measured.expected,
               usage.cpu_percent(opts.window) if relay else None, usage.rss_peak / 2**20 if relay else None,
               clients_usage.cpu_percent(opts.window), errors, dict(skips))


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "loadAverage": [round(x, 2) for x in os.getloadavg()]}


def table(rows: list[Row]) -> str:
    direct = {r.subscribers: r for r in rows if r.topology == "direct"}
    lines = ["| subscribers | path | p50 ms | p99 ms | relay/direct p50 | frames lost | relay CPU (% of a core) "
             "| CPU per subscriber | relay RSS MB | subscribers' CPU |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = direct.get(r.subscribers)
        ratio = f"{r.p50_ms / base.p50_ms:.2f}×" if base and r.topology != "direct" and base.p50_ms > 0 else "—"
        cpu = f"{r.cpu_percent:.1f}" if r.cpu_percent is not None else "—"
        per = f"{r.cpu_percent / r.subscribers:.2f}" if r.cpu_percent is not None else "—"
        rss = f"{r.rss_mb:.0f}" if r.rss_mb is not None else "—"
        lines.append(f"| {r.subscribers} | {r.topology} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {ratio} "
                     f"| {r.lost} of {r.expected} | {cpu} | {per} | {rss} | {r.clients_cpu_percent:.0f} |")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__.split("\n\n")[0])
    p.add_argument("--subscribers", default="1,10,100", help="comma-separated subscriber counts (default 1,10,100)")
    p.add_argument("--bitrate", type=int, default=2_000_000, help="bits per second (default 2000000)")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--group-seconds", type=float, default=1.0)
    p.add_argument("--window", type=float, default=10.0, help="measuring window per case, seconds (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds after every subscriber is in (default 2)")
    p.add_argument("--processes", type=int, default=4, help="subscriber processes at most (default 4)")
    p.add_argument("--relay-binary", help="the moq-relay to run (default: the one make deps builds)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "bench", help="where logs and results go")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    counts = [int(n) for n in args.subscribers.split(",")]
    if args.relay_binary:
        os.environ["QUICSTACK_MOQ_RELAY"] = str(Path(args.relay_binary).resolve())
    opts = Options(args.bitrate, args.fps, args.group_seconds, args.window, args.warmup, processes=args.processes)
    work = args.work / time.strftime("%Y%m%d-%H%M%S")
    from tests.support.plan import run_plan

    planned = run_plan("local", work / "plan", "--show-secrets")
    if planned.returncode != 0:
        print(f"error: planning the local stack failed: {planned.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    topologies = [Direct(), SingleRelay(work / "plan" / "local")]
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, load {info['loadAverage']}; {args.bitrate / 1e6:g} Mbit/s, "
          f"{args.fps} fps, {args.group_seconds:g} s groups, {args.window:g} s window", flush=True)
    rows = []
    for n in counts:
        for topology in topologies:
            row = run_case(topology, n, opts, work / f"{topology.name}-{n}")
            rows.append(row)
            print(f"{topology.name:>6} {n:>4} subscribers: p50 {row.p50_ms:.1f} ms, p99 {row.p99_ms:.1f} ms, "
                  f"lost {row.lost}/{row.expected}" + (f", errors: {row.errors[:2]}" if row.errors else "")
                  + (f", groups skipped: {row.skips}" if row.skips else ""), flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "options": asdict(opts), "relayBinary":
                                         os.environ.get("QUICSTACK_MOQ_RELAY", "make deps"),
                                         "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
