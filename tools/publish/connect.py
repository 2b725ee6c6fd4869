"""Where the publisher connects, found the way ``tools.verify`` finds it (its code, not a copy).

The MoQ client resolves names itself and takes no separate TLS server name, so ``*.localhost`` names (loopback by
RFC 6761, unknown to many resolvers) would not resolve there, and a relay that does not answer costs its 30 s
connect timeout without a word. So the host is resolved with ``tools.verify.net.resolve``, one QUIC handshake
verifies the relay's certificate for the URL's host name with the chosen trust, and the client then dials that
address pinned to that certificate (as verify's ``moq`` check does).
"""

from __future__ import annotations

import asyncio
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from tools.verify import net


class Unreachable(Exception):
    """The relay could not be found or did not complete a verified QUIC handshake: one line, exit 1."""


async def _fingerprint(address: str, port: int, host: str, trust: net.Trust, timeout: float) -> str:
    try:
        return await asyncio.wait_for(net.quic_fingerprint(address, port, trust.quic_configuration(host)), timeout)
    except asyncio.TimeoutError:
        raise Unreachable(f"no QUIC answer from {address} port {port} in time: "
                          f"is the relay running, and UDP/{port} open to it?") from None
    except net.QuicFailure as exc:
        hint = "; pass --ca with the CA that issued its certificate" if exc.tls_alert and not (
            trust.cafile or trust.cadata) else ""
        raise Unreachable(f"the QUIC handshake with {address} port {port} failed: {exc}{hint}") from None
    except OSError as exc:
        raise Unreachable(f"cannot reach {address} port {port}: {exc.strerror or exc}") from None


async def pinned(url: str, trust: net.Trust, timeout: float, say: Callable[[str], None]) -> tuple[str, str]:
    """(``url`` with the relay's address for its host, the SHA-256 of its verified certificate)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        addresses, source = await net.resolve(host)
    except OSError as exc:
        raise Unreachable(f"{host} does not resolve ({exc.strerror or exc})") from None
    say(f"connecting to {host} ({', '.join(addresses)}, {source}) on UDP/{port}, up to {timeout:g} s ...")
    failure = Unreachable(f"{host} does not resolve (no addresses)")
    deadline = asyncio.get_running_loop().time() + timeout
    for address in addresses:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            break
        try:
            fingerprint = await _fingerprint(address, port, host, trust, left)
        except Unreachable as exc:
            failure = exc
            continue
        authority = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        return urlunsplit(("https", authority, parts.path, "", "")), fingerprint
    raise failure
