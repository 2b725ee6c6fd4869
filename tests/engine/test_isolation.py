"""The sandbox's commands run where nothing but loopback exists (tests/support/pulumi_cli.py, ``loopback_only``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.pulumi_cli import can_isolate, loopback_only, offline_env

PROBE = """
import errno, socket
server = socket.create_server(("127.0.0.1", 0))
socket.create_connection(server.getsockname(), timeout=5).close()
try:
    socket.create_connection(("192.0.2.1", 443), timeout=5)
    print("left loopback")
except OSError as err:
    print(errno.errorcode.get(err.errno, repr(err)))
"""


@pytest.mark.skipif(not can_isolate(), reason="this machine makes no network namespaces; offline_env alone applies")
def test_only_loopback_is_reachable():
    """Loopback answers inside; an address beyond it (TEST-NET-1) has no route at all, so nothing can leave."""
    out = subprocess.run(loopback_only([sys.executable, "-c", PROBE]), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ENETUNREACH"


def test_the_environment_inherits_no_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("KUBECONFIG", "/etc/kubeconfig")
    env = offline_env(tmp_path, tmp_path / "state")
    assert set(env) == {"PATH", "LANG", "HOME", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_SKIP_UPDATE_CHECK",
                        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_IGNORE_AMBIENT_PLUGINS",
                        "PULUMI_SKIP_CONFIRMATIONS", "PULUMI_DISABLE_REGISTRY_RESOLVE", "PULUMI_CONFIG_PASSPHRASE"}
    assert env["HOME"] == str(tmp_path) and env["PULUMI_BACKEND_URL"].startswith("file://")
