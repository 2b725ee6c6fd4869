"""Loopback stand-ins for what ``python -m tools.verify`` checks, and a way to run the tool.

- ``make_pki``: a throw-away CA and a server certificate for chosen names (ECDSA P-256).
- ``Servers``: an event loop in a background thread (the test process's own loop stays untouched, as the
  Pulumi tests need) that runs an HTTPS server over TCP (ALPN h2 and http/1.1, fixed routes, WebSocket
  upgrades) and an aioquic HTTP/3 server that also accepts WebTransport sessions, on one port number.
- ``run_verify``: the CLI in a subprocess (never ``asyncio.run`` in the test process), timed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import json
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import h2.config
import h2.connection
import h2.events
from aioquic.asyncio import serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.plan import ROOT
from tools.verify.net import websocket_accept

Route = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    fingerprint: str
    """Hex SHA-256 of the server certificate (what the relay serves at /certificate.sha256)."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(directory: Path, names: tuple[str, ...], days: int = 30, ca_name: str = "verify test CA") -> Pki:
    """A CA (``ca.pem``) and a server certificate for ``names`` (DNS names or IP addresses) signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name)).issuer_name(_name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = Pki(directory / "ca.pem", directory / "cert.pem", directory / "key.pem",
                hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest())
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


@dataclass
class Site:
    """What the stand-in servers answer. Routes: path -> (status, headers, body), for HTTP/2, HTTP/1.1 and HTTP/3."""

    routes: dict[str, Route] = field(default_factory=dict)
    websocket_paths: set[str] = field(default_factory=set)
    """Paths that accept a WebSocket upgrade (101); others answer 404."""
    webtransport_paths: set[str] = field(default_factory=set)
    """Paths that accept a WebTransport session (200); others answer 401, as the relay does without a token."""

    def answer(self, path: str) -> Route:
        return self.routes.get(path, (404, {}, b"not found\n"))


class _TcpHandler:
    def __init__(self, site: Site):
        self.site = site

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            tls = writer.get_extra_info("ssl_object")
            if tls and tls.selected_alpn_protocol() == "h2":
                await self._h2(reader, writer)
            else:
                await self._http1(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _http1(self, reader, writer) -> None:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        if headers.get("upgrade", "").lower() == "websocket" and path in self.site.websocket_paths:
            writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {websocket_accept(headers['sec-websocket-key'])}\r\n\r\n").encode())
        else:
            status, extra, body = self.site.answer(path)
            head = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{head}\r\n".encode() + body)
        await writer.drain()

    async def _h2(self, reader, writer) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        while data := await reader.read(65536):
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    status, extra, body = self.site.answer(dict(event.headers)[":path"])
                    conn.send_headers(event.stream_id, [(":status", str(status)), ("content-length", str(len(body))),
                                                        *extra.items()])
                    conn.send_data(event.stream_id, body, end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()


class _H3Handler(QuicConnectionProtocol):
    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        self.h3 = H3Connection(self._quic, enable_webtransport=True)

    def quic_event_received(self, event) -> None:
        for ev in self.h3.handle_event(event):
            if not isinstance(ev, HeadersReceived):
                continue
            headers = dict(ev.headers)
            path = headers.get(b":path", b"/").decode()
            if headers.get(b":method") == b"CONNECT" and headers.get(b":protocol") == b"webtransport":
                accepted = path in self.site.webtransport_paths
                self.h3.send_headers(ev.stream_id, [(b":status", b"200" if accepted else b"401")], end_stream=not accepted)
            else:
                status, extra, body = self.site.answer(path)
                self.h3.send_headers(ev.stream_id, [(b":status", str(status).encode()),
                                                    (b"content-length", str(len(body)).encode()),
                                                    *((k.encode(), v.encode()) for k, v in extra.items())])
                self.h3.send_data(ev.stream_id, body, end_stream=True)


class Servers:
    """Stand-in servers on an event loop in a background thread; everything stops on exit."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._closers: list = []

    def __enter__(self) -> "Servers":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for close in reversed(self._closers):
            self.loop.call_soon_threadsafe(close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def https(self, port: int, pki: Pki, site: Site) -> None:
        """HTTPS over TCP on 127.0.0.1:port (ALPN h2, http/1.1)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pki.cert, pki.key)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        server = self._run(asyncio.start_server(_TcpHandler(site), "127.0.0.1", port, ssl=ctx))
        self._closers.append(server.close)

    def http(self, port: int, site: Site) -> None:
        """Plain HTTP/1.1 on 127.0.0.1:port (an edge's port 80)."""
        server = self._run(asyncio.start_server(_TcpHandler(site), "127.0.0.1", port))
        self._closers.append(server.close)

    def quic(self, port: int, pki: Pki, site: Site) -> None:
        """HTTP/3 and WebTransport over QUIC on 127.0.0.1:port."""
        config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN, max_datagram_frame_size=65536)
        config.load_cert_chain(pki.cert, pki.key)
        server = self._run(serve("127.0.0.1", port, configuration=config,
                                 create_protocol=functools.partial(_H3Handler, site=site)))
        self._closers.append(server.close)


@dataclass
class VerifyRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> dict:
        return json.loads(self.stdout)

    def check(self, endpoint: str, name: str) -> dict:
        found = [c for c in self.report["checks"] if c["endpoint"] == endpoint and c["check"] == name]
        assert len(found) == 1, (endpoint, name, self.stdout)
        return found[0]


def run_verify(*args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 60) -> VerifyRun:
    """``python -m tools.verify ARGS`` in a subprocess; wall-clock seconds include interpreter start-up."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tools.verify", *args], cwd=ROOT, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout, env=env)
    return VerifyRun(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)
