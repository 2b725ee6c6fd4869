"""Keys the program would never read are refused (also under the Pulumi CLI, which hands the program
every key of the stack file), and an error line never repeats a value that looks like key material."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stacks.config import ConfigError, load
from components.shared.errors import HIDDEN, looks_like_key_material
from stacks.config.keys import check
from stacks.config.settings import Settings
from tests.support.plan import ROOT

KNOWN = list(Settings.model_fields_by_alias())


@pytest.mark.parametrize("key,message", [
    ("quickstack:relay", "quickstack:relay: is not in the quicstack namespace, so nothing would read it; did you mean quicstack:relay?"),
    ("quicstak:envoyDemo", "quicstak:envoyDemo: is not in the quicstack namespace, so nothing would read it; "
                           "did you mean quicstack:envoyDemo?"),
    ("quicstack-k3s:k3s", "quicstack-k3s:k3s: is not in the quicstack namespace, so nothing would read it; did you mean quicstack:k3s?"),
    ("domain", "domain: has no namespace: write quicstack:domain"),
    ("quicstack:web.host", "quicstack:web.host: is a dotted key written literally; nest it instead: quicstack:web: {host: ...}"),
])
def test_keys_outside_the_project_are_refused(key, message):
    with pytest.raises(ConfigError) as err:
        check({"quicstack:domain": "example.com", key: "x"}, KNOWN)
    assert str(err.value) == message


def test_project_and_engine_keys_pass():
    check({"quicstack:domain": "x", "quicstack:relay": "{}", "pulumi:disable-default-providers": "[]"}, KNOWN)


def _from_pulumi(config: dict, secret_keys: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """``from_pulumi`` with the runtime config the CLI would set, in a process of its own (global state); ``env``
    adds what the engine's language host sets instead (``PULUMI_CONFIG``)."""
    code = ("import json, sys, pulumi.runtime.config as c; from stacks.config import from_pulumi, ConfigError\n"
            "c.set_all_config(json.loads(sys.argv[1]), json.loads(sys.argv[2]))\n"
            "try:\n    from_pulumi(); print('ok')\nexcept ConfigError as e:\n    print(e)\n")
    return subprocess.run([sys.executable, "-c", code, json.dumps(config), json.dumps(secret_keys)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_keys_the_engine_passes_in_its_environment_are_checked_too():
    """The language host hands the program its config as PULUMI_CONFIG: the SDK-internal table read there must
    still be where the pinned SDK keeps it (a moved table would let every misspelt key through silently)."""
    engine = {"quicstack:domain": "example.com", "quicstack:relay": '{"replicas": 2, "sessionAffinty": "ClientIP"}'}
    out = _from_pulumi({}, [], {"PULUMI_CONFIG": json.dumps(engine)}).stdout
    assert out.startswith("quicstack:relay.sessionAffinty:") and "sessionAffinity" in out, out


def test_under_the_cli_a_foreign_namespace_and_a_secret_value_are_refused():
    # A name of one's own: under the engine a documentation name (example.com) is refused (tests/stacks/config/
    # test_examples.py).
    base = {"quicstack:domain": "quic.owned-domain.net", "pulumi:disable-default-providers": '["aws"]'}
    assert _from_pulumi(base, []).stdout == "ok\n"
    assert _from_pulumi({**base, "quickstack:relay": '{"enabled": false}'}, []).stdout == (
        "quickstack:relay: is not in the quicstack namespace, so nothing would read it; did you mean quicstack:relay?\n")
    assert _from_pulumi(base, ["quicstack:domain"]).stdout == (
        "quicstack:domain: is an encrypted (secure:) value, but no quicstack key is a secret: write it in plain text "
        "(`pulumi config set` without --secret)\n")


PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oG9ly3ZPP5tqoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n"
JWK = '{"kty":"oct","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}'
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb290IjoiIiwicHViIjoiIn0.q0lHcv3kKD8BQ4m0KtT6Qk1OAJ7VtV0rzFq3vxnh2sM"
B64 = "3q2+7wAAAAEAAAAC9qkTdNtBZWx0kW3vVf8pZg=="
PASTED = ("in plain stack config, which is committed and shown by `pulumi config`: remove it (and rotate it if the "
          "file was shared); keep it in a file or a Kubernetes Secret outside the stack config, and name that")


@pytest.mark.parametrize("override,message", [
    # A private key or token is refused as a credential in plain config before the key's own rule, still unechoed.
    ({"relay": {"jwtKey": PEM}}, f"quicstack:relay.jwtKey: holds a PEM private key {PASTED}"),
    ({"relay": {"jwtKey": JWK}}, f"quicstack:relay.jwtKey: {HIDDEN} is not one of generate, existing"),
    ({"relay": {"jwtKey": JWT}}, f"quicstack:relay.jwtKey: holds a bearer token (JWT) {PASTED}"),
    ({"relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": B64}},
     f"quicstack:relay.jwtKeySecret: {HIDDEN} is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
    ({"relay": {"auth": "jwt", "jwtKey": "existing", "jwtKeySecret": JWK}},
     f"quicstack:relay.jwtKeySecret: {HIDDEN} is not a Secret name (lower-case a-z, 0-9, '-' and '.')"),
    ({"relay": {"jwtKeySecret": "0123456789abcdef0123456789abcdef"}},
     f"quicstack:relay.jwtKeySecret: {HIDDEN} is set, but is only read with relay.jwtKey existing and relay.auth jwt "
     "(here anonymous)"),
])
def test_errors_never_echo_key_material(override, message):
    with pytest.raises(ConfigError) as err:
        load({"domain": "example.com", **override})
    assert str(err.value) == message
    for secret in (PEM, JWK, JWT, B64):
        assert secret.strip() not in str(err.value)


@pytest.mark.parametrize("text", ["relay.example.com", "moqdev/moq-relay:0.17.10", "Z0123456789ABCDEFGHIJ",
                                  "arn:aws:iam::123456789012:role/Admin", "relay-auth-for-the-production-cluster",
                                  "nginx@sha256:" + "a" * 64, "Relay Host"])
def test_ordinary_values_are_still_shown(text):
    assert not looks_like_key_material(text)
