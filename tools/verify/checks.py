"""The checks, one coroutine per (endpoint, check), all running concurrently on one event loop.

Each check is bounded by the timeout and ends in one Result: a status and one line that either gives
the figures or says what is probably wrong. Nothing a check raises escapes as a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable

from aioquic.h3.connection import Setting
from aioquic.quic.logger import QuicLogger
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from service_identity.cryptography import verify_certificate_hostname, verify_certificate_ip_address
from service_identity.exceptions import CertificateError, VerificationError

from components.shared import grammar

from . import defaults, net, quic_lb
from .edge import check_edge_http3, check_redirect, h3_ports
from .net import QuicFailure, Trust
from .outcome import Failed, Skipped, Verdict

EXPIRY_WARNING_DAYS = 14
WEBTRANSPORT_SETTINGS = {0x2B603742: "ENABLE_WEBTRANSPORT", 0xC671706A: "WEBTRANSPORT_MAX_SESSIONS",
                         0x14E9CD29: "WT_MAX_SESSIONS"}
"""SETTINGS a WebTransport server sends, by draft (02, 07-12, 13+); reported, not required."""


@dataclass(frozen=True)
class Endpoint:
    role: str
    """envoy, relay, web, or url (plain HTTP checks)."""
    name: str
    url: str
    host: str
    port: int
    path: str
    authority: str
    expected_address: str | None = None
    """The load balancer address the stack reports; DNS must agree with it."""
    replicas: int | None = None
    """Envoy pods or relays the stack runs (QUIC-LB compares the server IDs it sees with this)."""
    quic_lb: bool = False
    """A relay that writes QUIC-LB connection IDs (a tier behind an NLB): its quic-lb check counts the relays that
    answer."""
    relay_url: str | None = None
    """For the watch page: the relay URL it should point at."""
    tcp: bool = True
    """TCP on the port carries the relay's HTTP listener (False: the stack serves no WebSocket fallback, so the
    relay's TCP rows are skipped; the QUIC rows verify the certificate)."""


@dataclass(frozen=True)
class Options:
    trust: Trust
    timeout: float = 5.0
    probes: int = 20
    server_id_length: int = defaults.SERVER_ID_LENGTH
    relay_path: str = defaults.RELAY_PATH
    h2_body: str = defaults.H2_BODY
    h3_body: str = defaults.H3_BODY
    token: str | None = None
    """A relay token (JWT): the moq check then publishes a probe broadcast instead of reading one."""
    probe: bool = False
    """Publish the moq check's probe broadcast without a token (a public prefix lets anyone publish)."""
    skip: frozenset[str] = frozenset()
    """Checks not to run (reported as skipped)."""
    http_port: int = 80
    """Where the redirect check sends plain HTTP (the edge's port 80)."""


@dataclass
class Result:
    endpoint: str
    check: str
    status: str
    """pass, warn (works, but look at this), fail, or skip (not run: an earlier check failed)."""
    summary: str
    figures: dict = field(default_factory=dict)
    ms: float = 0.0


CHECKS: dict[str, tuple[str, ...]] = {
    "envoy": ("dns", "tls", "http2", "http3", "quic-lb"),
    "relay": ("dns", "tls", "webtransport", "relay-http", "websocket", "moq"),
    "web": ("dns", "tls", "page", "edge-http3", "redirect"),
    "url": ("dns", "tls", "http2", "http3"),
}
QUIC_LB_RELAY_CHECKS = ("quic-lb", "fan-out")
"""Added for a relay that writes QUIC-LB connection IDs (a tier behind a load balancer that routes by them)."""
QUIC_CHECKS = ("http3", "quic-lb", "webtransport", "moq", "fan-out", "edge-http3")
RELAY_TCP_CHECKS = ("tls", "relay-http", "websocket")
"""A relay's rows over TCP 443, which carries nothing for a relay without the WebSocket fallback."""
AFTER = {"fan-out": "quic-lb"}
"""Checks that start once another has finished (outside their own time bound), to use its figures."""


def checks_of(endpoint: Endpoint) -> tuple[str, ...]:
    names = CHECKS[endpoint.role]
    if endpoint.quic_lb:
        names += tuple(name for name in QUIC_LB_RELAY_CHECKS if name not in names)
    return names


def short(body: bytes | str, limit: int = 40) -> str:
    text = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).strip()
    return '"' + (text if len(text) <= limit else text[:limit - 1] + "…").replace("\n", " ") + '"'


