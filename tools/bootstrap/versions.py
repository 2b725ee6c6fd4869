"""The pinned releases ``make up`` installs, each version stated once.

The Pulumi CLI's version is the one the tests build from Go (``tools/engine/pulumi-cli/go.mod``): read from
there, so the CLI users install and the CLI the tests run cannot drift apart.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PULUMI_GO_MOD = ROOT / "tools" / "engine" / "pulumi-cli" / "go.mod"

# kind v0.33.0 and cloud-provider-kind v0.11.1: the newest releases on 2026-12-06 (tags of
# kubernetes-sigs/kind and kubernetes-sigs/cloud-provider-kind).
KIND_VERSION = "0.33.0"
CLOUD_PROVIDER_KIND_VERSION = "0.11.1"

_PKG_REQUIRE = re.compile(r"^\s*(?:require\s+)?github\.com/pulumi/pulumi/pkg/v3\s+v(\d+\.\d+\.\d+)\s*(?://.*)?$", re.M)


def pulumi_version(go_mod: Path = PULUMI_GO_MOD) -> str:
    """The ``github.com/pulumi/pulumi/pkg/v3`` version the wrapper module requires (``replace`` lines have ``=>``)."""
    found = _PKG_REQUIRE.findall(go_mod.read_text())
    if len(found) != 1:
        raise ValueError(f"{go_mod}: expected one `require github.com/pulumi/pulumi/pkg/v3 vX.Y.Z`, found {found}")
    return found[0]


def host() -> tuple[str, str]:
    """(os, arch) of this machine as Go names them: linux|darwin, amd64|arm64."""
    system = platform.system().lower()
    arches = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    machine = arches.get(platform.machine().lower())
    if system not in ("linux", "darwin") or machine is None:
        raise ValueError(f"no official release for {platform.system()}/{platform.machine()} here (Linux or macOS, "
                         f"x86-64 or arm64)")
    return system, machine
