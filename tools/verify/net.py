"""The clients the checks use: name resolution, HTTPS over TCP (HTTP/2 with h2, HTTP/1.1, the WebSocket
upgrade) and QUIC with aioquic (HTTP/3 requests, WebTransport sessions, the server's connection IDs).

Everything connects to an address the caller resolved, with the URL's host name as SNI and for
certificate checks, so the DNS check and every other check agree on where they went.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import re
import socket
import ssl
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

import h2.config
import h2.connection
import h2.events
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted
from aioquic.quic.logger import QuicLogger
from cryptography.hazmat.primitives.serialization import Encoding

USER_AGENT = "quicstack-verify"
MAX_BODY = 1 << 20
CRYPTO_ERROR = 0x100
"""QUIC error codes 0x100-0x1ff carry a TLS alert (RFC 9001, section 4.8)."""
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""RFC 6455, section 1.3: the server proves it understood the upgrade by hashing the key with this."""


@dataclass(frozen=True)
class Trust:
    """Which certificate authorities the checks accept, for TCP (ssl) and QUIC (aioquic) alike."""

    label: str
    cafile: str | None = None
    cadata: str | None = None
    insecure: bool = False

    def tcp_context(self, alpn: tuple[str, ...]) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cafile, cadata=self.cadata)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(list(alpn))
        return ctx

    def quic_configuration(self, server_name: str, **options) -> QuicConfiguration:
        cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=server_name, **options)
        if self.insecure:
            cfg.verify_mode = ssl.CERT_NONE
        elif self.cafile or self.cadata:
            cfg.load_verify_locations(cafile=self.cafile, cadata=self.cadata.encode() if self.cadata else None)
        else:
            # aioquic defaults to certifi's bundle; use the same system store as the TCP checks instead.
            paths = ssl.get_default_verify_paths()
            cafile = paths.cafile if paths.cafile and Path(paths.cafile).is_file() else None
            capath = paths.capath if paths.capath and Path(paths.capath).is_dir() else None
            if cafile or capath:
                cfg.load_verify_locations(cafile=cafile, capath=capath)
        return cfg


def is_loopback_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


async def resolve(host: str) -> tuple[list[str], str]:
    """The host's addresses, in the order to try them, and how they were found."""
    try:
        ipaddress.ip_address(host)
        return [host], "IP address"
    except ValueError:
        pass
    if is_loopback_name(host):
        # RFC 6761 section 6.3: *.localhost is loopback; many resolvers (and macOS, musl) do not know that.
        return ["127.0.0.1", "::1"], "loopback name"
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos)), "DNS"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    body: bytes
    protocol: str
    ms: float


def _header_dict(pairs) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        name = (name.decode() if isinstance(name, bytes) else name).strip().lower()
        value = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


@asynccontextmanager
async def tls_stream(address: str, port: int, host: str, trust: Trust,
                     alpn: tuple[str, ...]) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(address, port, ssl=trust.tcp_context(alpn), server_hostname=host)
    try:
        yield reader, writer
    finally:
        writer.close()


async def peer_certificate(address: str, port: int, host: str) -> bytes:
    """The DER certificate the server presents for ``host``, without judging it (to explain a failure)."""
    async with tls_stream(address, port, host, Trust("nothing", insecure=True), ("h2", "http/1.1")) as (_, writer):
        return writer.get_extra_info("ssl_object").getpeercert(binary_form=True)


async def https_get(address: str, port: int, host: str, authority: str, path: str, trust: Trust,
                    alpn: tuple[str, ...] = ("h2", "http/1.1")) -> Response:
    """GET over TLS/TCP with whatever the server picks from ``alpn``."""
    started = time.perf_counter()
    async with tls_stream(address, port, host, trust, alpn) as (reader, writer):
        protocol = writer.get_extra_info("ssl_object").selected_alpn_protocol() or "http/1.1"
        get = _h2_get if protocol == "h2" else _http1_get
        status, headers, body = await get(reader, writer, authority, path)
    return Response(status, headers, body, protocol, (time.perf_counter() - started) * 1000)