class EndpointRun:
    """The checks of one endpoint; later checks wait for the DNS answer and may read other results."""

    def __init__(self, endpoint: Endpoint, options: Options, on_result: Callable[[Result], None]):
        self.ep, self.opts, self.on_result = endpoint, options, on_result
        self.address: str | None = None
        self.tasks = {name: asyncio.ensure_future(self._run(name)) for name in checks_of(endpoint)}

    async def results(self) -> list[Result]:
        return list(await asyncio.gather(*self.tasks.values()))

    async def connect_address(self) -> str:
        if (await asyncio.shield(self.tasks["dns"])).status == "fail":
            raise Skipped("not run: the host does not resolve")
        return self.address

    async def _run(self, name: str) -> Result:
        started = time.perf_counter()
        try:
            if name in self.opts.skip:
                raise Skipped(f"not run: --skip {name}")
            if not self.ep.tcp and name in RELAY_TCP_CHECKS:
                raise Skipped("not run: the stack serves the relay on QUIC only (no WebSocket fallback on TCP)")
            if name != "dns":
                await self.connect_address()
            if name in AFTER:
                await asyncio.shield(self.tasks[AFTER[name]])
            # QUIC-LB and MoQ bound their steps themselves; the margin only catches a step that ignores that.
            limit = self.opts.timeout + (1 if name in ("quic-lb", "moq", "fan-out") else 0)
            status, summary, figures = await asyncio.wait_for(CHECK_FUNCTIONS[name](self), limit)
        except Skipped as skip:
            status, summary, figures = "skip", str(skip), {}
        except Failed as failure:
            status, summary, figures = "fail", failure.summary, failure.figures
        except asyncio.TimeoutError:
            status, summary, figures = "fail", await self.timed_out(name), {}
        except Exception as exc:  # noqa: BLE001 - every failure is reported as one line, never a traceback
            status, summary, figures = "fail", await self.explain(exc), {}
        result = Result(self.ep.name, name, status, summary, figures, (time.perf_counter() - started) * 1000)
        self.on_result(result)
        return result

    async def timed_out(self, name: str) -> str:
        port, timeout = self.ep.port, f"{self.opts.timeout:g} s"
        if name == "dns":
            return f"{self.ep.host}: the DNS lookup timed out after {timeout}"
        if name not in QUIC_CHECKS:
            return (f"TCP/{port} at {self.address} did not answer within {timeout}: "
                    "a firewall drops it or the load balancer is not ready")
        return await self.quic_timed_out()

    async def quic_timed_out(self) -> str:
        """QUIC got no answer: say whether TCP to the same host and port works, which points at UDP."""
        port = self.ep.port
        tcp_check = "http2" if "http2" in self.tasks else "tls"
        tcp = await asyncio.shield(self.tasks[tcp_check])
        if tcp.status == "skip":
            return f"QUIC timed out: UDP/{port} is blocked or nothing listens for QUIC (TCP was not tried)"
        if tcp.status in ("pass", "warn"):
            works = "HTTP/2" if tcp_check == "http2" else "TLS over TCP"
            return f"{works} works but QUIC timed out: UDP/{port} is blocked or nothing listens for QUIC"
        return f"QUIC timed out and TCP/{port} failed too: nothing usable answers at {self.address}"

    async def explain(self, exc: Exception) -> str:
        """What an exception from a check most likely means, in one line."""
        port, address = self.ep.port, self.address
        if isinstance(exc, ConnectionRefusedError):
            return f"nothing listens on TCP/{port} at {address} (connection refused)"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return f"certificate not accepted ({exc.verify_message}): see the tls check"
        if isinstance(exc, ssl.SSLError):
            return f"TLS handshake failed: {exc.reason or exc}"
        if isinstance(exc, QuicFailure):
            tls = await asyncio.shield(self.tasks["tls"])
            if exc.tls_alert and tls.status == "fail":
                return "QUIC handshake failed: the certificate is rejected over QUIC too (see the tls check)"
            return f"QUIC {'handshake' if exc.tls_alert else 'connection'} failed: {exc}"
        if isinstance(exc, asyncio.IncompleteReadError):
            return "the server closed the connection in the middle of its answer"
        if isinstance(exc, OSError) and exc.strerror:
            return f"cannot reach {address} port {port}: {exc.strerror}"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]

    # Shared request helpers: every check connects to the address DNS gave, with the URL's host name.

    async def get(self, path: str) -> net.Response:
        ep = self.ep
        return await net.https_get(self.address, ep.port, ep.host, ep.authority, path, self.opts.trust)

    def quic(self, logger: QuicLogger | None = None, webtransport: bool = False):
        options = {"quic_logger": logger} if logger else {}
        if webtransport:
            options["max_datagram_frame_size"] = 65536  # HTTP/3 datagrams, which WebTransport sessions require
        config = self.opts.trust.quic_configuration(self.ep.host, **options)
        return net.quic_connect(self.address, self.ep.port, config, webtransport=webtransport)

    @property
    def session_path(self) -> str:
        """Where the relay's WebTransport and WebSocket sessions go: the URL's path, else the public prefix."""
        return self.ep.path if self.ep.path not in ("", "/") else self.opts.relay_path


