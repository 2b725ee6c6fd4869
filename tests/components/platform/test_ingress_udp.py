"""``ingress.relayUdp``: QUIC to the real relay through the UDP server block ingress-nginx renders.

ingress-nginx ends a UDP session after ``proxy-stream-responses`` answers from the backend (default
1), which breaks QUIC. The stack sets it on the controller; here Debian's nginx runs the block the
chart would render from the planned release values (``tests/support/nginx_udp.py``) in front of the
real moq-relay running the planned TOML, and real MoQ clients publish directly and subscribe through
nginx. The same block rendered from the controller's defaults must fail: that is the defect.
"""

from __future__ import annotations

import pytest
import yaml

from tests.support import nginx_udp, relay
from tests.support.envoy import free_port
from tests.support.moq_client import round_trip, sample_frames, session_url
from tests.support.plan import Plan, run_plan

# The local stack (self-signed, anonymous publishing allowed) on a cluster whose load balancer takes
# TCP and UDP in one Service, with the relay's UDP carried by the ingress controller.
CONFIG = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
          "quicstack:acme": {"environment": "selfsigned"}, "quicstack:existing": {"mixedProtocol": True},
          "quicstack:ingress": {"relayUdp": True}}
PUBLIC = "anon"


def controller_values(p) -> dict:
    (release,) = [r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "ingress-nginx"]
    return release["inputs"]["values"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    work = tmp_path_factory.mktemp("relay-udp")
    (work / "Pulumi.relayudp.yaml").write_text(yaml.safe_dump({"config": CONFIG}))
    run = run_plan(work / "Pulumi.relayudp.yaml", work / "out", "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(work / "out" / "relayudp")


def test_relay_udp_keeps_the_udp_session_open(planned):
    values = controller_values(planned)
    assert values["udp"], "the relay's UDP port is not carried by the controller"
    # A string: the chart's toString would print a number as 2.147483647e+09, which the controller rejects.
    # Beside the access log format (test_platform_security.py), the only setting changed.
    assert values["controller"]["config"].keys() == {"proxy-stream-responses", "log-format-upstream"}
    assert values["controller"]["config"]["proxy-stream-responses"] == "2147483647"
    assert "proxy_responses 2147483647;" in nginx_udp.udp_server_block("127.0.0.1:1", values["controller"]["config"])


def test_without_relay_udp_the_controller_keeps_its_defaults(plan):
    values = controller_values(plan("local"))
    assert values["udp"] == {} and "proxy-stream-responses" not in values["controller"]["config"]


@pytest.mark.parametrize("value, responses", [
    ("2147483647", 2147483647), (2147483647, 1), (2147483647.0, 1), ("12", 12), (12, 12), ("many", 1)])
def test_rendering_follows_the_chart_and_the_controller(value, responses):
    """What the controller makes of a value: numbers from 1e6 up reach it as 2.147483647e+09 and are ignored."""
    assert nginx_udp.controller_settings({"proxy-stream-responses": value})["proxy-stream-responses"] == responses


def _through_nginx(p, tmp_path, config: dict):
    """Publish directly to the relay, subscribe through nginx's UDP block rendered from ``config``."""
    pod = relay.materialize(p, tmp_path / "pod")
    listen = f"127.0.0.1:{free_port()}"
    block = nginx_udp.udp_server_block(listen, config)
    # One group (the subscriber reads groups in order and skips ahead past late ones), 240 KiB: some
    # hundred datagrams each way after the handshake, all in one UDP session.
    frames = sample_frames(60, size=4096)
    with relay.running(pod) as running, nginx_udp.running(block, f"127.0.0.1:{pod.quic_port}", tmp_path / "nginx"):
        publisher, subscriber, received = round_trip(
            session_url(pod.url, PUBLIC), session_url(f"https://{listen}", PUBLIC), pod.ca_file, frames,
            tmp_path / "peers", group_size=len(frames), wait=8)
        return publisher, subscriber, received, frames, running.output()


def test_quic_through_the_rendered_udp_block_reaches_the_relay(planned, tmp_path):
    publisher, subscriber, received, frames, log = _through_nginx(
        planned, tmp_path, controller_values(planned)["controller"]["config"])
    assert subscriber.returncode == 0, f"{subscriber}\nrelay: {log[-2000:]}"
    assert publisher.has("sent") and received == frames


def test_with_the_controller_default_quic_through_nginx_fails(planned, tmp_path):
    """The block nginx renders without the setting: one answer ends the session, the handshake never completes."""
    publisher, subscriber, received, _, _ = _through_nginx(planned, tmp_path, {})
    assert subscriber.returncode != 0 and not subscriber.has("connected"), subscriber
    assert received == []
