"""The demo plays: ``tools.publish`` -> the real moq-relay -> the watch page in headless Chromium.

The page is served by nginx with the page's own server config and CSP; the relay is the real binary
(crates.io ``moq-relay`` 0.14.12); the publisher is ``python -m tools.publish`` (H.264 from moq-rs).
"Plays" means decoded frames advance: the player's render timestamp grows and the canvas pixels
change between two samples, and the picture is the test pattern (its first colour bar).

Chromium reaches the relay by name (``--host-resolver-rules``), trusts its certificate by SPKI pin
and speaks QUIC to it because of ``--origin-to-force-quic-on`` (shared/research/relay-tier.md,
section 5). The WebSocket case stands the ingress in: nginx terminates TLS on a TCP port where no UDP
listener exists (QUIC is blocked) and passes the WebSocket upgrade to the relay's web listener.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.browser import CHROMIUM, Browser
from tests.support.envoy import free_port
from tests.support.local_relay import HOST, LocalRelay, local_relay
from tests.support.plan import ROOT
from tests.support.watch_site import NGINX, serving, tls_proxy

BROADCAST = "bbb.hang"
PLAY_TIMEOUT = 45

pytestmark = pytest.mark.skipif(CHROMIUM is None or NGINX is None,
                                reason="Chromium and nginx are not installed (`make deps` installs Debian's packages)")

SAMPLE = """(() => {
  const watch = document.querySelector('moq-watch'), canvas = watch.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return null;
  const copy = document.createElement('canvas');
  copy.width = canvas.width; copy.height = canvas.height;
  const g = copy.getContext('2d');
  g.drawImage(canvas, 0, 0);
  const d = g.getImageData(0, 0, copy.width, copy.height).data;
  let hash = 0;
  for (let i = 0; i < d.length; i += 4) hash = (Math.imul(hash, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
  return {width: copy.width, height: copy.height, hash, corner: [d[0], d[1], d[2]],
          timestamp: watch.renderer.out.timestamp.peek() ?? null};
})()"""
STATE = "document.getElementById('status').dataset.state"


def spki_pin(cert_pem: bytes) -> str:
    """Chromium's ``--ignore-certificate-errors-spki-list`` value: base64 SHA-256 of the SubjectPublicKeyInfo."""
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def chromium_flags(relay: LocalRelay, quic_port: int | None) -> tuple[str, ...]:
    flags = (f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--ignore-certificate-errors-spki-list={spki_pin(relay.cert_pem)}")
    return flags + ((f"--origin-to-force-quic-on={HOST}:{quic_port}",) if quic_port else ())


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
        while not log.read_bytes().startswith(b"publishing "):
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


def watch(tmp_path: Path, url: str, flags: tuple[str, ...]) -> dict:
    """Open the page, wait until the broadcast is live, sample the picture twice a second apart."""
    started = time.monotonic()
    with Browser(tmp_path / "profile", flags) as browser:
        browser.open(url)
        browser.wait_for(f"{STATE} === 'live' && ({SAMPLE})?.timestamp != null", PLAY_TIMEOUT)
        live = time.monotonic() - started
        first = browser.evaluate(SAMPLE)
        time.sleep(1)
        second = browser.evaluate(SAMPLE)
        transport = browser.evaluate("document.getElementById('transport').textContent")
        browser.screenshot(tmp_path / "playing.png")
        console = browser.console()
    return {"first": first, "second": second, "transport": transport, "console": console, "live_after": live}


def assert_plays(result: dict) -> None:
    first, second = result["first"], result["second"]
    assert (first["width"], first["height"]) == (640, 360), result
    assert second["timestamp"] > first["timestamp"], f"frames do not advance: {result}"
    assert second["hash"] != first["hash"], f"the picture does not change: {result}"
    # The pattern's first bar is 75 % white: decoded colours, not a black or garbage canvas.
    assert all(abs(c - 191) <= 16 for c in second["corner"]), result
    assert "Content Security Policy" not in result["console"], result["console"]


@pytest.fixture(scope="module")
def relay(tmp_path_factory) -> Iterator[LocalRelay]:
    with local_relay(tmp_path_factory.mktemp("relay")) as running:
        yield running


def test_plays_over_webtransport(tmp_path, relay):
    with publishing(relay, tmp_path), serving(tmp_path, f"https://{HOST}:{relay.quic_port}/anon", BROADCAST) as url:
        result = watch(tmp_path, url, chromium_flags(relay, relay.quic_port))
    assert result["transport"] == "WebTransport (connected)", result
    assert_plays(result)


def test_plays_over_websocket_when_quic_is_blocked(tmp_path, relay):
    port = free_port()  # TCP: nginx standing in for the ingress; UDP: nothing listens, so QUIC cannot connect
    proxy = tls_proxy(port, relay.cert_file, relay.key_file, f"127.0.0.1:{relay.web_port}")
    with publishing(relay, tmp_path), serving(tmp_path, f"https://{HOST}:{port}/anon", BROADCAST, extra=proxy) as url:
        result = watch(tmp_path, url, chromium_flags(relay, port))
    assert result["transport"] == "WebSocket (connected)", result
    assert_plays(result)


def test_page_says_when_nothing_is_live(tmp_path, relay):
    with serving(tmp_path, f"https://{HOST}:{relay.quic_port}/anon", BROADCAST) as url:
        with Browser(tmp_path / "profile", chromium_flags(relay, relay.quic_port)) as browser:
            browser.open(url)
            browser.wait_for(f"{STATE} === 'offline'", PLAY_TIMEOUT)
            text = browser.evaluate("document.getElementById('status').textContent")
    assert text.startswith("No broadcast is live under this name yet.")