async def check_dns(run: EndpointRun) -> Verdict:
    ep = run.ep
    try:
        addresses, source = await net.resolve(ep.host)
    except socket.gaierror as exc:
        raise Failed(f"{ep.host} does not resolve ({exc.strerror})")
    if not addresses:
        raise Failed(f"{ep.host} does not resolve (no addresses)")
    run.address = addresses[0]
    figures = {"addresses": addresses, "source": source}
    shown = ", ".join(addresses[:3]) + (", …" if len(addresses) > 3 else "")
    summary = {"IP address": f"{ep.host} is an IP address, no lookup",
               "loopback name": f"{ep.host} -> {shown} (loopback name)"}.get(source, f"{ep.host} -> {shown}")
    expected = ep.expected_address
    if not expected:
        return "pass", summary, figures
    figures["expected"] = expected
    try:
        expected_addresses = (await net.resolve(expected))[0]
    except socket.gaierror:
        expected_addresses = []
    if set(addresses) & set(expected_addresses):
        return "pass", f"{summary}, the load balancer's address", figures
    if source == "loopback name":
        return "warn", (f"{summary}; the load balancer reports {expected}: "
                        f"its ports must be forwarded to this machine"), figures
    raise Failed(f"{ep.host} resolves to {shown}, not to the load balancer's {expected}: "
                 f"point the DNS record at it", figures)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return san.get_values_for_type(x509.DNSName) + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def _names_host(cert: x509.Certificate, host: str) -> bool:
    """Whether ``cert`` is valid for ``host`` by RFC 6125 (service_identity: subjectAltName only, as browsers and
    the MoQ client's rustls match; a subject CN alone names nothing)."""
    try:
        if grammar.is_ip_literal(host):
            verify_certificate_ip_address(cert, host)
        else:
            verify_certificate_hostname(cert, host.rstrip("."))
    except (VerificationError, CertificateError):
        return False
    return True


def _issuer(cert: x509.Certificate) -> str:
    parts = [a.value for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
             for a in cert.issuer.get_attributes_for_oid(oid)]
    return " / ".join(dict.fromkeys(parts)) or cert.issuer.rfc4514_string() or "an unnamed issuer"


def _certificate_figures(cert: x509.Certificate) -> dict:
    days = (cert.not_valid_after_utc - datetime.now(timezone.utc)).days
    return {"names": _names(cert), "issuer": _issuer(cert), "notAfter": cert.not_valid_after_utc.isoformat(),
            "daysLeft": days, "selfSigned": cert.issuer == cert.subject}


def explain_certificate(cert: x509.Certificate, host: str, error: ssl.SSLCertVerificationError, trust: Trust) -> str:
    """Why the client rejected ``cert``, in the words a user can act on."""
    names, now = _names(cert), datetime.now(timezone.utc)
    if not _names_host(cert, host):
        shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "") or "no host name"
        return f"certificate is for {shown}, not {host}"
    if now > cert.not_valid_after_utc:
        expired = cert.not_valid_after_utc
        return f"certificate expired on {expired:%Y-%m-%d} ({(now - expired).days} days ago)"
    if now < cert.not_valid_before_utc:
        return f"certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    issuer = _issuer(cert)
    if "STAGING" in issuer.upper():
        return (
            f"certificate comes from Let's Encrypt staging ({issuer}), which nobody trusts: switch acme to production"
        )
    hint = "; pass --ca with the CA that issued it" if trust.cafile is None and trust.cadata is None else ""
    return f"certificate issued by {issuer} is not trusted by the {trust.label}{hint} ({error.verify_message})"


