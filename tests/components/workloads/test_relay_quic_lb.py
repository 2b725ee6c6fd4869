"""The relay's launch on EKS: the controller's base64 server ID reaches the real moq-relay as hex, and every
connection ID the relay hands out carries it (decoded with tools/verify's QUIC-LB decoder)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import tomli_w

from components.workloads.relay_cluster import LBC_SERVER_ID_ENV, RELAY_BINARY, quic_lb_launch
from tests.support import envoy
from tests.support.envoy import free_port, lbc_server_id
from tests.support.quic_ids import server_cids
from tools.verify.quic_lb import decode

BINARY = Path(os.environ.get("QUICSTACK_MOQ_RELAY") or Path(__file__).parents[3] / ".tools" / "moq-relay-0.14.12" / "bin" / "moq-relay")
SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


def launch(tmp_path: Path, shell: str, env: dict[str, str]) -> tuple[subprocess.Popen, int, Path]:
    """The planned launch command (binary path rewritten) with a minimal relay config on loopback."""
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
    command = quic_lb_launch(str(config), binary=str(BINARY))
    assert command[:2] == ["/bin/sh", "-c"] and f"exec {RELAY_BINARY} " in quic_lb_launch("x")[2]
    argv = [shell, *(["sh"] if shell == "busybox" else []), *command[1:]]
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


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def relay_binary():
    if not BINARY.is_file():
        pytest.fail(f"{BINARY} is missing: run `make deps`")


@pytest.mark.parametrize("shell", SHELLS)
def test_connection_ids_carry_the_injected_server_id(tmp_path, shell):
    injected = lbc_server_id()
    process, port, log = launch(tmp_path, shell, {LBC_SERVER_ID_ENV: injected})
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


def test_without_the_webhook_the_relay_starts_with_random_ids(tmp_path):
    process, port, log = launch(tmp_path, "sh", {})
    try:
        wait_listening(process, log)
        cids = server_cids("127.0.0.1", port, tmp_path / "tls" / "tls.crt", "relay.example.com")
    finally:
        stop(process)
    assert cids and "QUIC-LB" not in log.read_text()


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"1234").decode(), base64.b64encode(b"123456789").decode()])
def test_a_malformed_server_id_stops_the_pod_with_one_line(tmp_path, bad):
    process, _, log = launch(tmp_path, "sh", {LBC_SERVER_ID_ENV: bad})
    try:
        assert process.wait(10) == 64
    finally:
        stop(process)
    lines = [line for line in log.read_text().splitlines() if LBC_SERVER_ID_ENV in line]
    assert len(lines) == 1 and "8 bytes" in lines[0], log.read_text()
