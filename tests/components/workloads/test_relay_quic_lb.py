"""The relay's launch on EKS: the controller's base64 server ID reaches the real moq-relay as hex, and every
connection ID the relay hands out carries it (decoded with tools/verify's QUIC-LB decoder).

The command is the planned eks StatefulSet's, with only the relay binary's path rewritten; the shells are
the POSIX ones at hand (the image's /bin/sh is bash)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import tomli_w

from components.workloads.relay_cluster import LBC_SERVER_ID_ENV, RELAY_BINARY
from tests.support import envoy
from tests.support.envoy import free_port, lbc_server_id
from tests.support.processes import stop
from tests.support.quic_ids import server_cids
from tests.support.relay_cluster import BINARY
from tools.verify.quic_lb import decode

SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


@pytest.fixture(scope="module")
def planned_command(plan) -> list[str]:
    (container,) = plan("eks").object("StatefulSet", "relay")["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["/bin/sh", "-c"] and f"exec {RELAY_BINARY} " in command[2]
    return command


def launch(tmp_path: Path, command: list[str], shell: str, env: dict[str, str]) -> tuple[subprocess.Popen, int, Path]:
    """The planned launch command (relay binary and config path rewritten) with a minimal config on loopback."""
    cert, key = envoy.test_certificate(["relay.example.com"])
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "tls.crt").write_bytes(cert)
    (tmp_path / "tls" / "tls.key").write_bytes(key)
    port, internal = free_port(), free_port()
    config = tmp_path / "relay.toml"
    config.write_text(tomli_w.dumps({
        "server": {"bind": f"127.0.0.1:{port}", "tls": {"cert": [str(tmp_path / "tls" / "tls.crt")],
                                                        "key": [str(tmp_path / "tls" / "tls.key")]}},
        "internal": {"listen": f"127.0.0.1:{internal}"}, "auth": {"public": "anon"},
    }))
    script = command[2].replace(f"exec {RELAY_BINARY} ", f"exec {BINARY} ")
    argv = [shell, *(["sh"] if shell == "busybox" else []), "-c", script, command[3], str(config)]
    log = tmp_path / "relay.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env={"PATH": os.environ["PATH"], **env}, stdout=out, stderr=subprocess.STDOUT)
    return process, port, log


def wait_listening(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while "listening" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def relay_binary():
    if not BINARY.is_file():
        pytest.fail(f"{BINARY} is missing: run `make deps`")


@pytest.mark.parametrize("shell", SHELLS)
def test_connection_ids_carry_the_injected_server_id(tmp_path, planned_command, shell):
    injected = lbc_server_id()
    process, port, log = launch(tmp_path, planned_command, shell, {LBC_SERVER_ID_ENV: injected})
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
    process, port, log = launch(tmp_path, planned_command, "sh", {})
    try:
        wait_listening(process, log)
        cids = server_cids("127.0.0.1", port, tmp_path / "tls" / "tls.crt", "relay.example.com")
    finally:
        stop(process)
    assert cids and "QUIC-LB" not in log.read_text()


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"1234").decode(), base64.b64encode(b"123456789").decode()])
def test_a_malformed_server_id_stops_the_pod_with_one_line(tmp_path, planned_command, bad):
    process, _, log = launch(tmp_path, planned_command, "sh", {LBC_SERVER_ID_ENV: bad})
    try:
        assert process.wait(10) == 64
    finally:
        stop(process)
    lines = [line for line in log.read_text().splitlines() if LBC_SERVER_ID_ENV in line]
    assert len(lines) == 1 and "8 bytes" in lines[0], log.read_text()