async def check_tls(run: EndpointRun) -> Verdict:
    ep, trust = run.ep, run.opts.trust
    try:
        async with net.tls_stream(run.address, ep.port, ep.host, trust, ("h2", "http/1.1")) as (_, writer):
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            version = writer.get_extra_info("ssl_object").version()
    except ssl.SSLCertVerificationError as error:
        cert = x509.load_der_x509_certificate(await net.peer_certificate(run.address, ep.port, ep.host))
        raise Failed(explain_certificate(cert, ep.host, error, trust), _certificate_figures(cert))
    cert = x509.load_der_x509_certificate(der)
    figures = {**_certificate_figures(cert), "version": version}
    days = figures["daysLeft"]
    if trust.insecure:
        valid = _names_host(cert, ep.host)
        return "warn", (f"not verified (--insecure): {'names' if valid else 'does NOT name'} {ep.host}, "
                        f"issued by {figures['issuer']}, {days} days left"), figures
    summary = f"{version}, valid for {ep.host}, issued by {figures['issuer']}, {days} days left"
    if days < EXPIRY_WARNING_DAYS:
        return "warn", f"{summary}: under {EXPIRY_WARNING_DAYS}, check that cert-manager renews it", figures
    return "pass", summary, figures


def _expect(response: net.Response, expected_body: str | None, protocol: str) -> dict:
    figures = {"status": response.status, "body": response.body[:200].decode("utf-8", "replace"),
               "ms": round(response.ms, 1)}
    if response.status != 200:
        hint = " (the proxy has no ready backend)" if response.status in (502, 503, 504) else ""
        raise Failed(f"{protocol} answered {response.status} {short(response.body)}{hint}, expected 200", figures)
    if expected_body is not None and response.body.decode("utf-8", "replace").strip() != expected_body.strip():
        raise Failed(f"{protocol} answered {short(response.body)}, expected {short(expected_body)}", figures)
    return figures


async def check_http2(run: EndpointRun) -> Verdict:
    ep = run.ep
    response = await run.get(ep.path)
    if response.protocol != "h2":
        raise Failed(f"the server does not offer HTTP/2 over TCP (ALPN chose {response.protocol})")
    figures = _expect(response, run.opts.h2_body if ep.role == "envoy" else None, "HTTP/2")
    alt_svc = response.headers.get("alt-svc", "")
    figures["altSvc"] = alt_svc
    summary = f"{response.status} {short(response.body)} in {response.ms:.0f} ms"
    ports = h3_ports(alt_svc)
    if not ports:
        return "warn", f"{summary}; no alt-svc for h3: browsers will stay on HTTP/2", figures
    if ep.port not in ports:
        return "warn", (f"{summary}; alt-svc advertises h3 on port {', '.join(map(str, ports))}, "
                        f"but this URL uses {ep.port}: browsers will try QUIC on the wrong port"), figures
    return "pass", f"{summary}, alt-svc {alt_svc}", figures


async def check_http3(run: EndpointRun) -> Verdict:
    ep = run.ep
    async with run.quic() as client:
        response = await client.get(ep.authority, ep.path)
    figures = _expect(response, run.opts.h3_body if ep.role == "envoy" else None, "HTTP/3")
    figures["handshakeMs"] = round(client.handshake_ms, 1)
    return "pass", f"{response.status} {short(response.body)}, handshake {client.handshake_ms:.0f} ms", figures


async def _probe(run: EndpointRun) -> list[bytes]:
    """One QUIC-LB probe: a full request (a relay: a WebTransport session), so the server's
    NEW_CONNECTION_ID frames have arrived too."""
    logger = QuicLogger()
    relay = run.ep.role == "relay"
    async with run.quic(logger, webtransport=relay) as client:
        if relay:
            status, _ = await client.webtransport(run.ep.authority, run.session_path)
        else:
            status = (await client.get(run.ep.authority, run.ep.path)).status
    if status != 200:
        raise Failed(f"answered {status}")
    return net.server_connection_ids(logger)


