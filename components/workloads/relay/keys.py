"""The relay's token keys and tokens in moq-token's format, without the Rust CLI.

Pure: no Pulumi, no I/O. The stack generates an ES256 (ECDSA P-256) key pair; the cluster gets only
the public half as a JWK file ``<kid>.jwk`` in the auth server's ``--key-dir``; the private half signs
tokens (``tools.token``). The ``kid`` is the key's RFC 7638 thumbprint, so it follows from the key
alone and two keys never share one.

JWK conversion, thumbprints and JWS signing are jwcrypto's (``jwcrypto.jwk``, ``jwcrypto.jwt``); this
module only restricts keys to the two algorithms moq-token takes and shapes the JWK and claims.

Formats: moq-token 0.7.2 (what moq-cli 0.14.10's ``moq auth serve`` verifies with), ``src/key.rs`` (JWK:
``kty``/``crv``/``x``/``y``, ``alg``, ``key_ops``, ``kid``) and ``src/claims.rs`` (claims ``root``, ``put``,
``get``, ``exp``, ``iat``; ``put``/``get`` are still read as path prefixes), and moq-cli's ``src/auth.rs``
(``{kid}.jwk`` in ``--key-dir``). The same format moq-relay 0.14.12 read itself, so tokens outlive the upgrade.
"""

from __future__ import annotations

import json
from typing import Optional, Union

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwcrypto import jwk as jose_jwk
from jwcrypto import jwt as jose_jwt
from jwcrypto.common import JWException

PrivateKey = Union[ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
PublicKey = Union[ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey]

ALGORITHMS = {("EC", "P-256"): "ES256", ("OKP", "Ed25519"): "EdDSA"}
"""The key types moq-token signs and verifies with, and their JWS ``alg``."""


class BadKey(ValueError):
    """A key that is not an ES256 (P-256) or EdDSA (Ed25519) key in PEM or JWK form."""


def _jwk(key: Union[PrivateKey, PublicKey]) -> jose_jwk.JWK:
    try:
        jwk = jose_jwk.JWK.from_pyca(key)
    except (JWException, TypeError, ValueError):
        jwk = None
    if jwk is None or (jwk.get("kty"), jwk.get("crv")) not in ALGORITHMS:
        raise BadKey("the key is neither ECDSA P-256 (ES256) nor Ed25519 (EdDSA)")
    return jwk


def algorithm(key: Union[PrivateKey, PublicKey]) -> str:
    jwk = _jwk(key)
    return ALGORITHMS[jwk["kty"], jwk["crv"]]


def kid(key: Union[PrivateKey, PublicKey]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url): letters, digits, ``-`` and ``_``, as moq-token requires."""
    return _jwk(key).thumbprint()


def public_jwk(key: Union[PrivateKey, PublicKey]) -> str:
    """The verify-only JWK the relay reads from ``key_dir/<kid>.jwk``."""
    jwk = _jwk(key)
    members = jwk.export_public(as_dict=True)
    return json.dumps({**members, "alg": algorithm(key), "key_ops": ["verify"], "kid": jwk.thumbprint()},
                      sort_keys=True)


def public_jwk_from_pem(pem: str) -> str:
    """:func:`public_jwk` of a PEM public key (what ``tls.PrivateKey.public_key_pem`` holds)."""
    try:
        jwk = jose_jwk.JWK.from_pem(pem.encode())
    except (JWException, TypeError, ValueError, UnsupportedAlgorithm) as exc:
        raise BadKey(f"not a PEM public key ({exc})") from None
    if jwk.has_private:
        raise BadKey("not a PEM public key (it is a private key)")
    return public_jwk(jwk.get_op_key("verify"))


def public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_dir_file(pem: str) -> tuple[str, str]:
    """The ``key_dir`` entry for a PEM public key: (``<kid>.jwk``, the verify-only JWK)."""
    jwk = public_jwk_from_pem(pem)
    return f"{json.loads(jwk)['kid']}.jwk", jwk


def load_private_key(text: str) -> PrivateKey:
    """A private key from PEM (PKCS#8 or SEC1) or from a private JWK (``d`` present)."""
    text = text.strip()
    if text.startswith("{"):
        return _private_from_jwk(text)
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise BadKey("not an unencrypted PEM private key or a private JWK") from None
    _jwk(key)  # ES256 or EdDSA only
    return key


def _private_from_jwk(text: str) -> PrivateKey:
    try:
        jwk = jose_jwk.JWK.from_json(text)
    except (JWException, ValueError, KeyError, TypeError):
        raise BadKey("not a private JWK (JSON with kty, crv and d)") from None
    if (jwk.get("kty"), jwk.get("crv")) not in ALGORITHMS:
        raise BadKey("the JWK is neither EC P-256 (ES256) nor OKP Ed25519 (EdDSA)")
    if not jwk.has_private:
        raise BadKey("not a private JWK (JSON with kty, crv and d)")
    return jwk.get_op_key("sign")


def claims(publish: Optional[list[str]], subscribe: Optional[list[str]], expires: int, issued: int) -> dict:
    """moq-token claims: ``put``/``get`` are prefixes under the empty root; an absent role grants nothing."""
    out: dict = {"exp": expires, "iat": issued}
    if publish is not None:
        out["put"] = publish
    if subscribe is not None:
        out["get"] = subscribe
    return out


def sign(key: PrivateKey, payload: dict) -> str:
    """A compact JWS (JWT) signed with ``key``, its ``kid`` in the header (the relay's ``key_dir`` lookup)."""
    jwk = _jwk(key)
    token = jose_jwt.JWT(header={"alg": ALGORITHMS[jwk["kty"], jwk["crv"]], "kid": jwk.thumbprint(), "typ": "JWT"},
                         claims=payload)
    token.make_signed_token(jwk)
    return token.serialize()
