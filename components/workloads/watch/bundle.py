"""The watch page's player, served from the page's own origin: the bundle ``make player`` builds.

``make player`` runs ``npm ci`` on ``player/package-lock.json`` (npm checks every package's integrity
hash) and bundles ``@moq/watch`` (``./element`` + ``./ui``) with esbuild into one ESM file,
``player/dist/moq-watch.js`` (git-ignored). The plan reads it here: the page names it with a
Subresource Integrity hash, and the ConfigMap carries it gzipped (``binaryData``), which keeps the
ConfigMap far below the API server's 1 MiB object limit (~490 KB raw, ~130 KB gzipped at 0.4.6).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pulumi

PLAYER_DIR = Path(__file__).parent / "player"
BUNDLE_NAME = "moq-watch.js"
BUNDLE = PLAYER_DIR / "dist" / BUNDLE_NAME
PACKAGE = "@moq/watch"
CONFIG_MAP_LIMIT = 1024 * 1024
"""The API server refuses objects above 1 MiB (etcd's request limit); data and binaryData count together."""


class PlayerMissing(pulumi.RunError):
    """The bundle was never built: one line that says how to build it (a RunError prints without a traceback)."""


def integrity(content: bytes) -> str:
    """A Subresource Integrity value (``sha384-<base64>``) for ``content``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def locked_version(lock: Path = PLAYER_DIR / "package-lock.json") -> str:
    """The ``@moq/watch`` version the committed lockfile pins (what the bundle is built from)."""
    return json.loads(lock.read_text())["packages"][f"node_modules/{PACKAGE}"]["version"]


@dataclass(frozen=True)
class Bundle:
    content: bytes
    version: str

    @property
    def integrity(self) -> str:
        return integrity(self.content)

    @property
    def gzipped(self) -> bytes:
        # mtime=0: the same bundle gives the same bytes, so an unchanged plan stays unchanged.
        return gzip.compress(self.content, compresslevel=9, mtime=0)


@lru_cache(maxsize=None)
def load(path: Path = BUNDLE) -> Bundle:
    """The built bundle; ``PlayerMissing`` with the command that builds it when it is absent."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PlayerMissing(f"the watch page's player {path} is missing: run `make player` "
                            "(npm ci + esbuild from the committed package-lock.json)") from None
    return Bundle(content, locked_version())