async def check_quic_lb(run: EndpointRun) -> Verdict:
    ep, opts = run.ep, run.opts
    outcomes = await asyncio.gather(*(asyncio.wait_for(_probe(run), opts.timeout) for _ in range(opts.probes)),
                                    return_exceptions=True)
    connections = [o for o in outcomes if isinstance(o, list)]
    errors = [o for o in outcomes if not isinstance(o, list)]
    figures: dict = {"probes": opts.probes, "connected": len(connections), "replicas": ep.replicas}
    if errors and all(isinstance(e, asyncio.TimeoutError) for e in errors) and not connections:
        raise Failed(await run.quic_timed_out(), figures)
    if errors:
        first = errors[0]
        why = "timed out" if isinstance(first, asyncio.TimeoutError) else (
            first.summary if isinstance(first, Failed) else await run.explain(first))
        raise Failed(f"{len(errors)} of {opts.probes} QUIC connections failed (first: {why})", figures)
    servers: Counter[bytes] = Counter()
    configs: set[int] = set()
    for cids in connections:
        if not cids:
            raise Failed("the server chose empty connection IDs: its QUIC-LB generator is not configured", figures)
        decoded = []
        for cid in cids:
            try:
                decoded.append(quic_lb.decode(cid, opts.server_id_length))
            except quic_lb.MalformedCid as exc:
                raise Failed(f"connection ID {cid.hex()} is not a routable QUIC-LB ID: {exc}", figures)
        ids = {d.server_id for d in decoded}
        if len(ids) > 1:
            raise Failed(f"one connection used server IDs {', '.join(sorted(i.hex() for i in ids))} across its "
                         f"connection IDs: the load balancer would send later packets to another pod", figures)
        servers[ids.pop()] += 1
        configs.update(d.config_id for d in decoded)
    per_connection = [len(c) for c in connections]
    figures.update({
        "serverIds": {sid.hex(): n for sid, n in servers.most_common()},
        "serverIdsBase64": [base64.b64encode(sid).decode() for sid, _ in servers.most_common()],
        "configIds": sorted(configs),
        "cidsPerConnection": [min(per_connection), max(per_connection)],
    })
    shown = ", ".join(f"{sid.hex()}×{n}" for sid, n in servers.most_common(3)) + (", …" if len(servers) > 3 else "")
    of = f" for {ep.replicas} replica{'s' if ep.replicas != 1 else ''}" if ep.replicas else ""
    summary = (
        f"{len(connections)}/{opts.probes} connections, {len(servers)} server ID{'s' if len(servers) != 1 else ''}"
        f"{of} ({shown}), config {','.join(map(str, sorted(configs)))}, one ID per connection across "
        f"{min(per_connection)}-{max(per_connection)} CIDs"
    )
    if ep.replicas and len(servers) > ep.replicas:
        return "warn", f"{summary}: more IDs than replicas (pods replaced during the check?)", figures
    if ep.replicas and ep.replicas > 1 and len(servers) == 1:
        return "warn", f"{summary}: one pod took every connection, the load balancer may not spread QUIC", figures
    return "pass", summary, figures


async def check_webtransport(run: EndpointRun) -> Verdict:
    ep, path = run.ep, run.session_path
    async with run.quic(webtransport=True) as client:
        settings = await client.settings()
        offered = [name for code, name in WEBTRANSPORT_SETTINGS.items() if settings.get(code)]
        figures = {"path": path, "handshakeMs": round(client.handshake_ms, 1), "webtransportSettings": offered}
        if settings.get(Setting.ENABLE_CONNECT_PROTOCOL) != 1:
            raise Failed("the server does not accept extended CONNECT (no SETTINGS_ENABLE_CONNECT_PROTOCOL): "
                         "it is not a WebTransport server", figures)
        status, _ = await client.webtransport(ep.authority, path)
    figures["status"] = status
    if status in (401, 403):
        raise Failed(f"the relay refused a session on {path} with {status}: that path needs a token "
                     "(--relay-path selects a public one)", figures)
    if not 200 <= status < 300:
        raise Failed(f"the WebTransport CONNECT to {path} answered {status}, expected 200", figures)
    return "pass", (f"session on {path} accepted ({status}), handshake {client.handshake_ms:.0f} ms"
                    + (f", {', '.join(offered)}" if offered else "")), figures


