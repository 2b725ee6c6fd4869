"""A real moq-relay on loopback for the watch-page tests (stop-gap until the shared relay harness lands).

The TOML is the project's own (``relay_config.document``) with the listen addresses on 127.0.0.1 and
the certificate paths local; a throwaway CA signs the certificate for :data:`HOST`.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import tomli_w

from components.workloads.relay.toml import RelayToml, document
from tests.support.envoy import free_port
from tests.support.plan import ROOT
from tests.support.processes import stop

HOST = "relay.quicstack.test"
BINARY = Path(os.environ.get("QUICSTACK_MOQ_RELAY") or ROOT / ".tools" / "moq-relay-0.14.12" / "bin" / "moq-relay")


@dataclass
class LocalRelay:
    quic_port: int
    web_port: int
    internal_port: int
    cert_file: Path
    key_file: Path
    log: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert_file.read_bytes()

    @property
    def ca_file(self) -> Path:
        return self.cert_file.with_name("ca.crt")


def _ca_and_leaf(hosts: list[str]) -> tuple[bytes, bytes, bytes]:
    """(CA PEM, leaf PEM, leaf key PEM): rustls refuses a self-signed leaf as its own CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject: str, key, issuer: str, signer, ca: bool, sans=()):
        b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=2))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(h) for h in hosts] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    return (cert("test CA", ca_key, "test CA", ca_key, True), cert(hosts[0], leaf_key, "test CA", ca_key, False, sans),
            leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def local_relay(work: Path, timeout: float = 20) -> Iterator[LocalRelay]:
    assert BINARY.is_file(), f"{BINARY} is missing: run `make deps`"
    ca, cert, key = _ca_and_leaf([HOST, "localhost"])
    relay = LocalRelay(free_port(), free_port(), free_port(), work / "tls.crt", work / "tls.key", work / "relay.log")
    relay.cert_file.write_bytes(cert)
    relay.key_file.write_bytes(key)
    (work / "ca.crt").write_bytes(ca)
    config = document(RelayToml(quic_port=relay.quic_port, web_port=relay.web_port, internal_port=relay.internal_port,
                                  log_level="info", public_prefix="anon", web_tls=False))
    config["server"]["bind"] = f"127.0.0.1:{relay.quic_port}"
    config["server"]["tls"] = {"cert": [str(relay.cert_file)], "key": [str(relay.key_file)]}
    config["web"]["http"]["listen"] = f"127.0.0.1:{relay.web_port}"
    config["internal"]["listen"] = f"127.0.0.1:{relay.internal_port}"
    (work / "relay.toml").write_text(tomli_w.dumps(config))
    with relay.log.open("wb") as out:
        proc = subprocess.Popen([str(BINARY), str(work / "relay.toml")], cwd=work, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(f"http://127.0.0.1:{relay.internal_port}/health"):
            assert proc.poll() is None and time.monotonic() < deadline, relay.log.read_text()[-3000:]
            time.sleep(0.05)
        yield relay
    finally:
        stop(proc)
