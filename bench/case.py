"""One benchmark case: a topology's relays, one publisher and N subscribers, measured over a window.

Shared by ``bench.relay`` (one relay beside none) and ``bench.tier`` (clustered relays). Subscribers are
spread evenly over the topology's subscribe URLs (one per relay), and each relay's share over its own
subscriber processes, many MoQ sessions per process (``bench/peers.py``), so that hundreds of subscribers
cost a few processes. Relay CPU is read per relay from ``/proc/<pid>/stat``; the subscriber processes' CPU is
reported too, so a reader sees whether the clients, not the relays, were the limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import Usage, busy_percent, latency, machine_ticks
from tests.support.processes import started, stop, wait_for_output

ROOT = Path(__file__).resolve().parents[1]
PEERS = [sys.executable, "-m", "bench.peers"]


@dataclass
class Setup:
    """Where peers connect in one topology, and which processes are "the relay" for CPU and memory."""

    publisher: list[str]
    """Arguments of ``bench.peers publish`` that say where to publish (or to serve)."""
    subscribe_urls: list[str]
    """Session URLs, one per relay (the subscribers are spread evenly over them)."""
    ca: Path
    relays: list[int] = field(default_factory=list)
    """PIDs of the relays, in the order of ``subscribe_urls``."""
    helpers: list[int] = field(default_factory=list)
    """PIDs beside the relays that are not counted as the relay (0.17's auth servers): their CPU is reported apart."""


class Topology:
    name = "?"
    line = ""
    """The moq-relay version it runs ("" without a relay)."""

    def start(self, stack: ExitStack, work: Path) -> Setup:
        raise NotImplementedError

    def case(self, subscribers: int) -> str:
        """The case's directory name under the run's (both relay lines run the same topologies in one run)."""
        return "-".join(filter(None, (self.name, self.line, str(subscribers))))


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
class Share:
    """What the subscribers of one relay (by its index in ``subscribe_urls``) saw."""

    relay: int
    subscribers: int
    connected: int
    p50_ms: float
    p99_ms: float
    received: int
    expected: int


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
    connected: int = 0
    """Subscribers that had subscribed when the measuring started (of ``subscribers``)."""
    relay_cpu: list[float] = field(default_factory=list)
    """CPU per relay (% of one core), in relay order; ``cpu_percent`` is their sum."""
    shares: list[Share] = field(default_factory=list)
    """Per relay, in relay order."""
    via_peers: Share | None = None
    """The subscribers of relays 1..N-1 together (``relay`` -1): with the publisher on relay 0 and the relays in
    a full mesh, each of their frames crossed exactly one relay-to-relay hop. None with one relay."""
    machine_busy_percent: float = 0.0
    """How busy all the machine's cores were over the window (100 = every core), whoever used them."""
    line: str = ""
    """The moq-relay version that ran ("" without a relay)."""
    helpers_cpu_percent: float | None = None
    """CPU of the processes beside the relays (0.17's auth servers) over the window, not in ``cpu_percent``."""

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


def spread(subscribers: int, relays: int, processes: int) -> list[tuple[int, int]]:
    """(relay index, sessions) per subscriber process: the subscribers split evenly over the relays, each
    relay's share over its processes (at least one process per relay that has subscribers)."""
    plan = []
    for relay, (count, procs) in enumerate(zip(split(subscribers, relays), split(max(processes, relays), relays))):
        plan += [(relay, n) for n in split(count, min(procs, count))] if count else []
    return plan


@dataclass
class _Subscribers:
    process: subprocess.Popen
    relay: int
    clients: int
    log: Path
    out: Path


def _start_subscribers(stack: ExitStack, setup: Setup, subscribers: int, opts: Options, work: Path):
    subs = []
    for i, (relay, clients) in enumerate(spread(subscribers, len(setup.subscribe_urls), opts.processes)):
        log, out = work / f"subscribers-{i}.log", work / f"subscribers-{i}.json"
        args = ["subscribe", "--url", setup.subscribe_urls[relay], "--ca", str(setup.ca), "--clients", str(clients),
                "--wait", str(opts.wait), "--out", str(out)]
        subs.append(_Subscribers(stack.enter_context(peer(args, log)), relay, clients, log, out))
    for sub in subs:  # each process says "subscribed" once all its sessions are in, or its --wait is over
        wait_for(sub.log, "subscribed", sub.process, opts.wait + 30)
    return subs


def _measure(setup: Setup, subs: list[_Subscribers], opts: Options):
    """The measuring window (monotonic ns), with each relay's and the subscribers' CPU over it, and how busy the
    whole machine was (the benchmark's processes and anything else running)."""
    relays, clients = [Usage([pid]) for pid in setup.relays], Usage([sub.process.pid for sub in subs])
    helpers = Usage(setup.helpers)
    for usage in [*relays, clients, helpers]:
        usage.start()
    ticks, start = machine_ticks(), time.monotonic_ns()
    while time.monotonic_ns() - start < opts.window * 1e9:
        time.sleep(0.25)
        for usage in relays:
            usage.sample()
    end = time.monotonic_ns()
    for usage in [*relays, clients, helpers]:
        usage.stop()
    return (start, end), relays, clients, helpers, busy_percent(ticks, machine_ticks())


def run_case(topology: Topology, subscribers: int, opts: Options, work: Path) -> Row:
    work.mkdir(parents=True)
    with ExitStack() as stack:
        setup = topology.start(stack, work)
        seconds = opts.wait + 30 + opts.warmup + opts.window + opts.grace + 30  # outlives the case; stopped at its end
        pub_log, sent = work / "publisher.log", work / "sent.txt"
        publisher = stack.enter_context(peer(
            ["publish", *setup.publisher, "--sent", str(sent), "--bitrate", str(opts.bitrate), "--fps", str(opts.fps),
             "--group-seconds", str(opts.group_seconds), "--seconds", str(seconds)], pub_log))
        wait_for(pub_log, "ready", publisher, opts.wait)
        subs = _start_subscribers(stack, setup, subscribers, opts, work)
        time.sleep(opts.warmup)
        window, relays, clients, helpers, busy = _measure(setup, subs, opts)
        time.sleep(opts.grace)  # frames sent at the end of the window are still on their way
        for sub in subs:
            stop(sub.process)
        stop(publisher)
    sent_at = dict(tuple(map(int, line.split())) for line in sent.read_text().splitlines() if line.strip())
    row = _row(topology.name, subscribers, sent_at, window, subs, relays, clients, opts.window)
    row.machine_busy_percent, row.line = busy, topology.line
    row.helpers_cpu_percent = helpers.cpu_percent(opts.window) if setup.helpers else None
    return row


def _share(relay: int, reports: list[dict], sent_at: dict[int, int], window: tuple[int, int]) -> Share:
    frames = [client for report in reports for client in report["clients"]]
    measured = latency(sent_at, window, frames)
    return Share(relay, len(frames), sum(report["subscribed"] for report in reports), measured.p50_ms,
                 measured.p99_ms, measured.received, measured.expected)


def _row(name: str, subscribers: int, sent_at: dict[int, int], window: tuple[int, int], subs: list[_Subscribers],
         relays: list[Usage], clients: Usage, seconds: float) -> Row:
    reports = [(sub.relay, json.loads(sub.out.read_text())) for sub in subs]
    shares = [_share(relay, [r for at, r in reports if at == relay], sent_at, window)
              for relay in sorted({relay for relay, _ in reports})]
    peers = [report for relay, report in reports if relay > 0]
    everyone = _share(0, [report for _, report in reports], sent_at, window)
    errors, skips = [], Counter()
    for _, report in reports:
        errors += report["errors"]
        skips.update(report["skips"])
    cpu = [usage.cpu_percent(seconds) for usage in relays]
    rss = sum(usage.rss_peak for usage in relays) / 2**20 if relays else None
    return Row(name, subscribers, everyone.p50_ms, everyone.p99_ms, everyone.received, everyone.expected,
               sum(cpu) if relays else None, rss, clients.cpu_percent(seconds), errors, dict(skips),
               everyone.connected, cpu, shares, _share(-1, peers, sent_at, window) if peers else None)