async def check_relay_http(run: EndpointRun) -> Verdict:
    """The relay's HTTP listener on TCP: /certificate.sha256, or /health where that is routed instead."""
    answers = {}
    for path in ("/certificate.sha256", "/health"):
        response = await run.get(path)
        text = response.body.decode("utf-8", "replace").strip()
        answers[path] = response.status
        if response.status != 200:
            continue
        if path == "/certificate.sha256" and not re.fullmatch(r"[0-9a-fA-F]{64}", text.replace(":", "")):
            raise Failed(f"{path} answered {short(text)}, which is not a SHA-256 fingerprint", {"answers": answers})
        return "pass", f"{path} answered {short(text, 20)} over {response.protocol}", {"path": path, "body": text[:200]}
    shown = ", ".join(f"{path} {status}" for path, status in answers.items())
    raise Failed(f"the relay's HTTP endpoints do not answer on TCP/{run.ep.port} ({shown}): "
                 "nothing routes TCP to the relay's HTTP listener", {"answers": answers})


async def check_websocket(run: EndpointRun) -> Verdict:
    ep, path = run.ep, run.session_path
    key = base64.b64encode(os.urandom(16)).decode()
    response = await net.websocket_upgrade(run.address, ep.port, ep.host, ep.authority, path, run.opts.trust,
                                           key, ("webtransport",))
    figures = {"path": path, "status": response.status, "protocol": response.headers.get("sec-websocket-protocol")}
    if response.status == 101 and response.headers.get("sec-websocket-accept") == net.websocket_accept(key):
        return "pass", f"upgrade on {path} accepted (101) in {response.ms:.0f} ms over TCP/{ep.port}", figures
    if response.status == 101:
        raise Failed(
            "the upgrade answered 101 with a wrong Sec-WebSocket-Accept: something in between rewrites it", figures
        )
    if response.status in (401, 403):
        raise Failed(f"the WebSocket fallback refused {path} with {response.status}: that path needs a token", figures)
    raise Failed(f"the WebSocket fallback on TCP/{ep.port} answered {response.status}, expected 101: "
                 "TCP does not reach the relay's HTTP listener", figures)


def _policy(headers: dict[str, str], name: str) -> str:
    return headers.get(name, "").split(";")[0].strip().lower()


async def check_page(run: EndpointRun) -> Verdict:
    ep = run.ep
    response = await run.get(ep.path)
    coop, coep = _policy(response.headers, "cross-origin-opener-policy"), _policy(
        response.headers, "cross-origin-embedder-policy"
    )
    figures = {
        "status": response.status,
        "protocol": response.protocol,
        "bytes": len(response.body),
        "coop": coop,
        "coep": coep,
    }
    if response.status != 200:
        raise Failed(f"the page answered {response.status}, expected 200", figures)
    missing = [f"{name}: {want}" + (f" (got {got})" if got else "")
               for name, want, got in (("Cross-Origin-Opener-Policy", "same-origin", coop),
                                       ("Cross-Origin-Embedder-Policy", "require-corp", coep)) if got != want]
    if missing:
        raise Failed(
            f"the page loads but lacks {' and '.join(missing)}: the player needs cross-origin isolation", figures
        )
    summary = f"200 over {response.protocol}, {len(response.body)} bytes, COOP same-origin, COEP require-corp"
    if ep.relay_url and ep.relay_url.rstrip("/") not in response.body.decode("utf-8", "replace"):
        return "warn", f"{summary}; the page does not mention the relay {ep.relay_url}", figures
    return "pass", summary, figures


async def check_moq(run: EndpointRun) -> Verdict:
    # Imported on use: the MoQ client is a large native library that the other checks never need.
    from .moq_check import check_moq as moq_session

    return await moq_session(run)


async def check_fanout(run: EndpointRun) -> Verdict:
    from .fanout import check_fanout as fan_out

    return await fan_out(run, run.tasks["quic-lb"].result())


CHECK_FUNCTIONS: dict[str, Callable[[EndpointRun], Awaitable[Verdict]]] = {
    "dns": check_dns, "tls": check_tls, "http2": check_http2, "http3": check_http3, "quic-lb": check_quic_lb,
    "webtransport": check_webtransport, "relay-http": check_relay_http, "websocket": check_websocket,
    "moq": check_moq, "fan-out": check_fanout, "page": check_page, "edge-http3": check_edge_http3,
    "redirect": check_redirect,
}


async def run_all(endpoints: list[Endpoint], options: Options, on_result: Callable[[Result], None]) -> list[Result]:
    """Every check of every endpoint, concurrently; results in endpoint order, then check order."""
    runs = [EndpointRun(ep, options, on_result) for ep in endpoints]
    return [result for run in runs for result in await run.results()]
