"""The QUIC connection IDs a real server hands out, split by ``tools.verify``'s QUIC-LB decoder."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aioquic.quic.logger import QuicLogger

from tools.verify.net import Trust, quic_connect, server_connection_ids


def server_cids(address: str, port: int, cafile: Path, server_name: str) -> list[bytes]:
    """Handshake (HTTP/3 ALPN) and return every connection ID the server chose.

    A fresh event loop, never ``asyncio.run`` (it would break Pulumi's loop in the same process).
    """
    async def connect() -> list[bytes]:
        logger = QuicLogger()
        config = Trust("test CA", cafile=str(cafile)).quic_configuration(server_name, quic_logger=logger)
        async with quic_connect(address, port, config) as client:
            # NEW_CONNECTION_ID frames follow the handshake; give them a moment to arrive.
            await asyncio.sleep(0.2)
        return server_connection_ids(logger)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(connect(), 10))
    finally:
        loop.close()
