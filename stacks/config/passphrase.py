"""A cloud stack whose secrets are encrypted with an empty passphrase is refused by the program itself.

Stack secrets (kubeconfigs, SSH and TLS keys) are encrypted with the stack's secrets provider. With the
passphrase provider, an empty passphrase encrypts nothing worth the name: anyone holding the state
reads them. ``make`` refuses to start a cloud stack without one, but a CI job (``pulumi/actions`` with
``upsert: true`` and an unset secret) or a bare ``pulumi up`` does not go through ``make``; so the
program checks the stack file itself. An empty passphrase is allowed for the ``local`` stack only,
whose secrets open a cluster on this machine.

The test is the one the Pulumi CLI runs to check a passphrase (pkg/secrets/passphrase/manager.go,
``symmetricCrypterFromPhraseAndState``): the stack file's ``encryptionsalt`` is
``v1:<base64 salt>:v1:<base64 nonce>:<base64 AES-256-GCM of "pulumi">`` under a key derived from the
passphrase with PBKDF2-SHA256, 1,000,000 rounds (sdk/go/common/resource/config/crypt.go). If the empty
passphrase opens it, the stack's passphrase is empty, however the CLI was given it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

import pulumi
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LOCAL_STACK = "local"
PBKDF2_ROUNDS = 1_000_000
CHECK_PLAINTEXT = b"pulumi"


class StackError(pulumi.RunError):
    """A problem of the stack itself, not of one config key; ``str()`` is the one line to print (exit 2).

    A RunError, so the Pulumi CLI reports it as that line alone, without a traceback."""


def opens_with(salt_state: str, passphrase: str) -> bool:
    """Whether ``passphrase`` opens a stack file's ``encryptionsalt`` (False for a malformed one)."""
    parts = salt_state.split(":")
    if len(parts) != 5 or parts[0] != "v1" or parts[2] != "v1":
        return False
    try:
        salt, nonce, sealed = (base64.b64decode(p, validate=True) for p in (parts[1], parts[3], parts[4]))
    except (binascii.Error, ValueError):
        return False
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, PBKDF2_ROUNDS, dklen=32)
    try:
        return AESGCM(key).decrypt(nonce, sealed, None) == CHECK_PLAINTEXT
    except (InvalidTag, ValueError):
        return False


def encryption_salt(path: Path) -> str | None:
    """The stack file's ``encryptionsalt`` (passphrase provider), or None (KMS, Pulumi Cloud, no file)."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(document, dict):
        return None
    provider = document.get("secretsprovider")
    salt = document.get("encryptionsalt")
    if provider not in (None, "", "passphrase") or not isinstance(salt, str):
        return None
    return salt


def check(stack: str, path: Path) -> None:
    """Refuse a stack other than ``local`` whose secrets an empty passphrase opens."""
    if stack == LOCAL_STACK:
        return
    salt = encryption_salt(path)
    if salt and opens_with(salt, ""):
        raise StackError(
            f"stack {stack}: its secrets are encrypted with an empty passphrase ({path.name}, encryptionsalt), which "
            "is for the local stack only: give it a real one (`pulumi stack change-secrets-provider passphrase "
            f"--stack {stack}`, then keep PULUMI_CONFIG_PASSPHRASE set) or a KMS provider "
            "(`--secrets-provider awskms://...`)")
