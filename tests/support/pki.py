"""Certificates the way the stacks' cert-manager issues them: a CA Issuer's root signs a leaf per host.

:class:`LocalCA` is that root. :meth:`LocalCA.issue` returns the three keys cert-manager writes into
a ``kubernetes.io/tls`` Secret: ``tls.crt`` (the leaf; cert-manager leaves a self-signed root out of
the chain), ``tls.key`` (PKCS#8) and ``ca.crt`` (the root). Clients trust :attr:`LocalCA.pem`.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = ("localhost", "127.0.0.1", "::1")
"""Names every test leaf also carries, so clients can dial the loopback addresses directly."""


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@dataclass
class LocalCA:
    """A root CA (ECDSA P-256), like the ``selfsigned`` stacks' cert-manager CA Issuer."""

    name: str = "quicstack test CA"
    key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()), repr=False)
    permitted_dns: tuple[str, ...] = ()
    """DNS name constraints (critical, permitted subtrees), as a Certificate's ``nameConstraints`` puts them in the CA.
    A constrained CA's leaves carry the loopback addresses but not ``localhost``, which would break the constraint."""

    def __post_init__(self) -> None:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
        )
        if self.permitted_dns:
            constraints = x509.NameConstraints([x509.DNSName(d) for d in self.permitted_dns], None)
            self.certificate = self.certificate.add_extension(constraints, critical=True)
        self.certificate = self.certificate.sign(self.key, hashes.SHA256())

    @property
    def pem(self) -> bytes:
        return _pem(self.certificate)

    def issue(self, hosts: list[str], days: int = 1, client_auth: bool = False) -> dict[str, bytes]:
        """A leaf for ``hosts`` plus the loopback names: the files of cert-manager's Secret.

        ``client_auth`` adds the clientAuth usage (cert-manager's ``usages: [server auth, client auth]``),
        which mutual TLS checks on the certificate a client presents.
        """
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, *([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])]
        key = ec.generate_private_key(ec.SECP256R1())
        # Under DNS constraints only the loopback addresses are added: a DNS name outside them breaks the chain.
        loopback = [n for n in LOOPBACK if n[0].isdigit() or ":" in n] if self.permitted_dns else LOOPBACK
        names = list(dict.fromkeys([*hosts, *loopback]))
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return {"tls.crt": _pem(cert), "tls.key": key_pem, "ca.crt": self.pem}


def serial_of(pem: bytes) -> int:
    """The serial number of the first certificate in ``pem``."""
    return x509.load_pem_x509_certificate(pem).serial_number
