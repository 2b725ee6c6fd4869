"""Envoy drains before it stops: the planned preStop hook, run by bash against the real Envoy's admin port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from components.workloads.envoy.component import DRAIN_SECONDS, GRACE_SECONDS
from tests.support import envoy as local_envoy
from tests.support.plan import Plan, run_plan


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("drain")
    run = run_plan("local", out, "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(out / "local")


def test_the_pod_drains_for_a_while_and_may_take_longer_to_stop(planned):
    spec = planned.object("Deployment", "envoy")["spec"]["template"]["spec"]
    (container,) = [c for c in spec["containers"] if c["name"] == "envoy"]
    args = container["args"]
    assert args[args.index("--drain-time-s") + 1] == str(DRAIN_SECONDS)
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["/bin/bash", "-c"] and command[2].endswith(f"sleep {DRAIN_SECONDS}")
    assert spec["terminationGracePeriodSeconds"] == GRACE_SECONDS > DRAIN_SECONDS


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_pre_stop_hook_drains_the_real_envoy(planned, tmp_path):
    deployment = planned.object("Deployment", "envoy")
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "envoy"]
    script = container["lifecycle"]["preStop"]["exec"]["command"][2]
    pod = local_envoy.materialize_planned(planned.manifests, "envoy", tmp_path)
    planned_admin = next(port for port, local in pod.ports.items() if local == pod.admin_port)
    listener = pod.ports[container["ports"][0]["containerPort"]]
    # Here the admin port is another loopback port, and drain and wait are cut to a second.
    script = script.replace(f"/dev/tcp/127.0.0.1/{planned_admin}", f"/dev/tcp/127.0.0.1/{pod.admin_port}")
    script = script.replace(f"sleep {DRAIN_SECONDS}", "sleep 0")
    drain = pod.command.index("--drain-time-s") + 1
    pod.command[drain] = "1"
    with local_envoy.running_pod(pod):
        assert accepts(listener)
        hook = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        assert hook.returncode == 0, hook.stderr
        assert hook.stdout.startswith("HTTP/1.1 200"), hook.stdout
        # After the drain time the listeners close: new connections go to the other pods.
        deadline = time.monotonic() + 10
        while accepts(listener) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not accepts(listener)
