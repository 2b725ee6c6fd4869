"""The peers' own port, with real relays: three moq-relay 0.17.10 processes (and their auth servers) run a tier planned
with tokens (``relay.auth: jwt``), its peer certificate from a CA constrained to the tier's names as planned.

Peer links use the ``[web.https]`` listener of each relay (``wss://``, mutual TLS) and nothing else: a broadcast
published on relay 0 plays through relay 2; a peer certificate shown on the public QUIC port grants only the public
rules; a valid token without a peer certificate on the peer port grants only what the token names; a certificate
from another CA, or from the tier's CA for a name outside the tier's domain, does not get through the handshake.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Optional

import pytest
import yaml

from components.workloads.relay import keys

from tests.support import relay_cluster
from tests.support.pki import LocalCA

TIER = {"quicstack:cloud": "existing", "quicstack:domain": "quicstack.localhost",
        "quicstack:acme": {"environment": "selfsigned"},
        "quicstack:relay": {"replicas": 3, "sessionAffinity": "ClientIP", "auth": "jwt"}}
PRIVATE = "private/feed"
"""A path outside the public prefix and outside the tokens' root: only a peer (or a token for it) may use it."""


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    from tests.support.plan import Plan, run_plan

    out = tmp_path_factory.mktemp("peer-port-plan")
    (out / "Pulumi.peers.yaml").write_text(yaml.safe_dump({"config": TIER}))
    run = run_plan(out / "Pulumi.peers.yaml", out / "plan", "--show-secrets")
    assert run.returncode == 0, run.stderr
    return Plan(out / "plan" / "peers")


@pytest.fixture(scope="module")
def tier(tmp_path_factory, planned):
    """The running tier, its public CA file and the (constrained) peer CA that signed its peer certificate."""
    root = tmp_path_factory.mktemp("peer-port-tier")
    template = relay_cluster.from_plan(planned)
    public_ca, peer_ca = LocalCA("public CA"), relay_cluster.peer_ca(template)
    assert peer_ca.permitted_dns == ("relay-peers.moq.svc.cluster.local",)
    relays = relay_cluster.lay_out(template, 3, root, public_ca, peer_ca)
    (root / "public-ca.crt").write_bytes(public_ca.pem)
    with relay_cluster.running(relays) as running:
        yield running, root / "public-ca.crt", peer_ca


def token(plan, root: str = "anon") -> str:
    """A publish-and-subscribe token under ``root``, signed with the stack's key."""
    now = int(time.time())
    return keys.sign(keys.load_private_key(plan.outputs["relayTokenKey"]),
                     {"root": root, "put": [""], "get": [""], "iat": now - 60, "exp": now + 600})


def public(relay, path: str = "", jwt: Optional[str] = None) -> str:
    return f"{relay.url}/{path}" + (f"?jwt={jwt}" if jwt else "")


def peer(relay, path: str = "", jwt: Optional[str] = None) -> str:
    """The relay's peer listener, as another relay dials it (WebSocket over TLS, by address)."""
    return f"wss://127.0.0.1:{relay.peer_port}/{path}" + (f"?jwt={jwt}" if jwt else "")


def client(url: str, roots: list[str], cert: Optional[tuple[str, str]] = None):
    import moq

    tls = {"tls_cert": cert[0], "tls_key": cert[1]} if cert else {}
    # One transport per URL (QUIC for https://, WebSocket for wss://) and one dial: a refusal fails at once.
    return moq.Client(url, tls_roots=roots, websocket_enabled=url.startswith("wss://"), reconnect=False, **tls)


def run(coroutine, seconds: float = 40):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(coroutine, seconds))
    finally:
        loop.close()


async def publishing(stack: AsyncExitStack, url: str, roots: list[str], name: str,
                     cert: Optional[tuple[str, str]] = None) -> None:
    """A session that announces ``name`` (one track) until ``stack`` closes."""
    session = await stack.enter_async_context(client(url, roots, cert))
    producer = session.create_broadcast(name)
    producer.publish_track("frames")
    producer.announce()
    stack.callback(lambda: producer)  # held until the stack closes: dropping the last handle ends the broadcast


async def seen(url: str, roots: list[str], name: str, seconds: float, cert: Optional[tuple[str, str]] = None) -> bool:
    """Whether ``name`` is announced to a session at ``url`` within ``seconds``."""
    async with client(url, roots, cert) as session:
        try:
            await asyncio.wait_for(session.announced_broadcast(name).available(), seconds)
            return True
        except asyncio.TimeoutError:
            return False


