"""A WebSocket echo server and client on loopback (RFC 6455), small enough to read: no library in the test venv
speaks WebSocket, and the relay's fallback needs only the upgrade and unfragmented text frames."""

from __future__ import annotations

import base64
import os
import socket
import ssl
import struct
import threading
from contextlib import contextmanager
from typing import Iterator

from tools.verify.net import websocket_accept


def _read_head(sock) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError(f"closed during the handshake after {data!r}")
        data += chunk
    return data.decode("latin-1")


def _read_frame(sock) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed mid-frame")
            out += chunk
        return out

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", exactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", exactly(8))
    mask = exactly(4) if second & 0x80 else b""
    payload = exactly(length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return first & 0x0F, payload


def frame(opcode: int, payload: bytes, masked: bool) -> bytes:
    head = bytes([0x80 | opcode])
    length = len(payload)
    bits = 0x80 if masked else 0
    head += bytes([bits | length]) if length < 126 else bytes([bits | 126]) + struct.pack("!H", length)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _serve_one(conn: socket.socket) -> None:
    with conn:
        head = _read_head(conn)
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head.split("\r\n")[1:]
                                                             if ":" in line)}
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {websocket_accept(headers['sec-websocket-key'])}\r\n\r\n").encode())
        while True:
            try:
                opcode, payload = _read_frame(conn)
            except (ConnectionError, OSError):
                return  # the client went away without a close frame
            if opcode == 8:
                conn.sendall(frame(8, payload, masked=False))
                return
            conn.sendall(frame(opcode, payload, masked=False))


@contextmanager
def echo_server() -> Iterator[int]:
    """Plain-HTTP WebSocket echo on a loopback port (the relay's WebSocket listener stands behind the edge)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=_serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


@contextmanager
def client(host: str, port: int, cafile: str, path: str = "/") -> Iterator[ssl.SSLSocket]:
    """A WebSocket over TLS to 127.0.0.1:``port`` for ``host`` (HTTP/1.1, as browsers open the relay's fallback)."""
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(raw, server_hostname=host) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n").encode())
        head = _read_head(sock)
        assert head.startswith("HTTP/1.1 101"), head
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head.split("\r\n")[1:]
                                                             if ":" in line)}
        assert headers.get("sec-websocket-accept") == websocket_accept(key), head
        yield sock


def echo(sock: ssl.SSLSocket, text: str) -> str:
    sock.sendall(frame(1, text.encode(), masked=True))
    opcode, payload = _read_frame(sock)
    assert opcode == 1, opcode
    return payload.decode()
