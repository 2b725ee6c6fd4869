"""The relay's TOML: parses, holds only keys moq-relay documents, and says what the typed values say."""

import tomllib

import pytest

from components.workloads.relay.toml import AUTH_SOCKET, TLS_DIR, RelayToml, document, pattern, render

# Every key moq-relay 0.17.10 reads (its settings registry: `setting = "..."` in rs/moq-relay/src/*.rs and moq-tokio
# 0.19.31's listen/connect/tls/quic/log), written down here independently of the generator. 0.14 spellings
# (`server.*`, `client.*`, `auth.key_dir`, `cluster.linger`, `cluster.mesh`) are not in it: the relay refuses them.
DOCUMENTED = {
    "log.level",
    "listen.bind", "listen.tls.cert", "listen.tls.key", "listen.tls.generate", "listen.tls.root", "listen.lb_id",
    "listen.lb_nonce", "listen.tcp.bind", "listen.timeout",
    "connect.tls.cert", "connect.tls.key", "connect.tls.root", "connect.tls.system_roots", "connect.timeout",
    "web.http.listen", "web.https.listen", "web.https.cert", "web.https.key", "web.https.root", "web.ws",
    "internal.listen",
    "auth.url", "auth.public", "auth.public_subscribe", "auth.public_publish",
    "cluster.connect", "cluster.node", "cluster.connect_api", "cluster.token", "cluster.id", "cluster.tier",
    "cache.capacity", "cache.headroom", "cache.duration",
    "stats.enabled", "stats.node", "stats.prefix", "stats.interval",
}
ZERO_FOURTEEN = {"server", "client", "auth.key_dir", "auth.key", "cluster.linger", "cluster.mesh"}


def keys(doc: dict, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf value."""
    out = set()
    for k, v in doc.items():
        path = f"{prefix}{k}"
        out |= keys(v, f"{path}.") if isinstance(v, dict) else {path}
    return out


def config(**overrides) -> RelayToml:
    values = dict(quic_port=4443, web_port=4480, internal_port=9101, log_level="info", public_prefix="anon", web_tls=False)
    return RelayToml(**{**values, **overrides})


BASE = {"listen.bind", "listen.tls.cert", "listen.tls.key", "internal.listen", "auth.url", "log.level"}
VARIANTS = {
    "anonymous behind the ingress": (config(), BASE | {"web.http.listen"}),
    "anonymous, own TLS": (config(web_tls=True), BASE | {"web.https.listen", "web.https.cert", "web.https.key"}),
    "jwt": (config(auth="jwt"), BASE | {"web.http.listen"}),
    "with metrics": (config(stats=True), BASE | {"web.http.listen", "stats.enabled"}),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_toml_parses_and_holds_exactly_the_documented_keys_it_needs(variant):
    cfg, expected = VARIANTS[variant]
    parsed = tomllib.loads(render(cfg))
    assert parsed == document(cfg)
    assert keys(parsed) <= DOCUMENTED, keys(parsed) - DOCUMENTED
    assert keys(parsed) == expected
    assert not {k for k in keys(parsed) if any(k == old or k.startswith(f"{old}.") for old in ZERO_FOURTEEN)}


def test_listeners_bind_dual_stack_on_the_typed_ports():
    parsed = tomllib.loads(render(config(quic_port=5000, web_port=5001, internal_port=5002)))
    assert parsed["listen"]["bind"] == "[::]:5000"
    assert parsed["web"]["http"]["listen"] == "[::]:5001"
    assert parsed["internal"]["listen"] == "[::]:5002"


def test_ipv4_only_listeners_for_nodes_without_ipv6():
    parsed = tomllib.loads(render(config(web_tls=True, listen="ipv4")))
    assert [parsed["listen"]["bind"], parsed["web"]["https"]["listen"], parsed["internal"]["listen"]] == \
        ["0.0.0.0:4443", "0.0.0.0:4480", "0.0.0.0:9101"]


def test_log_level_is_in_the_file():
    # At 0.17 the command line's default no longer overrides the file (usage: CLI > env > file > defaults, and a
    # default is not a CLI value); the real relay test at debug shows it takes effect.
    assert tomllib.loads(render(config(log_level="debug")))["log"] == {"level": "debug"}


def test_tls_files_come_from_the_mounted_secret_directory():
    parsed = tomllib.loads(render(config(web_tls=True)))
    # cert-manager's Secret keys, under the directory the Secret volume is mounted at.
    assert parsed["listen"]["tls"] == {"cert": [f"{TLS_DIR}/tls.crt"], "key": [f"{TLS_DIR}/tls.key"]}
    assert parsed["web"]["https"]["cert"] == [f"{TLS_DIR}/tls.crt"]
    assert parsed["web"]["https"]["key"] == [f"{TLS_DIR}/tls.key"]


@pytest.mark.parametrize("auth", ["anonymous", "jwt"])
def test_every_session_goes_to_the_auth_server_on_its_socket(auth):
    assert tomllib.loads(render(config(auth=auth)))["auth"] == {"url": f"unix://{AUTH_SOCKET}"}


@pytest.mark.parametrize("prefix, expected", [("anon", "anon/**"), ("demo/open", "demo/open/**"), ("", "**")])
def test_a_prefix_becomes_the_pattern_of_its_subtree(prefix, expected):
    # 0.17 reads `anon` as exactly one broadcast and refuses a wildcard-free public rule.
    assert pattern(prefix) == expected


def test_a_tier_adds_only_documented_peer_keys():
    from components.workloads.relay.cluster import RelayCluster, with_cluster

    single = document(config())
    tier = with_cluster(single, RelayCluster(replicas=3, namespace="moq", peer_port=4490))
    added = keys(tier) - keys(single)
    assert added <= DOCUMENTED and added == {"web.https.listen", "web.https.cert", "web.https.key", "web.https.root",
                                             "connect.tls.cert", "connect.tls.key", "connect.tls.root",
                                             "cluster.connect_api"}
    # The peers get a listener of their own on the relay's wildcard; the public QUIC listener is left alone.
    assert tier["web"]["https"]["listen"] == "[::]:4490" and tier["listen"] == single["listen"]
    assert "root" not in single["listen"]["tls"]


def test_a_tier_refuses_a_relay_whose_tls_web_listener_is_public():
    from components.workloads.relay.cluster import RelayCluster, with_cluster

    with pytest.raises(ValueError, match=r"one \[web.https\] listener carries the public WebSocket fallback"):
        with_cluster(document(config(web_tls=True)), RelayCluster(replicas=2, namespace="moq", peer_port=4490))