async def _h2_get(reader, writer, authority: str, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "GET"), (":scheme", "https"), (":authority", authority),
                               (":path", path), ("user-agent", USER_AGENT)], end_stream=True)
    writer.write(conn.data_to_send())
    headers: dict[str, str] = {}
    body = bytearray()
    while True:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection before it answered")
        for event in conn.receive_data(data):
            if getattr(event, "stream_id", stream) != stream:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                headers = _header_dict(event.headers)
            elif isinstance(event, h2.events.DataReceived):
                body += event.data[:MAX_BODY - len(body)]
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, h2.events.StreamReset):
                raise ConnectionError(f"the server reset the HTTP/2 stream ({event.error_code.name})")
            elif isinstance(event, h2.events.ConnectionTerminated):
                raise ConnectionError(f"the server ended the HTTP/2 connection ({event.error_code.name})")
            elif isinstance(event, h2.events.StreamEnded):
                return int(headers.pop(":status")), headers, bytes(body)
        writer.write(conn.data_to_send())


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise ConnectionError(f"not an HTTP response: {lines[0][:60]!r}")
    return int(status_line[1]), _header_dict(line.split(":", 1) for line in lines[1:] if ":" in line)


async def _http1_get(reader, writer, authority: str, path: str) -> tuple[int, dict[str, str], bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
                 f"Accept: */*\r\nConnection: close\r\n\r\n".encode())
    status, headers = await _read_head(reader)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while (size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16)) and len(body) < MAX_BODY:
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, headers, bytes(body)
    if "content-length" in headers:
        return status, headers, await reader.readexactly(min(int(headers["content-length"]), MAX_BODY))
    body = bytearray()
    while (chunk := await reader.read(65536)) and len(body) < MAX_BODY:
        body += chunk
    return status, headers, bytes(body)


def websocket_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


async def websocket_upgrade(address: str, port: int, host: str, authority: str, path: str, trust: Trust,
                            key: str, protocols: tuple[str, ...]) -> Response:
    """Send a WebSocket upgrade over HTTP/1.1 and return the answer's head (the socket is then closed)."""
    started = time.perf_counter()
    async with tls_stream(address, port, host, trust, ("http/1.1",)) as (reader, writer):
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
                     f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {', '.join(protocols)}\r\n"
                     f"Origin: https://{authority}\r\n\r\n".encode())
        status, headers = await _read_head(reader)
    return Response(status, headers, b"", "http/1.1", (time.perf_counter() - started) * 1000)


class QuicFailure(ConnectionError):
    """The QUIC connection ended; the message is the reason either side gave."""

    def __init__(self, reason: str, error_code: int):
        # aioquic names certificate patterns by their repr: DNSPattern(pattern=b'example.com').
        super().__init__(re.sub(r"DNSPattern\(pattern=b'([^']*)'\)", r"\1", reason))
        self.tls_alert = CRYPTO_ERROR <= error_code <= CRYPTO_ERROR + 0xFF


@dataclass
class _Stream:
    headers: asyncio.Future
    ended: asyncio.Future
    body: bytearray = field(default_factory=bytearray)


