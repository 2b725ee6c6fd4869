"""Decode plaintext QUIC-LB connection IDs (draft-ietf-quic-load-balancers, section 3).

Layout of a server-chosen connection ID: one first octet (top 3 bits: configuration ID 0-6, where
0b111 means "unroutable"; low 5 bits: the length of what follows that belongs to QUIC-LB, self-encoded),
then the server ID, then a nonce of at least 4 octets. A server may append octets of its own after that
(Envoy appends one worker-routing octet), so the connection ID may be longer than the length says.
"""

from __future__ import annotations

from dataclasses import dataclass

UNROUTABLE = 0b111
MIN_NONCE = 4
MAX_CID = 20
"""QUIC v1 connection IDs are at most 20 octets (RFC 9000, section 17.2)."""


class MalformedCid(ValueError):
    """The connection ID does not carry a routable QUIC-LB server ID; the message says why."""


@dataclass(frozen=True)
class Decoded:
    config_id: int
    """Configuration rotation codepoint, 0-6."""
    length: int
    """Self-encoded length: octets after the first one that hold the server ID and the nonce."""
    server_id: bytes
    nonce: bytes
    trailer: bytes
    """Octets the server appended after the QUIC-LB part (Envoy: its worker index)."""


def decode(cid: bytes, server_id_length: int) -> Decoded:
    """Split ``cid`` into configuration ID, server ID and nonce, or raise MalformedCid."""
    if not 1 <= server_id_length <= MAX_CID - 1 - MIN_NONCE:
        raise ValueError(f"server ID length {server_id_length} is outside 1-{MAX_CID - 1 - MIN_NONCE}")
    if not cid:
        raise MalformedCid("empty connection ID")
    if len(cid) > MAX_CID:
        raise MalformedCid(f"{len(cid)} octets is longer than QUIC v1 allows ({MAX_CID})")
    config_id, length = cid[0] >> 5, cid[0] & 0x1F
    if config_id == UNROUTABLE:
        raise MalformedCid("configuration bits 0b111: the server marked it unroutable (no server ID)")
    needed = server_id_length + MIN_NONCE
    if len(cid) < 1 + needed:
        raise MalformedCid(f"{len(cid)} octets is too short for a server ID of {server_id_length} octets "
                           f"and a nonce of at least {MIN_NONCE}")
    if length < needed:
        raise MalformedCid(f"its length field says {length} octets, too few for a server ID of "
                           f"{server_id_length} octets and a nonce of at least {MIN_NONCE}")
    if 1 + length > len(cid):
        raise MalformedCid(f"its length field says {length} octets follow, but only {len(cid) - 1} do")
    return Decoded(config_id, length, cid[1:1 + server_id_length], cid[1 + server_id_length:1 + length],
                   cid[1 + length:])
