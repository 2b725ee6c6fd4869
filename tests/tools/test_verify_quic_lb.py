"""The QUIC-LB decoder of ``python -m tools.verify`` against hand-built connection IDs.

The layout comes from draft-ietf-quic-load-balancers section 3 (first octet: 3 configuration bits and
5 length bits; then the server ID; then a nonce of at least 4 octets), not from the decoder.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.verify.quic_lb import MalformedCid, decode


def cid(config: int, server_id: bytes, nonce: bytes, trailer: bytes = b"", length: int | None = None) -> bytes:
    """A connection ID laid out by hand: first octet = config << 5 | length of server ID + nonce."""
    first = (config << 5) | (len(server_id) + len(nonce) if length is None else length)
    return bytes([first]) + server_id + nonce + trailer


def test_envoy_layout_with_worker_octet():
    # The demo's layout: config 0, 8-octet server ID, 7-octet nonce, then Envoy's worker octet.
    raw = cid(0, bytes.fromhex("0102030405060708"), bytes(range(7)), b"\x01")
    assert raw[0] == 0x0F and len(raw) == 17
    d = decode(raw, 8)
    assert (d.config_id, d.length) == (0, 15)
    assert d.server_id == bytes.fromhex("0102030405060708")
    assert d.nonce == bytes(range(7)) and d.trailer == b"\x01"


def test_connection_id_observed_from_envoy():
    # Seen from Envoy 1.40 with server_id "srv1" (shared/research/tooling.md): 0x0c = config 0, length 12.
    d = decode(bytes.fromhex("0c73727631ab558fd1af5bdc3e00"), 4)
    assert (d.config_id, d.length, d.server_id, d.trailer) == (0, 12, b"srv1", b"\x00")
    assert d.nonce == bytes.fromhex("ab558fd1af5bdc3e")


@pytest.mark.parametrize("config", range(7))
def test_configuration_bits_are_the_top_three(config):
    assert decode(cid(config, b"S" * 8, b"n" * 7), 8).config_id == config


def test_unroutable_configuration_is_rejected():
    with pytest.raises(MalformedCid, match="0b111.*unroutable"):
        decode(cid(0b111, b"S" * 8, b"n" * 7), 8)


@pytest.mark.parametrize("raw", [b"\x0f", cid(0, b"S" * 8, b"n" * 3, length=15), bytes([0x0F]) + b"S" * 8])
def test_too_short_for_server_id_and_nonce(raw):
    with pytest.raises(MalformedCid, match="too short"):
        decode(raw, 8)


def test_empty_connection_id():
    with pytest.raises(MalformedCid, match="empty"):
        decode(b"", 8)


def test_length_field_too_small_for_server_id_and_minimum_nonce():
    with pytest.raises(MalformedCid, match="length field says 10"):
        decode(cid(0, b"S" * 8, b"n" * 7, length=10), 8)


def test_length_field_longer_than_the_connection_id():
    with pytest.raises(MalformedCid, match="says 20 octets follow, but only 15 do"):
        decode(cid(0, b"S" * 8, b"n" * 7, length=20), 8)


def test_longer_than_quic_v1_allows():
    with pytest.raises(MalformedCid, match="longer than QUIC v1 allows"):
        decode(cid(0, b"S" * 8, b"n" * 7, trailer=b"t" * 6), 8)


@pytest.mark.parametrize("length", [0, 16])
def test_server_id_length_must_leave_room_for_a_nonce(length):
    with pytest.raises(ValueError, match="server ID length"):
        decode(cid(0, b"S" * 8, b"n" * 7), length)


@st.composite
def layouts(draw):
    server_id = draw(st.binary(min_size=1, max_size=15))
    nonce = draw(st.binary(min_size=4, max_size=19 - len(server_id)))
    trailer = draw(st.binary(max_size=20 - 1 - len(server_id) - len(nonce)))
    return draw(st.integers(0, 6)), server_id, nonce, trailer


@given(layouts())
def test_any_valid_layout_round_trips(layout):
    config, server_id, nonce, trailer = layout
    d = decode(cid(config, server_id, nonce, trailer), len(server_id))
    assert (d.config_id, d.server_id, d.nonce, d.trailer) == (config, server_id, nonce, trailer)
    assert d.length == len(server_id) + len(nonce)
