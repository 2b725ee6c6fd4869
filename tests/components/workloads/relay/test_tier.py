"""Three real relays form a tier from the values the plan renders: a broadcast published into relay 0 is
watched through relay 2, keeps flowing when relay 1 stops, and a peer without the cluster CA is refused."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from tests.support import relay_cluster
from tests.support.moq_flow import live_flow
from tests.support.pki import LocalCA

# The default local stack scaled to three relays (sessionAffinity is what it takes outside EKS), with the
# PodMonitor, so the planned TOML also counts sessions on /metrics.
TIER = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
        "quicstack:acme": {"environment": "selfsigned"},
        "quicstack:relay": {"replicas": 3, "sessionAffinity": "ClientIP", "metrics": "podmonitor"}}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    from tests.support.plan import Plan, run_plan

    out = tmp_path_factory.mktemp("tier-plan")
    (out / "Pulumi.tier.yaml").write_text(yaml.safe_dump({"config": TIER}))
    run = run_plan(out / "Pulumi.tier.yaml", out / "plan")
    assert run.returncode == 0, run.stderr
    return Plan(out / "plan" / "tier")


def template(plan) -> relay_cluster.PodTemplate:
    """The planned StatefulSet's pod, its ConfigMaps and the Certificates cert-manager would issue."""
    return relay_cluster.from_plan(plan)


@pytest.fixture
def tier(tmp_path, planned):
    public_ca = LocalCA("public CA")
    relays = relay_cluster.lay_out(template(planned), 3, tmp_path, public_ca)
    (tmp_path / "public-ca.crt").write_bytes(public_ca.pem)
    with relay_cluster.running(relays) as running:
        yield running, tmp_path / "public-ca.crt"


def test_published_into_relay_0_watched_through_relay_2_survives_relay_1(tier):
    running, ca = tier
    stopped_at = []

    def stop_relay_1(flow):
        stopped_at.append(time.monotonic())
        running.stop(1)

    flow = live_flow(f"{running.relays[0].url}/anon", f"{running.relays[2].url}/anon", ca, "clock",
                     before=2, after=3, during=stop_relay_1)
    before = [n for t, n in flow.received if t <= stopped_at[0]]
    after = flow.numbers_after(stopped_at[0] + 0.5)
    assert len(before) >= 10, flow.received
    # Relay 0 and relay 2 hold a direct link: losing relay 1 costs no frame of this broadcast.
    assert len(after) >= 20, (flow.received, running.log(2)[-3000:])
    assert after == list(range(after[0], after[0] + len(after)))


def announced_within(url: str, ca, broadcast: str, seconds: float, cert: tuple[str, str]) -> bool:
    """Whether ``broadcast`` is announced at ``url`` within ``seconds`` to a client holding ``cert``."""
    import asyncio

    import moq

    async def watch() -> bool:
        async with moq.Client(url, tls_roots=[str(ca)], tls_cert=cert[0], tls_key=cert[1],
                              websocket_enabled=url.startswith("wss://"), reconnect=False) as client:
            try:
                await asyncio.wait_for(client.announced_broadcast(broadcast).available(), seconds)
                return True
            except asyncio.TimeoutError:
                return False

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(watch())
    finally:
        loop.close()


@pytest.mark.parametrize("credential", ["a foreign CA", "no certificate"])
def test_a_peer_without_the_cluster_ca_is_refused(tier, tmp_path, planned, credential):
    """A relay that is not part of the tier dials relay 0's peer port and offers a broadcast outside the public prefix:
    it never reaches relay 2. The same broadcast from a holder of the cluster certificate does."""
    import asyncio

    import moq

    running, ca = tier
    # The rogue serves a certificate of its own; what matters is the client credential it dials with.
    rogue = relay_cluster.lay_out(template(planned), 1, tmp_path / "rogue", LocalCA("rogue public"),
                                  LocalCA("rogue peers"))[0]
    rogue.config["auth"] = {"public": ["**"]}  # the attacker's relay takes anything
    del rogue.config["web"]["https"]  # (0.17 refuses a client CA under public rules)
    rogue.auth = ([], None)
    if credential == "no certificate":
        del rogue.config["connect"]["tls"]["cert"], rogue.config["connect"]["tls"]["key"]
    rogue.config["connect"]["tls"]["root"] = [running.relays[0].peer_ca]
    rogue.save()
    rogue.dial([f"wss://127.0.0.1:{running.relays[0].peer_port}/"])
    member = running.relays[1].peer_certificate
    peers_ca = running.relays[0].peer_ca
    with relay_cluster.running([rogue]) as outsider:
        async def publish_both() -> tuple[bool, bool]:
            rogue_ca = Path(rogue.config["listen"]["tls"]["cert"][0]).parent / "ca.crt"
            async with moq.Client(f"{rogue.url}/", tls_roots=[str(rogue_ca)], websocket_enabled=False,
                                  reconnect=False) as evil, \
                    moq.Client(f"wss://127.0.0.1:{running.relays[1].peer_port}/", tls_roots=[peers_ca],
                               tls_cert=member[0], tls_key=member[1], reconnect=False) as good:
                held = [evil.create_broadcast("private/evil"), good.create_broadcast("private/good")]
                for producer in held:
                    producer.publish_track("frames")
                    producer.announce()
                await asyncio.sleep(1)
                loop = asyncio.get_running_loop()
                watch = running.relays[2]
                seen = [await loop.run_in_executor(None, announced_within, f"wss://127.0.0.1:{watch.peer_port}/",
                                                   peers_ca, path, wait, member)
                        for path, wait in (("private/good", 5), ("private/evil", 3))]
                good_seen, evil_seen = seen
                return good_seen, evil_seen

        loop = asyncio.new_event_loop()
        try:
            good_seen, evil_seen = loop.run_until_complete(asyncio.wait_for(publish_both(), 30))
        finally:
            loop.close()
        assert good_seen, running.log(2)[-3000:]
        assert not evil_seen, running.log(0)[-3000:]
        # Relay 0 ends the handshake when the rogue's client certificate is not from the tier's CA (the rogue keeps
        # redialling); without a certificate it connects as an ordinary client, with the public rules only.
        connected = "connected peer=wss://" in re.sub(r"\x1b\[[0-9;]*m", "", outsider.log(0))
        assert connected == (credential == "no certificate"), outsider.log(0)[-3000:]


def metrics(relay) -> dict[tuple[str, tuple], float]:
    """The relay's ``/metrics`` through prometheus_client's text parser: (sample name, labels) -> value."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{relay.internal_port}/metrics", timeout=5) as response:
        assert response.headers.get_content_type() == "text/plain"
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_parse_as_prometheus_text_and_count_a_session(tier):
    import asyncio

    import moq

    running, ca = tier
    relay = running.relays[2]
    opened = ("moq_relay_sessions_opened_total", (("tier", ""),))
    before = metrics(relay)
    # The alert the README pages on exists before anything fails, at zero.
    exhausted = {k: v for k, v in before.items()
                 if k[0] == "moq_relay_accept_failures_total" and ("class", "exhausted") in k[1]}
    assert exhausted and set(exhausted.values()) == {0.0}

    async def connect_and_read() -> dict:
        async with moq.Client(f"{relay.url}/anon", tls_roots=[str(ca)], websocket_enabled=False, reconnect=False):
            await asyncio.sleep(0.5)
            return metrics(relay)

    loop = asyncio.new_event_loop()
    try:
        during = loop.run_until_complete(asyncio.wait_for(connect_and_read(), 20))
    finally:
        loop.close()
    assert during.get(opened, 0) >= before.get(opened, 0) + 1, sorted(k for k in during if "session" in k[0])
