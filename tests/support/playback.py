"""Watching the watch page play in headless Chromium: flags to reach a loopback relay by name, and samples.

Chromium reaches the relay by name (``--host-resolver-rules``), trusts its certificate by SPKI pin and
speaks QUIC to it because of ``--origin-to-force-quic-on`` (shared/research/relay-tier.md, section 5).
"Plays" means decoded frames advance: the player's render timestamp grows and the canvas pixels change
between two samples a second apart.
"""

from __future__ import annotations

import base64
import hashlib
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import yaml

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.browser import Browser
from tests.support.plan import Plan, run_plan
from tests.support.relay import LocalRelay, materialize, running

DEMO_STACK = {"quicstack:domain": "quicstack.test", "quicstack:acme": {"environment": "selfsigned"},
              "quicstack:publisher": {"enabled": True}}
"""A selfsigned stack (anonymous publishing under ``anon``) with the in-cluster publisher on."""

PLAY_TIMEOUT = 45
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


@contextmanager
def demo_relay(work: Path) -> Iterator[tuple[Plan, LocalRelay]]:
    """The real relay of :data:`DEMO_STACK`'s plan (the shared harness), running until the block ends."""
    stack = work / "Pulumi.demo.yaml"
    stack.write_text(yaml.safe_dump({"config": DEMO_STACK}))
    run = run_plan(stack, work / "plan")
    assert run.returncode == 0, run.stderr
    plan = Plan(work / "plan" / "demo")
    relay = materialize(plan, work / "relay")
    with running(relay):
        yield plan, relay


def certificate(relay: LocalRelay) -> bytes:
    return (relay.tls_volume / "tls.crt").read_bytes()


def spki_pin(cert_pem: bytes) -> str:
    """Chromium's ``--ignore-certificate-errors-spki-list`` value: base64 SHA-256 of the SubjectPublicKeyInfo."""
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def chromium_flags(host: str, cert_pem: bytes, quic_port: Optional[int]) -> tuple[str, ...]:
    """``host`` resolves to 127.0.0.1 (nothing else resolves); its certificate is trusted; QUIC forced to it."""
    flags = (f"--host-resolver-rules=MAP {host} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--ignore-certificate-errors-spki-list={spki_pin(cert_pem)}")
    return flags + ((f"--origin-to-force-quic-on={host}:{quic_port}",) if quic_port else ())


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


def assert_plays(result: dict, size: tuple[int, int] = (640, 360)) -> None:
    first, second = result["first"], result["second"]
    assert (first["width"], first["height"]) == size, result
    assert second["timestamp"] > first["timestamp"], f"frames do not advance: {result}"
    assert second["hash"] != first["hash"], f"the picture does not change: {result}"
    assert "Content Security Policy" not in result["console"], result["console"]
