"""The watch page in a real browser: headless Chromium loads it from nginx running the page's own server config.

nginx is Debian's (``nginx-light``). Chromium decides whether the page is cross-origin isolated (the
page reports ``self.crossOriginIsolated``, true only when the browser accepted COOP and COEP) and
whether the Content-Security-Policy lets the player run: the player's custom element is defined only
if the bundle loaded, passed its integrity check and executed. No relay here (see
``test_watch_play.py``): every host but loopback resolves to nothing.
"""

from __future__ import annotations

import gzip
import urllib.request

import pytest

from components.workloads.watch import bundle
from tests.support.browser import CHROMIUM, Browser
from tests.support.watch_site import NGINX, serving

RELAY_URL = "https://relay.example.com/anon"
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

pytestmark = pytest.mark.skipif(CHROMIUM is None or NGINX is None,
                                reason="Chromium and nginx are not installed (`make deps` installs Debian's packages)")


def loaded(tmp_path, url: str) -> dict:
    with Browser(tmp_path / "profile", (NO_NETWORK,)) as browser:
        browser.open(url)
        browser.wait_for("document.readyState === 'complete' && "
                         "document.getElementById('isolated').textContent !== 'unknown'", 30)
        state = browser.evaluate("""({
            isolated: document.getElementById('isolated').textContent,
            player: customElements.get('moq-watch') !== undefined,
            url: document.querySelector('moq-watch').getAttribute('url'),
            status: document.getElementById('status').dataset.state})""")
        state["console"] = browser.console()
    return state


def test_page_loads_isolated_and_runs_the_player_under_its_policy(tmp_path):
    with serving(tmp_path, RELAY_URL, "bbb.hang") as url:
        with urllib.request.urlopen(url) as response:
            assert response.status == 200
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert "script-src 'self' blob:;" in response.headers["Content-Security-Policy"]
        state = loaded(tmp_path, url)
    assert state["isolated"] == "yes" and state["url"] == RELAY_URL
    # The bundle passed SRI and the policy: the element is defined, and the page script ran.
    assert state["player"], state["console"]
    assert state["status"] in ("connecting", "unreachable"), state
    assert "Content Security Policy" not in state["console"], state["console"]


def test_bundle_is_served_gzipped_and_unpacked_for_clients_without_gzip(tmp_path):
    built = bundle.load().content
    with serving(tmp_path, RELAY_URL, "bbb.hang") as url:
        gz = urllib.request.Request(url + "moq-watch.js", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(gz) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Content-Type"].startswith(("application/javascript", "text/javascript"))
            assert gzip.decompress(response.read()) == built
        identity = urllib.request.Request(url + "moq-watch.js", headers={"Accept-Encoding": "identity"})
        with urllib.request.urlopen(identity) as plain:
            assert plain.headers.get("Content-Encoding") is None and plain.read() == built


def test_a_tampered_bundle_is_refused(tmp_path):
    """Control for SRI: the same page with other bytes behind /moq-watch.js never defines the player."""
    with serving(tmp_path, RELAY_URL, "bbb.hang") as url:
        served = tmp_path / "html" / "moq-watch.js.gz"
        served.write_bytes(gzip.compress(bundle.load().content + b"\n;"))
        assert gzip.decompress(served.read_bytes()) != bundle.load().content
        state = loaded(tmp_path, url)
    assert not state["player"]
    assert "integrity" in state["console"], state["console"]


def test_without_the_headers_the_browser_does_not_isolate(tmp_path):
    """Control: the same page without COOP/COEP is not isolated, so the check above can fail."""
    with serving(tmp_path, RELAY_URL, "bbb.hang", isolation=False) as url:
        state = loaded(tmp_path, url)
    assert state["isolated"].startswith("no")
