"""What the relay benchmark measures: latency percentiles, lost frames, and a process's CPU and memory
read from ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` (Linux)."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1, whole percents) by linear interpolation between the nearest ranks
    (``statistics.quantiles``' inclusive method)."""
    if not values:
        return float("nan")
    if len(values) == 1:  # statistics.quantiles wants two points before Python 3.13
        return values[0]
    cut = round(q * 100)
    if not 0 < cut < 100:
        return min(values) if cut <= 0 else max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (``utime`` + ``stime``, fields 14 and 15 of stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # the command name may contain spaces: skip past it
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for process {pid}")


def children_running(program: Path) -> list[int]:
    """PIDs of this process's children started as ``program`` (their first argument): helpers a test support
    module starts without handing out their process, such as 0.17's auth server beside each relay."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            stat, argv = (proc / "stat").read_text(), (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):  # not a process, or it ended meanwhile
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        if parent == os.getpid() and argv[0] == os.fsencode(program):
            found.append(int(proc.name))
    return sorted(found)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from the ``cpu`` line of ``/proc/stat`` (busy: all but
    idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def busy_percent(start: tuple[int, int], end: tuple[int, int]) -> float:
    """Share of the whole machine (every core, anyone's processes) that was busy between two readings."""
    return (end[0] - start[0]) / max(1, end[1] - start[1]) * 100


@dataclass
class Usage:
    """CPU and peak memory of a set of processes over a window (sampled by :meth:`sample`)."""

    pids: list[int]
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    rss_peak: int = 0

    def start(self) -> None:
        self.cpu_start = sum(map(cpu_seconds, self.pids))
        self.sample()

    def sample(self) -> None:
        if self.pids:
            self.rss_peak = max(self.rss_peak, sum(map(rss_bytes, self.pids)))

    def stop(self) -> None:
        self.sample()
        self.cpu_end = sum(map(cpu_seconds, self.pids))

    def cpu_percent(self, seconds: float) -> float:
        """Share of one core used over the window (100 = one core busy)."""
        return (self.cpu_end - self.cpu_start) / seconds * 100


@dataclass
class Latency:
    p50_ms: float
    p99_ms: float
    received: int
    expected: int

    @property
    def lost(self) -> int:
        return self.expected - self.received


def latency(sent: dict[int, int], window: tuple[int, int], clients: list[list]) -> Latency:
    """Publish-to-receipt latency of the frames sent inside ``window`` (monotonic ns), over every client.

    ``sent`` maps sequence -> send time; each client is a list of ``[seq, send_ns, receive_ns]``. A frame
    sent in the window that a client never received counts as lost for that client.
    """
    expected = {seq for seq, at in sent.items() if window[0] <= at <= window[1]}
    delays, received = [], 0
    for frames in clients:
        seen = {seq: (got - at) / 1e6 for seq, at, got in frames if seq in expected}
        received += len(seen)
        delays += seen.values()
    return Latency(percentile(delays, 0.5), percentile(delays, 0.99), received, len(expected) * len(clients))
