"""tools.verify on the edge in front of the watch page (issue 23): HTTP/3 where the edge advertises it, and the
HTTP->HTTPS redirect on port 80. Stand-ins on loopback (tests/support/verify_servers.py); the real Envoy Gateway
data plane answers the same way in tests/components/platform/test_gateway_real.py."""

from __future__ import annotations

import pytest

from tests.support.envoy import free_port
from tests.support.verify_servers import Servers, Site, make_pki, run_verify

ISOLATED = {"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), ("verify.localhost",))


def web(pki, site: Site, redirect: Site, *flags: str):
    port, http = free_port(), free_port()
    with Servers() as servers:
        servers.https(port, pki, site)
        servers.http(http, redirect)
        run = run_verify("--web", f"https://verify.localhost:{port}/", "--ca", str(pki.ca), "--json",
                         "--http-port", str(http), *flags)
    return run


def test_an_edge_with_http3_and_a_redirect_passes(pki):
    port, http = free_port(), free_port()
    site = Site(routes={"/": (200, {**ISOLATED, "alt-svc": f'h3=":{port}"; ma=86400'}, b"<html>")})
    with Servers() as servers:
        servers.https(port, pki, site)
        servers.quic(port, pki, site)
        servers.http(http, Site(routes={"/": (301, {"location": f"https://verify.localhost:{port}/"}, b"")}))
        run = run_verify("--web", f"https://verify.localhost:{port}/", "--ca", str(pki.ca), "--json",
                         "--http-port", str(http))
    assert run.returncode == 0, run.stdout
    edge = run.check("web", "edge-http3")
    assert edge["status"] == "pass" and edge["figures"]["status"] == 200 and edge["figures"]["protocol"] == "h2"
    assert run.check("web", "redirect")["figures"] == {"status": 301, "location": f"https://verify.localhost:{port}/",
                                                       "port": http}


def test_an_edge_without_http3_is_skipped_not_failed(pki):
    run = web(pki, Site(routes={"/": (200, ISOLATED, b"<html>")}),
              Site(routes={"/": (308, {"location": "https://verify.localhost/"}, b"")}))
    assert run.returncode == 0, run.stdout
    edge = run.check("web", "edge-http3")
    assert edge["status"] == "skip" and "without an h3 alt-svc" in edge["summary"]


def test_advertised_http3_that_does_not_answer_fails(pki):
    port, http = free_port(), free_port()
    site = Site(routes={"/": (200, {**ISOLATED, "alt-svc": f'h3=":{port}"; ma=86400'}, b"<html>")})
    with Servers() as servers:
        servers.https(port, pki, site)
        run = run_verify("--web", f"https://verify.localhost:{port}/", "--ca", str(pki.ca), "--json",
                         "--skip", "redirect", "--timeout", "1.5")
    edge = run.check("web", "edge-http3")
    assert run.returncode == 1 and edge["status"] == "fail"
    assert edge["summary"] == \
        f"TLS over TCP works but QUIC timed out: UDP/{port} is blocked or nothing listens for QUIC"


@pytest.mark.parametrize("redirect,summary", [
    (None, "nothing listens on TCP/{http} at 127.0.0.1: HTTP is not redirected"),
    (Site(routes={"/": (200, {}, b"plain")}), "http://verify.localhost/ answered 200, expected a redirect to https"),
    (Site(routes={"/": (301, {"location": "http://elsewhere.example/"}, b"")}),
     "http://verify.localhost/ redirects to http://elsewhere.example/, not to https://verify.localhost"),
])
def test_a_missing_or_wrong_redirect_fails(pki, redirect, summary):
    port, http = free_port(), free_port()
    with Servers() as servers:
        servers.https(port, pki, Site(routes={"/": (200, ISOLATED, b"<html>")}))
        if redirect:
            servers.http(http, redirect)
        run = run_verify("--web", f"https://verify.localhost:{port}/", "--ca", str(pki.ca), "--json",
                         "--http-port", str(http))
    result = run.check("web", "redirect")
    assert run.returncode == 1 and result["status"] == "fail"
    assert result["summary"].startswith(summary.format(http=http)), result["summary"]
