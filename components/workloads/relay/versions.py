"""The MoQ line every stack deploys, read from ``versions.toml`` (stated once; the Makefile reads it too)."""

from __future__ import annotations

import tomllib
from pathlib import Path

_VERSIONS = tomllib.loads((Path(__file__).with_name("versions.toml")).read_text())

RELAY_VERSION: str = _VERSIONS["relay"]["version"]
RELAY_IMAGE: str = _VERSIONS["relay"]["image"]
CLI_VERSION: str = _VERSIONS["cli"]["version"]
CLI_IMAGE: str = _VERSIONS["cli"]["image"]
