"""A loopback stand-in for a load balancer that routes QUIC by connection ID (the AWS NLB's TCP_QUIC listener).

One UDP port on 127.0.0.1 in front of several relays that write QUIC-LB connection IDs. A datagram whose
destination connection ID carries a known server ID (draft-ietf-quic-load-balancers, section 3: first
octet, then the server ID) goes to that relay; any other datagram (a client's first Initial, whose
connection ID the client chose) goes to the relay its flow (client address and port) was given, the next
one in turn for a new flow. Each (flow, relay) pair gets its own upstream socket, so a relay sees one
client address per flow, as behind a proxy that does not preserve the client's address.

It runs on a thread with a selector (no event loop in the test process), bounded by :func:`running`.
"""

from __future__ import annotations

import itertools
import selectors
import socket
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

LONG_HEADER = 0x80


def server_id_of(datagram: bytes, server_id_length: int) -> bytes | None:
    """The server ID a QUIC-LB destination connection ID would carry (long or short header), or None."""
    if datagram and datagram[0] & LONG_HEADER:
        cid = datagram[6:6 + datagram[5]] if len(datagram) > 6 else b""
    else:
        cid = datagram[1:]  # short header: the DCID follows the first octet; its own first octet says its length
    return cid[1:1 + server_id_length] if len(cid) > server_id_length else None


class Balancer:
    def __init__(self, backends: dict[bytes, int], server_id_length: int = 8):
        """``backends``: server ID -> UDP port of the relay on 127.0.0.1 that writes it."""
        self.backends, self.server_id_length = backends, server_id_length
        self._next = itertools.cycle(list(backends.values()))
        self.flows: dict[tuple, int] = {}
        """Client address -> the relay port its flow was given."""
        self.by_connection_id: Counter[int] = Counter()
        """Datagrams routed by the server ID in their connection ID, per relay port."""
        self._upstream: dict[tuple, socket.socket] = {}
        self._client_of: dict[socket.socket, tuple] = {}
        self._selector = selectors.DefaultSelector()
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self._selector.register(self.front, selectors.EVENT_READ)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _relay_for(self, datagram: bytes, client: tuple) -> int:
        port = self.backends.get(server_id_of(datagram, self.server_id_length))
        if port is not None:
            self.by_connection_id[port] += 1
            return port
        if client not in self.flows:
            self.flows[client] = next(self._next)
        return self.flows[client]

    def _from_client(self, datagram: bytes, client: tuple) -> None:
        port = self._relay_for(datagram, client)
        upstream = self._upstream.get((client, port))
        if upstream is None:
            upstream = self._upstream[client, port] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            upstream.bind(("127.0.0.1", 0))
            upstream.connect(("127.0.0.1", port))
            self._client_of[upstream] = client
            self._selector.register(upstream, selectors.EVENT_READ)
        upstream.send(datagram)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(0.1):
                sock = key.fileobj
                try:
                    datagram, sender = sock.recvfrom(65535)
                    if sock is self.front:
                        self._from_client(datagram, sender)
                    else:
                        self.front.sendto(datagram, self._client_of[sock])
                except OSError:  # ICMP unreachable from a stopped relay: the datagram is lost, as on a network
                    continue

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        for sock in [self.front, *self._upstream.values()]:
            sock.close()
        self._selector.close()


@contextmanager
def running(backends: dict[bytes, int], server_id_length: int = 8) -> Iterator[Balancer]:
    balancer = Balancer(backends, server_id_length)
    balancer._thread.start()
    try:
        yield balancer
    finally:
        balancer.close()
