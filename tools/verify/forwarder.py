"""A loopback UDP path for one MoQ session that tells which relay pod answered it.

The MoQ client (PyPI ``moq-rs``) does not expose its QUIC connection IDs, but the server's are in clear
text: every long-header packet (RFC 9000, section 17.2) carries the server's source connection ID, and a
relay behind a QUIC-LB load balancer writes its server ID into it (``quic_lb.decode``). So each session
connects to its own :class:`Forwarder` on 127.0.0.1, which relays datagrams through an upstream socket of
its own: every session leaves from its own source port (a new flow for the load balancer, so possibly a
new pod), and the first server packet says which pod it reached.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from aioquic.buffer import Buffer
from aioquic.quic.packet import QuicPacketType, is_long_header, pull_quic_header

from . import quic_lb

def server_cid(datagram: bytes) -> bytes | None:
    """The source connection ID of a QUIC long-header packet from a server (aioquic's header parser), or None
    (short header, Version Negotiation, or too short to hold one)."""
    if not datagram or not is_long_header(datagram[0]):
        return None
    try:
        header = pull_quic_header(Buffer(data=datagram), host_cid_length=0)
    except ValueError:  # aioquic's BufferReadError (truncated) is a ValueError, as are its header checks
        return None
    if header.packet_type == QuicPacketType.VERSION_NEGOTIATION:
        return None  # it echoes the client's IDs
    return header.source_cid or None


class _Side(asyncio.DatagramProtocol):
    def __init__(self, receive):
        self.receive = receive

    def datagram_received(self, data: bytes, addr) -> None:
        self.receive(data, addr)


class Forwarder:
    """127.0.0.1:``port`` <-> the relay, for one session; :attr:`server_id` resolves with the server ID of the
    first long-header packet the relay sends (or ``quic_lb.MalformedCid`` when its connection ID carries none).
    """

    def __init__(self, server_id_length: int):
        self.server_id_length = server_id_length
        self.server_id: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.port = 0
        self._client = None
        self._local: asyncio.DatagramTransport | None = None
        self._upstream: asyncio.DatagramTransport | None = None

    async def start(self, address: str, port: int) -> "Forwarder":
        loop = asyncio.get_running_loop()
        self._local, _ = await loop.create_datagram_endpoint(lambda: _Side(self._from_client),
                                                             local_addr=("127.0.0.1", 0))
        v6 = ipaddress.ip_address(address).version == 6
        self._upstream, _ = await loop.create_datagram_endpoint(lambda: _Side(self._from_server),
                                                                remote_addr=(address, port),
                                                                family=socket.AF_INET6 if v6 else socket.AF_INET)
        self.port = self._local.get_extra_info("sockname")[1]
        return self

    def _from_client(self, data: bytes, addr) -> None:
        self._client = addr
        if self._upstream is not None:
            self._upstream.sendto(data)

    def _from_server(self, data: bytes, _addr) -> None:
        if not self.server_id.done() and (cid := server_cid(data)) is not None:
            try:
                self.server_id.set_result(quic_lb.decode(cid, self.server_id_length).server_id)
            except quic_lb.MalformedCid as exc:
                self.server_id.set_exception(
                    quic_lb.MalformedCid(f"connection ID {cid.hex()} is not a routable QUIC-LB ID: {exc}"))
        if self._client is not None and self._local is not None:
            self._local.sendto(data, self._client)

    def close(self) -> None:
        for transport in (self._local, self._upstream):
            if transport is not None:
                transport.close()
        if not self.server_id.done():
            self.server_id.cancel()
        elif not self.server_id.cancelled():
            self.server_id.exception()  # retrieved: asyncio reports no "exception was never retrieved"
