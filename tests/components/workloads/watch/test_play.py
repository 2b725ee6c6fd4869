"""The demo plays: ``tools.publish`` -> the real moq-relay -> the watch page in headless Chromium.

The page is served by nginx with the page's own server config and CSP; the relay is the real binary
(crates.io ``moq-relay``, ``versions.toml``); the publisher is ``python -m tools.publish`` (H.264 from moq-rs).
"Plays" (``tests/support/playback.py``): decoded frames advance, and the picture is the test pattern
(its first colour bar). The WebSocket case stands the ingress in: nginx terminates TLS on a TCP port where no UDP
listener exists (QUIC is blocked) and passes the WebSocket upgrade to the relay's web listener.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from tests.support.browser import CHROMIUM, Browser
from tests.support.envoy import free_port
from tests.support.relay import LocalRelay
from tests.support.plan import ROOT
from tests.support.playback import PLAY_TIMEOUT, STATE, assert_plays, certificate, chromium_flags, demo_relay, watch
from tests.support.watch_site import NGINX, serving, tls_proxy

BROADCAST = "bbb.hang"

pytestmark = pytest.mark.skipif(CHROMIUM is None or NGINX is None,
                                reason="Chromium and nginx are not installed (`make deps` installs Debian's packages)")

@contextmanager
def publishing(relay: LocalRelay, work: Path, timeout: float = 30) -> Iterator[subprocess.Popen]:
    """``python -m tools.publish`` on the relay until the block ends; then SIGINT (Ctrl-C), which must end it cleanly."""
    log = work / "publish.log"
    with log.open("wb") as out:
        command = [sys.executable, "-m", "tools.publish", "--url", f"https://127.0.0.1:{relay.quic_port}/anon",
                   "--broadcast", BROADCAST, "--ca", str(relay.ca_file), "--duration", "300"]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + timeout
        while b"\npublishing " not in b"\n" + log.read_bytes():  # after its "connecting to ..." line
            assert proc.poll() is None and time.monotonic() < deadline, f"no publisher:\n{log.read_text()}"
            time.sleep(0.1)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    output = log.read_text()
    assert code == 0 and "Traceback" not in output and "stopped:" in output, output


def assert_plays_the_pattern(result: dict) -> None:
    assert_plays(result)
    # The pattern's first bar is 75 % white: decoded colours, not a black or garbage canvas.
    assert all(abs(c - 191) <= 16 for c in result["second"]["corner"]), result


def flags(relay: LocalRelay, quic_port: int) -> tuple[str, ...]:
    return chromium_flags(relay.host, certificate(relay), quic_port)


@pytest.fixture(scope="module")
def relay(tmp_path_factory) -> Iterator[LocalRelay]:
    with demo_relay(tmp_path_factory.mktemp("demo")) as (_, running):
        yield running


def test_plays_over_webtransport(tmp_path, relay):
    with publishing(relay, tmp_path), serving(tmp_path, f"https://{relay.host}:{relay.quic_port}/anon", BROADCAST) as url:
        result = watch(tmp_path, url, flags(relay, relay.quic_port))
    assert result["transport"] == "WebTransport (connected)", result
    assert_plays_the_pattern(result)


def test_plays_over_websocket_when_quic_is_blocked(tmp_path, relay):
    assert not relay.web_tls  # this stack's WebSocket goes through the ingress, which terminates TLS
    port = free_port()  # TCP: nginx standing in for the ingress; UDP: nothing listens, so QUIC cannot connect
    proxy = tls_proxy(port, relay.tls_volume / "tls.crt", relay.tls_volume / "tls.key", f"127.0.0.1:{relay.web_port}")
    with publishing(relay, tmp_path), serving(tmp_path, f"https://{relay.host}:{port}/anon", BROADCAST, extra=proxy) as url:
        result = watch(tmp_path, url, flags(relay, port))
    assert result["transport"] == "WebSocket (connected)", result
    assert_plays_the_pattern(result)


def test_page_says_when_nothing_is_live(tmp_path, relay):
    with serving(tmp_path, f"https://{relay.host}:{relay.quic_port}/anon", BROADCAST) as url:
        with Browser(tmp_path / "profile", flags(relay, relay.quic_port)) as browser:
            browser.open(url)
            browser.wait_for(f"{STATE} === 'offline'", PLAY_TIMEOUT)
            text = browser.evaluate("document.getElementById('status').textContent")
    assert text.startswith("No broadcast is live under this name yet.")
