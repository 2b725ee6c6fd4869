"""Maintained libraries instead of hand-written protocol code: the replaced code stays replaced.

The behaviour of each is covered where it is used (tests/tools/test_token_cli.py, test_verify_forwarder.py,
test_verify_cli.py, tests/bench/test_bench_relay.py); this checks the modules use the libraries, and that the one
hand-kept list agrees with the library where both answer.
"""

from __future__ import annotations

import ast
import ipaddress

import pytest

from stacks.config import exposure
from tests.support.plan import ROOT


def imported(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


@pytest.mark.parametrize("path, library, gone", [
    ("components/workloads/relay/keys.py", "jwcrypto.jwt", {"hashlib", "base64"}),  # JWS, JWK and RFC 7638
    ("tools/verify/forwarder.py", "aioquic.quic.packet.pull_quic_header", set()),  # QUIC long headers
    ("tools/verify/checks.py", "service_identity.cryptography.verify_certificate_hostname", set()),  # RFC 6125
    ("bench/measure.py", "statistics", set()),  # percentiles
])
def test_the_library_does_it(path, library, gone):
    names = imported(path)
    assert any(name == library or name.startswith(library) for name in names), sorted(names)
    assert not gone & names


def test_the_kept_special_purpose_blocks_are_what_ipaddress_calls_non_global():
    for block in exposure._NOT_PUBLIC:
        first = block.network_address  # (192.0.0.0/24 holds two global /32s: judge its first address)
        assert not first.is_global or first.is_multicast, block
    assert exposure.public_addresses(["8.8.8.0/24"]) == 256 and ipaddress.ip_network("8.8.8.0/24").is_global
