"""The relay's token keys and tokens in moq-token's format (moq-relay 0.14.12), without the Rust CLI.

Pure: no Pulumi, no I/O. The stack generates an ES256 (ECDSA P-256) key pair; the cluster gets only
the public half as a JWK file ``<kid>.jwk`` in the relay's ``key_dir``; the private half signs
tokens (``tools.token``). The ``kid`` is the key's RFC 7638 thumbprint, so it follows from the key
alone and two keys never share one.

Formats, read at the tag moq-relay-v0.14.12 of moq-dev/moq: ``rs/moq-token/src/key.rs`` (JWK:
``kty``/``crv``/``x``/``y``, ``alg``, ``key_ops``, ``kid``), ``rs/moq-token/src/claims.rs`` (claims
``root``, ``put``, ``get``, ``exp``, ``iat``) and ``doc/bin/relay/auth.md`` (``{kid}.jwk`` in
``key_dir``; kids of ASCII letters, digits, ``-`` and ``_``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Optional, Union

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

PrivateKey = Union[ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
PublicKey = Union[ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey]


class BadKey(ValueError):
    """A key that is not an ES256 (P-256) or EdDSA (Ed25519) key in PEM or JWK form."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _members(key: Union[PrivateKey, PublicKey]) -> dict:
    """The JWK members that identify the public key (RFC 7638 requires exactly these)."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        numbers = public.public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    raise BadKey("the key is neither ECDSA P-256 (ES256) nor Ed25519 (EdDSA)")


def algorithm(key: Union[PrivateKey, PublicKey]) -> str:
    return "ES256" if _members(key)["kty"] == "EC" else "EdDSA"


def kid(key: Union[PrivateKey, PublicKey]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url): letters, digits, ``-`` and ``_``, as moq-token requires."""
    canonical = json.dumps(_members(key), sort_keys=True, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: Union[PrivateKey, PublicKey]) -> str:
    """The verify-only JWK the relay reads from ``key_dir/<kid>.jwk``."""
    return json.dumps({**_members(key), "alg": algorithm(key), "key_ops": ["verify"], "kid": kid(key)}, sort_keys=True)


def public_jwk_from_pem(pem: str) -> str:
    """:func:`public_jwk` of a PEM public key (what ``tls.PrivateKey.public_key_pem`` holds)."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadKey(f"not a PEM public key ({exc})") from None
    return public_jwk(key)


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
    _members(key)  # ES256 or EdDSA only
    return key


def _private_from_jwk(text: str) -> PrivateKey:
    try:
        jwk = json.loads(text)
        d = _unb64(jwk["d"])
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1())
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PrivateKey.from_private_bytes(d)
    except (ValueError, KeyError, TypeError):
        raise BadKey("not a private JWK (JSON with kty, crv and d)") from None
    raise BadKey("the JWK is neither EC P-256 (ES256) nor OKP Ed25519 (EdDSA)")


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
    header = {"alg": algorithm(key), "kid": kid(key), "typ": "JWT"}
    header_b64, payload_b64 = (_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload))
    signing_input = f"{header_b64}.{payload_b64}"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(signing_input.encode())
    else:
        # JWS wants ECDSA signatures as the raw 32-byte r and s (RFC 7518 section 3.4), not DER.
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64(signature)}"
