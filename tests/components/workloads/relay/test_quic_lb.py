"""The relay's launch on EKS: the controller's base64 server ID reaches the real moq-relay as hex, and every
connection ID the relay hands out carries it (decoded with tools/verify's QUIC-LB decoder).

The command is the planned eks StatefulSet's, with only the relay binary's path rewritten; the shells are
the POSIX ones at hand (the image's /bin/sh is the nixos/nix base image's)."""

from __future__ import annotations

import base64
import shutil

import pytest

from components.workloads.relay.cluster import LBC_SERVER_ID_ENV, RELAY_BINARY
from tests.support.envoy import lbc_server_id
from tests.support.processes import stop
from tests.support.quic_ids import server_cids
from tests.support.relay_cluster import BINARY, launch_planned, wait_listening
from tools.verify.quic_lb import decode

SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


@pytest.fixture(scope="module")
def planned_command(plan) -> list[str]:
    (container,) = plan("eks").object("StatefulSet", "relay")["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["/bin/sh", "-c"] and f"exec {RELAY_BINARY} " in command[2]
    return command


@pytest.fixture(autouse=True)
def relay_binary():
    if not BINARY.is_file():
        pytest.fail(f"{BINARY} is missing: run `make deps`")


@pytest.mark.parametrize("shell", SHELLS)
def test_connection_ids_carry_the_injected_server_id(tmp_path, planned_command, shell):
    injected = lbc_server_id()
    process, port, log = launch_planned(tmp_path, planned_command, shell, {LBC_SERVER_ID_ENV: injected})
    try:
        wait_listening(process, log)
        cids = server_cids("127.0.0.1", port, tmp_path / "tls" / "tls.crt", "relay.example.com")
    finally:
        stop(process)
    assert len(cids) >= 2, cids
    for cid in cids:
        decoded = decode(cid, server_id_length=8)
        assert decoded.server_id == base64.b64decode(injected), cid.hex()
        assert decoded.config_id == 0 and len(decoded.nonce) >= 4
    # A fresh nonce per connection ID: the server ID alone repeats.
    assert len({decode(c, 8).nonce for c in cids}) == len(cids)


def test_without_the_webhook_the_relay_starts_with_random_ids(tmp_path, planned_command):
    process, port, log = launch_planned(tmp_path, planned_command, "sh", {})
    try:
        wait_listening(process, log)
        cids = server_cids("127.0.0.1", port, tmp_path / "tls" / "tls.crt", "relay.example.com")
    finally:
        stop(process)
    assert cids and "QUIC-LB" not in log.read_text()


@pytest.mark.parametrize("bad", ["not base64!", *(base64.b64encode(raw).decode() for raw in (b"1234", b"123456789"))])
def test_a_malformed_server_id_stops_the_pod_with_one_line(tmp_path, planned_command, bad):
    process, _, log = launch_planned(tmp_path, planned_command, "sh", {LBC_SERVER_ID_ENV: bad})
    try:
        assert process.wait(10) == 64
    finally:
        stop(process)
    lines = [line for line in log.read_text().splitlines() if LBC_SERVER_ID_ENV in line]
    assert len(lines) == 1 and "8 bytes" in lines[0], log.read_text()
