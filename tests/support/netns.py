"""A relay bound to its planned wildcard address, run where that wildcard reaches nothing but loopback.

Tests bind loopback only, yet the dual-stack question is about the wildcard itself: does one ``[::]``
socket answer IPv4 and IPv6 clients? :func:`probe` answers it inside a new network namespace (only a
loopback interface) and PID namespace (``unshare --kill-child``: the relay dies with the probe, even
if the probe is killed), so no port is opened on the machine's interfaces.

Inside, ``python -m tests.support.netns SPEC`` starts the relay, asks ``/health`` over 127.0.0.1 and
::1, and connects a real MoQ client over each; it prints one JSON object. The relay's auth server runs outside,
on its unix socket: a socket file is reached through the file system, which a network namespace does not divide.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.support.relay import LocalRelay, auth_running, healthy
from tests.support.plan import ROOT

ADDRESSES = ("127.0.0.1", "::1")
UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--net"]


def available() -> bool:
    """True where this process may make namespaces (root, or unprivileged user namespaces)."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=10).returncode == 0


def probe(relay: LocalRelay, timeout: float = 90) -> dict:
    """Run ``relay`` in a private namespace; what answered over each loopback address."""
    spec = relay.root / "netns.json"
    spec.write_text(
        json.dumps(
            {
                "command": relay.command,
                "env": relay.env,
                "internal": relay.internal_port,
                "quic": relay.quic_port,
                "ca": str(relay.ca_file),
                "host": relay.host,
                "log": str(relay.root / "netns-relay.log"),
            }
        )
    )
    with auth_running(relay.auth_command, relay.auth_socket, relay.root):
        proc = subprocess.run(
            [*UNSHARE, sys.executable, "-m", "tests.support.netns", str(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, f"rc={proc.returncode} {proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def _inside(spec: dict) -> dict:
    from tests.support import moq_client  # imported here: only the namespaced process needs it

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    with open(spec["log"], "wb") as log:
        relay = subprocess.Popen(spec["command"], env=spec["env"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while (
            not healthy(f"http://127.0.0.1:{spec['internal']}/health")
            and time.monotonic() < deadline
            and relay.poll() is None
        ):
            time.sleep(0.1)
        result: dict = {"health": {}, "quic": {}}
        for address in ADDRESSES:
            host = f"[{address}]" if ":" in address else address
            result["health"][address] = healthy(f"http://{host}:{spec['internal']}/health")
            result["quic"][address] = _handshake(address, spec["quic"], spec["ca"], spec["host"])
        # The real client by name (it sends no IP literal as TLS server name): whichever address it picks.
        session = moq_client.announced(f"https://localhost:{spec['quic']}/anon", Path(spec["ca"]), wait=0.5)
        result["localhost session"] = session.has("connected") and session.returncode == 0
        return result
    finally:
        relay.terminate()
        relay.wait(10)


def _handshake(address: str, port: int, ca: str, host: str) -> bool:
    from tests.support.relay import handshake_serial

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(handshake_serial(address, port, Path(ca), host), 10))
        return True
    except (OSError, asyncio.TimeoutError, ConnectionError):
        return False
    finally:
        loop.close()


if __name__ == "__main__":
    print(json.dumps(_inside(json.loads(Path(sys.argv[1]).read_text()))), flush=True)
