"""``quicstack:envoyDemo`` rejects, in one line each, what Envoy would refuse; Envoy really refuses it.

Each case pairs our config error with the same value put into the planned bootstrap (or the pod's
command line) and handed to the real Envoy, so no rule is invented and none is stricter than Envoy.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from stacks.config import ConfigError, load
from tests.support import envoy as local_envoy
from tests.support.plan import Plan, run_plan

BASE = {"domain": "example.com"}


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Plan:
    out = tmp_path_factory.mktemp("envoy-config")
    run = run_plan("local", out, "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(out / "local")


@pytest.fixture
def pod(planned, tmp_path) -> local_envoy.LocalPod:
    return local_envoy.materialize_planned(planned.manifests, "envoy", tmp_path)


def rewrite_bootstrap(pod: local_envoy.LocalPod, change) -> None:
    change(pod.bootstrap)
    config = pod.command[pod.command.index("--config-path") + 1]
    with open(config, "w") as f:
        yaml.safe_dump(pod.bootstrap, f, sort_keys=False)


def quic_lb(**fields):
    return lambda b: local_envoy.quic_lb_generator(b).update(fields)


def h2_body(size: int):
    def change(b):
        (tcp,) = [x for x in b["static_resources"]["listeners"] if x["name"] == "h2"]
        route = tcp["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]
        route["direct_response"]["body"]["inline_string"] = "x" * size
    return change


def one_line(override: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load({**BASE, "envoyDemo": override})
    message = str(err.value)
    assert "\n" not in message
    return message


# (config override, our one line, bootstrap change carrying the same value, Envoy's own complaint)
VALIDATE_CASES = [
    ({"nonceLength": 3}, "quicstack:envoyDemo.nonceLength: 3 is not a QUIC-LB nonce length (4-16 bytes)",
     quic_lb(nonce_length_bytes=3), "value must be inside range [4, 16]"),
    ({"nonceLength": 17, "serverIdLength": 1}, "quicstack:envoyDemo.nonceLength: 17 is not a QUIC-LB nonce length (4-16 bytes)",
     quic_lb(nonce_length_bytes=17), "value must be inside range [4, 16]"),
    ({"nonceLength": 11}, "quicstack:envoyDemo.nonceLength: 11 plus serverIdLength 8 is 19 bytes; a QUIC-LB server ID and nonce together are at most 18",
     quic_lb(nonce_length_bytes=11), "combined must be 18 bytes or less"),
    ({"serverIdLength": 15}, "quicstack:envoyDemo.serverIdLength: 15 is not a QUIC-LB server ID length (1-14 bytes, leaving room for a 4-byte nonce)",
     quic_lb(expected_server_id_length=15, nonce_length_bytes=4, server_id={"inline_string": base64.b64encode(bytes(15)).decode()}),
     "combined must be 18 bytes or less"),
    ({"h2Body": "x" * 4097}, "quicstack:envoyDemo.h2Body: is 4097 bytes, over the 4096 Envoy serves as a direct response",
     h2_body(4097), "response body size is 4097 bytes; maximum is 4096"),
]

# What the same rules let through, Envoy accepts too: the rules are no stricter than Envoy.
ACCEPTED = [
    ({"nonceLength": 4}, quic_lb(nonce_length_bytes=4)),
    ({"nonceLength": 10}, quic_lb(nonce_length_bytes=10)),
    ({"h2Body": "x" * 4096}, h2_body(4096)),
]


@pytest.mark.parametrize("override,message,change,envoy_says", VALIDATE_CASES, ids=[m.split(":")[1] + f"-{i}" for i, (_, m, _, _) in enumerate(VALIDATE_CASES)])
def test_rejected_in_one_line_and_by_envoy(override, message, change, envoy_says, pod):
    assert one_line(override) == message
    rewrite_bootstrap(pod, change)
    result = local_envoy.validate(pod.command, pod.env)
    assert result.returncode == 1 and envoy_says in result.stdout + result.stderr


@pytest.mark.parametrize("override,change", ACCEPTED, ids=[str(o)[:30] for o, _ in ACCEPTED])
def test_accepted_by_config_and_by_envoy(override, change, pod):
    load({**BASE, "envoyDemo": override})
    rewrite_bootstrap(pod, change)
    result = local_envoy.validate(pod.command, pod.env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_too_many_workers_rejected_in_one_line_and_by_envoy(pod, tmp_path):
    assert one_line({"resources": {"cpuLimit": "255"}}) == (
        "quicstack:envoyDemo.resources.cpuLimit: '255' means 255 Envoy worker threads; the QUIC-LB connection ID generator allows at most 254")
    assert load({**BASE, "envoyDemo": {"resources": {"cpuLimit": "254"}}}).envoy_demo.concurrency == 254
    command = list(pod.command)
    command[command.index("--concurrency") + 1] = "255"
    with pytest.raises(RuntimeError, match="cannot be used with a concurrency"):
        with local_envoy.running(command, pod.env, pod.admin_port, tmp_path / "255.log"):
            pass


def test_admin_port_on_the_listener_port_rejected_in_one_line_and_by_envoy(pod, tmp_path):
    assert one_line({"adminPort": 3000}) == (
        "quicstack:envoyDemo.adminPort: 3000 collides with envoyDemo.containerPort: the admin interface and the listeners need different ports")
    listener_port = pod.ports[3000]
    rewrite_bootstrap(pod, lambda b: b["admin"]["address"]["socket_address"].update(port_value=listener_port))
    with pytest.raises(RuntimeError, match="Address already in use"):
        with local_envoy.running(pod.command, pod.env, listener_port, tmp_path / "clash.log"):
            pass


def test_configuration_version_7_rejected_in_one_line_because_envoy_would_send_unroutable_ids(pod, planned):
    """Envoy does not refuse to start: it drops the key file and hands out IDs the NLB cannot route."""
    assert one_line({"configVersion": 7}) == (
        "quicstack:envoyDemo.configVersion: 7 is not a QUIC-LB configuration version (0-6; 7 marks a connection ID unroutable)")
    assert load({**BASE, "envoyDemo": {"configVersion": 6}}).envoy_demo.config_version == 6
    key_file = Path(pod.quic_lb["encryption_parameters"]["sds_config"]["path_config_source"]["path"])
    document = yaml.safe_load(key_file.read_text())
    document["resources"][0]["generic_secret"]["secrets"]["configuration_version"]["inline_bytes"] = base64.b64encode(bytes([7])).decode()
    local_envoy.write_volume(key_file.parent, {key_file.name: yaml.safe_dump(document).encode()})
    host = planned.object("Certificate", "quic-quicstack-localhost")["spec"]["dnsNames"][0]
    with local_envoy.running_pod(pod) as envoy:
        cids = local_envoy.h3_get(host, pod.ports[3000], pod.certificate).server_cids
        log = envoy.output()
    assert "'configuration_version' was 7, but must be less than 7" in log
    assert cids and all(cid[0] >> 5 == 0b111 and pod.server_id() not in cid for cid in cids)


def test_eks_needs_the_nlb_server_id_length():
    demo = {"envoyDemo": {"serverIdLength": 6, "nonceLength": 8}}
    load({**BASE, **demo})  # fine elsewhere
    with pytest.raises(ConfigError) as err:
        load({**BASE, **demo, "cloud": "eks", "eks": {"region": "eu-west-1", "publicAccessCidrs": ["203.0.113.7/32"]},
              "relay": {"webPort": 4443}})
    assert str(err.value) == ("quicstack:envoyDemo.serverIdLength: 6 is not 8: on EKS the NLB reads, "
                              "and the load balancer controller injects, 8-byte server IDs")


@pytest.mark.parametrize("limit,workers", [("1", 1), ("500m", 1), ("1500m", 1), ("2.5", 2), ("4", 4)])
def test_workers_are_the_cpu_limit_in_whole_cores(limit, workers):
    assert load({**BASE, "envoyDemo": {"resources": {"cpuLimit": limit}}}).envoy_demo.concurrency == workers


@pytest.mark.parametrize("limit", ["fast", "0", "-1", "inf", "NaN"])
def test_a_cpu_limit_that_is_not_a_quantity_is_one_line(limit):
    assert one_line({"resources": {"cpuLimit": limit}}) == (
        f"quicstack:envoyDemo.resources.cpuLimit: '{limit}' is not a CPU quantity such as 1, 2.5 or 500m")
