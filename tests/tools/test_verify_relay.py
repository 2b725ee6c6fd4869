"""The relay and watch-page checks against a local aioquic server that accepts WebTransport.

The stand-in behaves like moq-relay 0.14 where it matters: extended CONNECT with :protocol webtransport
on UDP, ``/certificate.sha256`` and the WebSocket fallback on TCP of the same host and port, and 401
for a session path that needs a token.
"""

from __future__ import annotations

import json

import pytest

from tests.support.envoy import free_port
from tests.support.verify_servers import Servers, Site, make_pki, run_verify

ISOLATED = {"content-type": "text/html", "cross-origin-opener-policy": "same-origin",
            "cross-origin-embedder-policy": "require-corp"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), ("verify.localhost", "*.verify.localhost"))


def relay_site(pki, sessions=("/anon",), routes=None) -> Site:
    return Site(routes={"/certificate.sha256": (200, {}, pki.fingerprint.encode())} if routes is None else routes,
                websocket_paths=set(sessions), webtransport_paths=set(sessions))


def verify(pki, *args: str, **urls: str):
    flags = [f"--{role}={url}" for role, url in urls.items()]
    # The stand-in speaks WebTransport but not MoQ: the moq check runs against the real relay (test_verify_moq.py).
    return run_verify(*flags, "--ca", str(pki.ca), "--json", "--timeout", "3", "--skip", "moq", "--skip", "redirect", *args)


def test_relay_and_watch_page_pass(pki):
    port = free_port()
    relay, web = f"https://relay.verify.localhost:{port}", f"https://verify.localhost:{port}"
    page = (200, ISOLATED, f'<moq-watch url="{relay}/anon"></moq-watch>'.encode())
    site = relay_site(pki)
    site.routes["/"] = page
    with Servers() as servers:
        servers.https(port, pki, site)
        servers.quic(port, pki, site)
        run = verify(pki, relay=relay, web=web)
    assert run.returncode == 0, run.stdout
    assert {(c["endpoint"], c["check"]): c["status"] for c in run.report["checks"]} == {
        ("relay", "dns"): "pass", ("relay", "tls"): "pass", ("relay", "webtransport"): "pass",
        ("relay", "relay-http"): "pass", ("relay", "websocket"): "pass", ("relay", "moq"): "skip",
        ("web", "dns"): "pass", ("web", "tls"): "pass", ("web", "page"): "pass", ("web", "edge-http3"): "skip",
        ("web", "redirect"): "skip",
    }
    webtransport = run.check("relay", "webtransport")["figures"]
    assert webtransport["status"] == 200 and webtransport["path"] == "/anon"
    assert "ENABLE_WEBTRANSPORT" in webtransport["webtransportSettings"]
    assert run.check("relay", "relay-http")["figures"] == {"path": "/certificate.sha256", "body": pki.fingerprint}
    assert run.check("relay", "websocket")["figures"]["status"] == 101
    assert run.check("web", "page")["figures"] == {"status": 200, "protocol": "h2", "bytes": len(page[2]),
                                                   "coop": "same-origin", "coep": "require-corp"}


def test_session_path_that_needs_a_token(pki):
    port = free_port()
    site = relay_site(pki, sessions=("/demo",))
    with Servers() as servers:
        servers.https(port, pki, site)
        servers.quic(port, pki, site)
        refused = verify(pki, relay=f"https://relay.verify.localhost:{port}")
        public = verify(pki, "--relay-path", "demo", relay=f"https://relay.verify.localhost:{port}")
    assert refused.returncode == 1
    assert refused.check("relay", "webtransport")["summary"] == (
        "the relay refused a session on /anon with 401: that path needs a token (--relay-path selects a public one)")
    assert refused.check("relay", "websocket")["summary"].startswith(
        f"the WebSocket fallback on TCP/{port} answered 404, expected 101")
    assert public.returncode == 0, public.stdout


def test_health_answers_where_the_fingerprint_does_not(pki):
    port = free_port()
    site = relay_site(pki, routes={"/health": (200, {}, b"ok")})
    with Servers() as servers:
        servers.https(port, pki, site)
        servers.quic(port, pki, site)
        run = verify(pki, relay=f"https://relay.verify.localhost:{port}")
    assert run.returncode == 0, run.stdout
    assert run.check("relay", "relay-http")["summary"] == '/health answered "ok" over h2'


def test_relay_without_quic_and_without_http_endpoints(pki):
    port = free_port()
    with Servers() as servers:
        servers.https(port, pki, Site())  # TCP answers 404 to everything; nothing on UDP
        run = verify(pki, relay=f"https://relay.verify.localhost:{port}")
    assert run.returncode == 1
    assert run.check("relay", "webtransport")["summary"] == (
        f"TLS over TCP works but QUIC timed out: UDP/{port} is blocked or nothing listens for QUIC")
    assert run.check("relay", "relay-http")["summary"] == (
        f"the relay's HTTP endpoints do not answer on TCP/{port} (/certificate.sha256 404, /health 404): "
        "nothing routes TCP to the relay's HTTP listener")


@pytest.mark.parametrize("headers, missing", [
    ({"content-type": "text/html"}, "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp"),
    ({"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "credentialless"},
     "Cross-Origin-Embedder-Policy: require-corp (got credentialless)"),
])
def test_page_without_cross_origin_isolation(pki, headers, missing):
    port = free_port()
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, headers, b"<html>")}))
        run = verify(pki, web=f"https://verify.localhost:{port}")
    assert run.returncode == 1
    assert run.check("web", "page")["summary"] == \
        f"the page loads but lacks {missing}: the player needs cross-origin isolation"


def test_page_that_points_at_another_relay_is_a_warning(pki):
    port = free_port()
    outputs = {"webUrl": f"https://verify.localhost:{port}", "relayUrl": "https://relay.elsewhere.example",
               "caCertificate": pki.ca.read_text()}
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, ISOLATED, b'<moq-watch url="https://relay.other.example">')}))
        run = run_verify("--json", "--timeout", "1", stdin=json.dumps(outputs))
    page = run.check("web", "page")
    assert page["status"] == "warn" and page["summary"].endswith("the page does not mention the relay https://relay.elsewhere.example")
