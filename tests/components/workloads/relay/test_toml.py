"""The relay's TOML: parses, holds only keys moq-relay documents, and says what the typed values say."""

import tomllib

import pytest

from components.workloads.relay.toml import AUTH_DIR, TLS_DIR, RelayToml, document, environment, render

# Every key moq-relay 0.14 documents, per /work/shared/research/moq.md section 3.3 (current docs and
# demo/relay/*.toml), written down here independently of the generator.
DOCUMENTED = {
    "log.level",
    "server.bind", "server.listen",
    "server.tls.cert", "server.tls.key", "server.tls.generate", "server.tls.root",
    "web.http.listen",
    "web.https.listen", "web.https.cert", "web.https.key",
    "internal.listen",
    "auth.key", "auth.key_dir", "auth.public", "auth.public.subscribe", "auth.public.publish",
    "cluster.connect", "cluster.node", "cluster.mesh", "cluster.connect_api", "cluster.token", "cluster.id", "cluster.linger",
    "client.tls.root", "client.tls.cert", "client.tls.key", "client.tls.disable_verify", "client.timeout",
    "cache.capacity", "cache.headroom", "cache.duration",
    "stats.enabled", "stats.node", "stats.prefix",
    "iroh.enabled",
}


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


VARIANTS = {
    "anonymous behind the ingress": (config(), {"server.bind", "server.tls.cert", "server.tls.key", "web.http.listen", "internal.listen", "auth.public"}),
    "anonymous, own TLS": (config(web_tls=True), {"server.bind", "server.tls.cert", "server.tls.key", "web.https.listen", "web.https.cert",
                                                 "web.https.key", "internal.listen", "auth.public"}),
    "jwt": (config(auth="jwt"), {"server.bind", "server.tls.cert", "server.tls.key", "web.http.listen", "internal.listen", "auth.key_dir",
                                 "auth.public.subscribe"}),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_toml_parses_and_holds_exactly_the_documented_keys_it_needs(variant):
    cfg, expected = VARIANTS[variant]
    parsed = tomllib.loads(render(cfg))
    assert parsed == document(cfg)
    assert keys(parsed) <= DOCUMENTED, keys(parsed) - DOCUMENTED
    assert keys(parsed) == expected


def test_listeners_bind_dual_stack_on_the_typed_ports():
    parsed = tomllib.loads(render(config(quic_port=5000, web_port=5001, internal_port=5002)))
    assert parsed["server"]["bind"] == "[::]:5000"
    assert parsed["web"]["http"]["listen"] == "[::]:5001"
    assert parsed["internal"]["listen"] == "[::]:5002"


def test_ipv4_only_listeners_for_nodes_without_ipv6():
    parsed = tomllib.loads(render(config(web_tls=True, listen="ipv4")))
    assert [parsed["server"]["bind"], parsed["web"]["https"]["listen"], parsed["internal"]["listen"]] == \
        ["0.0.0.0:4443", "0.0.0.0:4480", "0.0.0.0:9101"]


def test_log_level_travels_in_the_environment_not_the_file():
    # moq-relay 0.14.12 re-applies its command line (default level info) over the file's [log] level.
    assert "log" not in tomllib.loads(render(config(log_level="debug")))
    assert environment(config(log_level="debug")) == [{"name": "MOQ_LOG_LEVEL", "value": "debug"}]


def test_tls_files_come_from_the_mounted_secret_directory():
    parsed = tomllib.loads(render(config(web_tls=True)))
    # cert-manager's Secret keys, under the directory the Secret volume is mounted at.
    assert parsed["server"]["tls"] == {"cert": [f"{TLS_DIR}/tls.crt"], "key": [f"{TLS_DIR}/tls.key"]}
    assert (parsed["web"]["https"]["cert"], parsed["web"]["https"]["key"]) == (f"{TLS_DIR}/tls.crt", f"{TLS_DIR}/tls.key")


def test_anonymous_opens_the_prefix_and_jwt_opens_it_for_subscribing_only():
    assert tomllib.loads(render(config(public_prefix="demo/open")))["auth"] == {"public": "demo/open"}
    jwt = config(auth="jwt", public_prefix="demo/open")
    assert tomllib.loads(render(jwt))["auth"] == {"key_dir": AUTH_DIR, "public": {"subscribe": ["demo/open"]}}
    assert jwt.key_dir == AUTH_DIR and config().key_dir is None