def peer_roots(relay) -> list[str]:
    return [relay.peer_ca]


def test_peers_dial_only_each_others_peer_port_and_a_published_broadcast_plays_through_relay_2(tier, planned):
    running, ca, _ = tier
    for relay in running.relays:
        listed = json.loads(Path(relay.config["cluster"]["connect_api"]).read_text())
        assert listed == [peer(r) for r in running.relays], listed
    first, last = running.relays[0], running.relays[2]

    async def scenario() -> bool:
        async with AsyncExitStack() as stack:
            await publishing(stack, public(first, "anon", token(planned)), [str(ca)], "tiered")
            return await seen(public(last, "anon"), [str(ca)], "tiered", 10)

    assert run(scenario()), running.log(2)[-3000:]


def test_a_peer_certificate_on_the_public_port_grants_only_the_public_rules(tier):
    """A member's certificate is asked for by nobody on the public port: publishing or reading a private path there
    fails, while the same certificate on the peer port does both."""
    running, ca, _ = tier
    member = running.relays[1].peer_certificate
    first, last = running.relays[0], running.relays[2]

    async def scenario() -> tuple[bool, bool, bool]:
        async with AsyncExitStack() as stack:
            await publishing(stack, public(first), [str(ca)], "private/via-public", member)
            await publishing(stack, peer(first), peer_roots(first), PRIVATE, member)
            via_peer = await seen(peer(last), peer_roots(last), PRIVATE, 10, member)
            public_read = await seen(public(last), [str(ca)], PRIVATE, 3, member)
            public_publish = await seen(peer(last), peer_roots(last), "private/via-public", 3, member)
            return via_peer, public_read, public_publish

    via_peer, public_read, public_publish = run(scenario())
    assert via_peer, running.log(2)[-3000:]
    assert not public_read and not public_publish


def test_a_token_without_a_peer_certificate_gets_only_its_own_paths_on_the_peer_port(tier, planned):
    running, ca, _ = tier
    member = running.relays[1].peer_certificate
    first, last = running.relays[0], running.relays[2]
    jwt = token(planned)

    async def scenario() -> tuple[bool, bool, bool]:
        async with AsyncExitStack() as stack:
            await publishing(stack, peer(first, "anon", jwt), peer_roots(first), "by-token")
            await publishing(stack, peer(first, "", jwt), peer_roots(first), "private/by-token")
            await publishing(stack, peer(first), peer_roots(first), PRIVATE, member)
            own = await seen(public(last, "anon"), [str(ca)], "by-token", 10)
            private = await seen(peer(last), peer_roots(last), "private/by-token", 3, member)
            read = await seen(peer(last, "", jwt), peer_roots(last), PRIVATE, 3)
            return own, private, read

    own, private, read = run(scenario())
    # What the token names works on either port; nothing a peer may do does.
    assert own, running.log(0)[-3000:]
    assert not private and not read


@pytest.mark.parametrize("credential", ["another CA", "a name outside the tier"])
def test_the_peer_port_refuses_a_certificate_the_tier_did_not_issue_for_its_names(tier, tmp_path, credential):
    running, ca, peer_ca = tier
    # A tier's name from a stranger, or a stranger's name from the tier's CA.
    issuer, name = ((LocalCA("rogue peers"), "relay-9.relay-peers.moq.svc.cluster.local") if credential == "another CA"
                    else (peer_ca, "relay.evil.example"))
    files = issuer.issue([name], client_auth=True)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    forged = (str(tmp_path / "tls.crt"), str(tmp_path / "tls.key"))
    relay = running.relays[0]

    async def attempt() -> Optional[str]:
        try:
            async with client(peer(relay), peer_roots(relay), forged) as session:
                await asyncio.wait_for(session.announced_broadcast(PRIVATE).available(), 3)
        except Exception as error:  # the handshake fails: the client reports the relay's alert
            return f"{type(error).__name__}: {error}"
        return None

    refused = run(attempt())
    # The relay ends the handshake with an alert (it logs nothing for it): an unknown issuer is "UnknownCA"; the
    # tier's own CA for another name only differs from a member's certificate by the name, which the CA's name
    # constraint forbids, and rustls answers "CertificateUnknown" (webpki's NameConstraintViolation).
    alert = "UnknownCA" if credential == "another CA" else "CertificateUnknown"
    assert refused and f"received fatal alert: {alert}" in refused, refused
