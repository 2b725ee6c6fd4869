"""The edge in front of the watch page, as the checks find it: HTTP/3 where the edge advertises it (Envoy Gateway
with `ingress.http3`), and plain HTTP redirected to HTTPS (both edges). The relay's WebSocket fallback through the
edge is the relay's `websocket` check. Each check takes the endpoint's ``checks.EndpointRun`` (not imported: that
module imports this one)."""

from __future__ import annotations

import asyncio
import re
import time
from . import net
from .outcome import Failed, Skipped, Verdict

REDIRECTS = (301, 302, 307, 308)


def h3_ports(alt_svc: str) -> list[int]:
    """Ports an alt-svc header advertises for h3 (``h3=":443"; ma=86400``)."""
    return [int(port) for port in re.findall(r'(?:^|[\s,])h3="[^":]*:(\d+)"', alt_svc)]


async def check_edge_http3(run) -> Verdict:
    """The page over HTTP/2 with an h3 alt-svc, then over HTTP/3 on the URL's port; skipped where no h3 is offered."""
    ep = run.ep
    response = await run.get(ep.path)
    alt_svc = response.headers.get("alt-svc", "")
    figures: dict = {"protocol": response.protocol, "altSvc": alt_svc}
    ports = h3_ports(alt_svc)
    if not ports:
        raise Skipped(f"not run: the edge answers over {response.protocol} without an h3 alt-svc (ingress-nginx, or "
                      "ingress.http3 off): browsers stay on HTTP/2")
    if response.protocol != "h2":
        raise Failed(f"the edge advertises h3 but speaks {response.protocol} over TCP, not HTTP/2", figures)
    async with run.quic() as client:
        h3 = await client.get(ep.authority, ep.path)
    figures.update(status=h3.status, handshakeMs=round(client.handshake_ms, 1))
    if h3.status != 200:
        raise Failed(f"HTTP/3 answered {h3.status}, expected 200 (HTTP/2 answered {response.status})", figures)
    summary = f"h2 alt-svc {alt_svc}; HTTP/3 200, handshake {client.handshake_ms:.0f} ms"
    if ep.port not in ports:
        return "warn", (f"{summary}; but alt-svc names port {', '.join(map(str, ports))} and this URL uses {ep.port}: "
                        "browsers will try QUIC on the wrong port"), figures
    return "pass", summary, figures


async def http_get(address: str, port: int, authority: str, path: str) -> net.Response:
    """GET over plain HTTP/1.1 (the edge's port 80)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(address, port)
    try:
        status, headers, body = await net._http1_get(reader, writer, authority, path)
    finally:
        writer.close()
    return net.Response(status, headers, body, "http/1.1", (time.perf_counter() - started) * 1000)


async def check_redirect(run) -> Verdict:
    """``http://<host>/...`` answers with a redirect to the same URL over HTTPS."""
    ep, port = run.ep, run.opts.http_port
    path = ep.path if ep.path.startswith("/") else f"/{ep.path}"
    try:
        response = await http_get(run.address, port, ep.host, path)
    except ConnectionRefusedError:
        raise Failed(f"nothing listens on TCP/{port} at {run.address}: HTTP is not redirected (and HTTP-01 "
                     "challenges cannot be answered)") from None
    location = response.headers.get("location", "")
    figures = {"status": response.status, "location": location, "port": port}
    if response.status not in REDIRECTS:
        raise Failed(f"http://{ep.host}{path} answered {response.status}, expected a redirect to https", figures)
    if not location.startswith(f"https://{ep.host}"):
        raise Failed(f"http://{ep.host}{path} redirects to {location or 'nowhere'}, not to https://{ep.host}",
                     figures)
    return "pass", f"TCP/{port} answers {response.status} -> {location}", figures
