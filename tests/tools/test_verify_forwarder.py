"""How ``tools.verify``'s forwarder finds the server's connection ID in a datagram, against packets laid out by
hand from RFC 9000 section 17.2 (long header: flags, version, DCID length + DCID, SCID length + SCID)."""

import pytest

from tools.verify.forwarder import server_cid

SCID = bytes.fromhex("1001020304050607080a0b0c0d0e0f1011")  # a QUIC-LB ID: length 16, 8-octet server ID, nonce
CLIENT = bytes.fromhex("c0ffee0011223344")


def long_header(first: int, version: bytes, dcid: bytes, scid: bytes, rest: bytes = b"\x00" * 40) -> bytes:
    return bytes([first]) + version + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + rest


@pytest.mark.parametrize("first", [0xC0, 0xE0], ids=["initial", "handshake"])
def test_source_connection_id_of_a_server_long_header_packet(first):
    assert server_cid(long_header(first, b"\x00\x00\x00\x01", CLIENT, SCID)) == SCID


def test_empty_destination_connection_id():
    assert server_cid(long_header(0xC0, b"\x00\x00\x00\x01", b"", SCID)) == SCID


@pytest.mark.parametrize("datagram", [
    bytes([0x40]) + SCID + b"\x00" * 30,  # short header: no source connection ID
    long_header(0x80, b"\x00\x00\x00\x00", CLIENT, SCID),  # Version Negotiation echoes the client's IDs
    long_header(0xC0, b"\x00\x00\x00\x01", CLIENT, b""),  # no SCID
    long_header(0xC0, b"\x00\x00\x00\x01", CLIENT, SCID, rest=b"")[:-3],  # cut inside the SCID
    long_header(0xC0, b"\x00\x00\x00\x01", CLIENT, b"", rest=b"")[:-1],  # cut before the SCID length
    b"",
], ids=["short-header", "version-negotiation", "empty-scid", "truncated-scid", "truncated-header", "empty"])
def test_no_server_connection_id(datagram):
    assert server_cid(datagram) is None
