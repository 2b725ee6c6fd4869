"""``python -m tools.token``: what it prints, and one line + exit 2 for every bad input.

Whether the relay accepts the tokens is tested on the real relay
(tests/components/workloads/relay/test_relay_auth.py); here the token's structure is checked against
the JWS/JWK RFCs with an independent verification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support.plan import ROOT


def run(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.token", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def parts(token: str) -> tuple[dict, dict, bytes, bytes]:
    header, payload, signature = token.split(".")
    return json.loads(b64d(header)), json.loads(b64d(payload)), f"{header}.{payload}".encode(), b64d(signature)


def thumbprint(members: dict) -> str:
    return (
        base64.urlsafe_b64encode(
            hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).digest()
        )
        .rstrip(b"=")
        .decode()
    )


def test_an_es256_token_from_the_stack_outputs(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    proc = run(
        "--publish", "anon/demo", "--subscribe", "anon", "--ttl", "2h", stdin=json.dumps({"relayTokenKey": pem(key)})
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    (token,) = proc.stdout.splitlines()
    header, payload, signed, signature = parts(token)
    # RFC 7518 3.4: ES256 signatures are r || s, 32 octets each.
    key.public_key().verify(
        encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")),
        signed,
        ec.ECDSA(hashes.SHA256()),
    )
    n = key.public_key().public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": base64.urlsafe_b64encode(n.x.to_bytes(32, "big")).rstrip(b"=").decode(),
        "y": base64.urlsafe_b64encode(n.y.to_bytes(32, "big")).rstrip(b"=").decode(),
    }
    assert header == {"alg": "ES256", "kid": thumbprint(members), "typ": "JWT"}
    assert (payload["put"], payload["get"], payload["exp"] - payload["iat"]) == (["anon/demo"], ["anon"], 7200)
    assert "root" not in payload


def test_an_eddsa_jwk_key_file_and_a_publish_only_token(tmp_path):
    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "d": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        "x": base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
    }
    (tmp_path / "key.jwk").write_text(json.dumps(jwk))
    proc = run("--key", str(tmp_path / "key.jwk"), "--publish", "live", "--publish", "/backup/")
    assert proc.returncode == 0, proc.stderr
    header, payload, signed, signature = parts(proc.stdout.strip())
    key.public_key().verify(signature, signed)
    assert header["alg"] == "EdDSA" and header["kid"] == thumbprint({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]})
    assert payload["put"] == ["live", "backup"] and "get" not in payload and payload["exp"] - payload["iat"] == 3600


def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


EC_OUTPUTS = json.dumps({"relayTokenKey": pem(ec.generate_private_key(ec.SECP256R1()))})
BAD = [
    (["--ttl", "1h"], EC_OUTPUTS, "the token would grant nothing: give --publish PREFIX and/or --subscribe PREFIX"),
    (["--publish", "anon//x"], EC_OUTPUTS, "argument --publish: 'anon//x' is not a broadcast path prefix"),
    (["--subscribe", "anon x"], EC_OUTPUTS, "argument --subscribe: 'anon x' is not a broadcast path prefix"),
    (["--publish", "anon", "--ttl", "0s"], EC_OUTPUTS, "argument --ttl: '0s' is not a lifetime"),
    (["--publish", "anon", "--ttl", "400d"], EC_OUTPUTS, "argument --ttl: '400d' is not a lifetime"),
    (["--publish", "anon", "--ttl", "400d", "--long-lived"], EC_OUTPUTS, "argument --ttl: '400d' is not a lifetime"),
    (
        ["--publish", "anon", "--ttl", "30d"],
        EC_OUTPUTS,
        "--ttl 30d is longer than 7d, the limit without --long-lived (which allows up to 366d): a leaked token works "
        "until it expires, and rotating the signing key is the only revocation",
    ),
    (["--publish", "anon", "--ttl", "169h"], EC_OUTPUTS, "--ttl 169h is longer than 7d"),
    (["--publish", "anon", "--ttl", "1 hour"], EC_OUTPUTS, "argument --ttl: '1 hour' is not a lifetime"),
    (["--publish", "anon", "--stack", "k3s", "--key", "x.pem"], "", "give either --stack or --key, not both"),
    (
        ["--publish", "anon", "--key", "/nonexistent/key.pem"],
        "",
        "--key /nonexistent/key.pem: cannot read it (No such file or directory)",
    ),
    (["--publish", "anon"], "", "no signing key: stdin is empty"),
    (["--publish", "anon"], "not json", "stdin is not JSON"),
    (
        ["--publish", "anon"],
        json.dumps({"relayTokenKey": "[secret]"}),
        "relayTokenKey in the piped outputs is redacted: read the outputs with --show-secrets",
    ),
    (
        ["--publish", "anon"],
        json.dumps({"relayUrl": "https://relay.example.com"}),
        "no relayTokenKey output in the piped outputs: its relay takes no tokens from this stack's key",
    ),
    (
        ["--publish", "anon"],
        json.dumps({"relayTokenKey": rsa_pem()}),
        "the signing key is unusable: the key is neither ECDSA P-256 (ES256) nor Ed25519 (EdDSA)",
    ),
    (
        ["--publish", "anon"],
        json.dumps({"relayTokenKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
        "the signing key is unusable: not an unencrypted PEM private key or a private JWK",
    ),
    (["--publish", "anon", "--bogus"], EC_OUTPUTS, "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize("args,stdin,message", BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_input_is_one_line_and_exit_2(args, stdin, message):
    proc = run(*args, stdin=stdin)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: {message}"), line
    assert "BEGIN PRIVATE KEY" not in proc.stderr


def test_stack_without_the_pulumi_cli_is_one_line(tmp_path):
    proc = run("--stack", "k3s", "--publish", "anon", env={"PATH": str(tmp_path)})
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "--stack needs the Pulumi CLI" in line


@pytest.mark.parametrize(
    "args,lifetime",
    [
        (["--ttl", "7d"], 7 * 86400),
        (["--ttl", "168h"], 7 * 86400),
        (["--ttl", "30d", "--long-lived"], 30 * 86400),
        (["--ttl", "366d", "--long-lived"], 366 * 86400),
        (["--long-lived"], 3600),
    ],
)
def test_a_week_at_most_unless_long_lived(args, lifetime):
    """A leaked token works until it expires (key rotation is the only revocation): 7d unless asked for more."""
    proc = run("--publish", "anon", *args, stdin=EC_OUTPUTS)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    _, payload, _, _ = parts(proc.stdout.strip())
    assert payload["exp"] - payload["iat"] == lifetime