class H3Client(QuicConnectionProtocol):
    """An HTTP/3 client connection: requests, extended CONNECT, and why it ended.

    Waiters are always resolved with results, never exceptions, so a check that gave up on one
    (timeout) leaves nothing behind that asyncio would report as an unretrieved exception.
    """

    def __init__(self, quic: QuicConnection, *, webtransport: bool = False):
        super().__init__(quic)
        self.h3 = H3Connection(quic, enable_webtransport=webtransport)
        self.terminated: ConnectionTerminated | None = None
        self.handshake_ms = 0.0
        self._handshake = self._loop.create_future()
        self._settings = self._loop.create_future()
        self._streams: dict[int, _Stream] = {}

    def close_reason(self) -> str:
        event = self.terminated
        if event is None:
            return "the connection is closed"
        return event.reason_phrase or f"closed with QUIC error 0x{event.error_code:x}"

    def quic_event_received(self, event) -> None:
        if isinstance(event, HandshakeCompleted):
            _resolve(self._handshake)
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for waiter in (self._handshake, self._settings,
                           *(f for s in self._streams.values() for f in (s.headers, s.ended))):
                _resolve(waiter)
            return
        for ev in self.h3.handle_event(event):
            stream = self._streams.get(getattr(ev, "stream_id", None))
            if stream is None:
                continue
            if isinstance(ev, HeadersReceived) and not stream.headers.done():
                stream.headers.set_result(_header_dict(ev.headers))
            elif isinstance(ev, DataReceived):
                stream.body += ev.data[:MAX_BODY - len(stream.body)]
            if getattr(ev, "stream_ended", False):
                _resolve(stream.headers, {})
                _resolve(stream.ended)
        if self.h3.received_settings is not None:
            _resolve(self._settings)

    async def _wait(self, waiter: asyncio.Future):
        result = await waiter
        if self.terminated is not None:
            raise QuicFailure(self.close_reason(), self.terminated.error_code)
        return result

    async def handshake(self) -> None:
        started = time.perf_counter()
        await self._wait(self._handshake)
        self.handshake_ms = (time.perf_counter() - started) * 1000

    async def settings(self) -> dict[int, int]:
        """The server's HTTP/3 SETTINGS (extended CONNECT must wait for them, RFC 9220 section 3)."""
        await self._wait(self._settings)
        return dict(self.h3.received_settings)

    def _send(self, headers: list[tuple[bytes, bytes]], end_stream: bool) -> _Stream:
        stream_id = self._quic.get_next_available_stream_id()
        stream = self._streams[stream_id] = _Stream(self._loop.create_future(), self._loop.create_future())
        self.h3.send_headers(stream_id, headers, end_stream=end_stream)
        self.transmit()
        return stream

    async def get(self, authority: str, path: str) -> Response:
        started = time.perf_counter()
        stream = self._send([(b":method", b"GET"), (b":scheme", b"https"), (b":authority", authority.encode()),
                             (b":path", path.encode()), (b"user-agent", USER_AGENT.encode())], end_stream=True)
        await self._wait(stream.ended)
        headers = dict(stream.headers.result())
        return Response(int(headers.pop(":status", "0")), headers, bytes(stream.body), "h3",
                        (time.perf_counter() - started) * 1000)

    async def webtransport(self, authority: str, path: str) -> tuple[int, dict[str, str]]:
        """Open a WebTransport session (extended CONNECT, :protocol webtransport): the answer's status and headers."""
        stream = self._send([(b":method", b"CONNECT"), (b":protocol", b"webtransport"), (b":scheme", b"https"),
                             (b":authority", authority.encode()), (b":path", path.encode()),
                             (b"origin", f"https://{authority}".encode()),
                             (b"sec-webtransport-http3-draft02", b"1"), (b"user-agent", USER_AGENT.encode())],
                            end_stream=False)
        headers = dict(await self._wait(stream.headers))
        return int(headers.pop(":status", "0")), headers


def _resolve(waiter: asyncio.Future, value=None) -> None:
    if not waiter.done():
        waiter.set_result(value)


@asynccontextmanager
async def quic_connect(address: str, port: int, configuration: QuicConfiguration,
                       webtransport: bool = False) -> AsyncIterator[H3Client]:
    """A handshaken HTTP/3 connection to ``address``; closed on exit without waiting out the closing period."""
    v6 = ipaddress.ip_address(address).version == 6
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: H3Client(QuicConnection(configuration=configuration), webtransport=webtransport),
        local_addr=("::" if v6 else "0.0.0.0", 0))
    try:
        protocol.connect((address, port, 0, 0) if v6 else (address, port))
        await protocol.handshake()
        yield protocol
    finally:
        protocol.close()
        transport.close()


async def quic_fingerprint(address: str, port: int, configuration: QuicConfiguration) -> str:
    """SHA-256 (hex) of the certificate the server presents over QUIC, verified as ``configuration`` says: what a
    client that takes no TLS server name (the MoQ client) is pinned to when it dials the address."""
    async with quic_connect(address, port, configuration) as client:
        # aioquic keeps the verified peer certificate on its TLS context (no public accessor).
        certificate = client._quic.tls._peer_certificate
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def server_connection_ids(logger: QuicLogger) -> list[bytes]:
    """Connection IDs the server chose, in arrival order: long-header source IDs and NEW_CONNECTION_ID frames."""
    cids: list[bytes] = []
    for trace in logger.to_dict()["traces"]:
        for event in trace["events"]:
            if event["name"] != "transport:packet_received":
                continue
            if scid := event["data"]["header"].get("scid"):
                cids.append(bytes.fromhex(scid))
            cids += [bytes.fromhex(frame["connection_id"]) for frame in event["data"].get("frames", [])
                     if frame.get("frame_type") == "new_connection_id"]
    return list(dict.fromkeys(cids))
