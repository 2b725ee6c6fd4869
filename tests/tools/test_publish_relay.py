"""``python -m tools.publish`` against the real moq-relay of the local stack, as on a stock Linux box.

The relay's host is the stack's ``relay.quicstack.localhost``, which this machine's resolver does not know
(``getent hosts`` fails): publish resolves it as ``tools.verify`` does (RFC 6761 loopback) and says where it
connects before it waits. The Pulumi CLI is stood in by a script printing outputs where a stack's CA is read
(no deployed stack here).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from tests.support import relay
from tests.support.envoy import free_port
from tests.support.plan import ROOT

pytestmark = pytest.mark.skipif(not relay.BINARY.is_file(), reason=f"{relay.BINARY} is missing: run `make deps`")


def publish(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.publish", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_a_localhost_relay_with_the_stacks_ca(plan, tmp_path):
    pod = relay.materialize(plan("local"), tmp_path / "pod")
    assert pod.host.endswith(".localhost")
    with relay.running(pod):
        run = publish("--url", f"https://{pod.host}:{pod.quic_port}/anon", "--broadcast", "bbb.hang",
                      "--ca", str(pod.ca_file), "--duration", "2")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"connecting to {pod.host} (127.0.0.1, ::1, loopback name) on UDP/{pod.quic_port}")
    assert lines[1].startswith("publishing 'bbb.hang'") and lines[-1].startswith("stopped: ")


def test_no_relay_answering_is_one_line_after_saying_where(tmp_path):
    started = time.monotonic()
    run = publish("--url", f"https://relay.quicstack.localhost:{free_port()}/anon", "--broadcast", "b",
                  "--connect-timeout", "1")
    assert time.monotonic() - started < 15
    assert run.returncode == 1 and run.stdout.startswith("connecting to relay.quicstack.localhost (127.0.0.1")
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: no QUIC answer from 127.0.0.1 port ") and "is the relay running" in line


def fake_pulumi(directory, outputs: dict):
    """A stand-in ``pulumi`` printing ``outputs`` for ``pulumi stack output --json``."""
    script = directory / "pulumi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(outputs)}\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}


def test_a_selfsigned_stack_is_trusted_by_its_own_ca_without_ca(plan, tmp_path, monkeypatch):
    from tools.publish.__main__ import parse, trust

    pod = relay.materialize(plan("local"), tmp_path / "pod")
    ca = pod.ca_file.read_text()
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, {"caCertificate": ca})["PATH"])
    trusted = trust(parse(["--stack", "local"]))
    assert trusted.cadata.strip() == ca.strip() and trusted.cafile is None
    # and a relay whose certificate that CA issued accepts the handshake through the whole tool
    stack = tmp_path / "Pulumi.local.yaml"
    stack.write_text((ROOT / "stacks" / "Pulumi.local.yaml").read_text())
    with relay.running(pod):
        run = publish("--stack", str(stack), "--url", f"https://{pod.host}:{pod.quic_port}/anon", "--duration", "1",
                      env=fake_pulumi(tmp_path, {"caCertificate": ca}))
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_key_file_signs_the_token(monkeypatch, tmp_path):
    from tools.publish.__main__ import parse, target
    from tools.token import __main__ as tool

    asked = []
    monkeypatch.setattr(tool, "token", lambda args, stdin: asked.append(vars(args)) or "signed.jwt.token")
    monkeypatch.delenv("QUICSTACK_TOKEN", raising=False)
    stack = tmp_path / "Pulumi.k3s.yaml"
    stack.write_text("config:\n  quicstack:domain: example.com\n  quicstack:acme:\n    environment: staging\n"
                     "    email: ops@example.com\n")
    t = target(parse(["--stack", str(stack), "--key", "relay-token.pem"]))
    assert asked[0]["key"] == "relay-token.pem" and asked[0]["stack"] is None
    assert asked[0]["publish"] == ["anon/bbb.hang"] and t.token == "signed.jwt.token"
    asked.clear()
    t = target(parse(["--url", "https://relay.example.net/live", "--broadcast", "cam", "--key", "k.pem"]))
    assert asked[0]["publish"] == ["live/cam"] and t.token == "signed.jwt.token"


def test_without_the_pulumi_cli_it_names_what_to_pass_instead():
    env = {"PATH": f"/usr/bin{os.pathsep}/bin"}  # the system's programs, not the project's tools folder
    run = publish("--stack", "k3s", "--duration", "1", env=env)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == ("error: --stack needs the Pulumi CLI, which is not on PATH: install it, or pass --key FILE "
                          "(the stack's signing key) or --token\n")
    run = publish("--stack", "local", "--duration", "1", env=env)
    assert run.stderr == ("error: --stack needs the Pulumi CLI, which is not on PATH: install it, or pass --ca FILE "
                          "(the stack's caCertificate output)\n")
