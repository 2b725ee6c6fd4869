"""Official release downloads, refused unless they match the release's own checksums file.

Each tool comes from its project's versioned GitHub release (never a "latest" URL, never an install script):
the asset and the checksums file the project publishes beside it. The asset's SHA-256 must equal the line
for that file name; anything else (a different hash, a checksums file without that name, a short download)
is refused before a byte is installed. The install is staged in a temporary folder next to its destination
and renamed into place, so an interrupted run leaves nothing half-installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

DEFAULT_RELEASES_URL = "https://github.com"
# A mirror of github.com's release paths, and the tests' loopback stand-in (docs/getting-started-local.md).
RELEASES_URL_ENV = "QUICSTACK_RELEASES_URL"
TIMEOUT = 60
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$")


class InstallError(Exception):
    """One line for the user: what failed and what to do."""


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    asset_path: str
    """The asset's path under the releases URL."""
    checksums_path: str
    binary: str
    """The executable's path inside the install folder."""
    archive: bool
    """A .tar.gz to unpack, or the executable itself."""

    @property
    def asset(self) -> str:
        return self.asset_path.rsplit("/", 1)[1]

    def home(self, tools: Path) -> Path:
        return tools / f"{self.name}-release-v{self.version}"

    def executable(self, tools: Path) -> Path:
        return self.home(tools) / self.binary


def pulumi(version: str, system: str, arch: str) -> Release:
    # pulumi/pulumi release assets: pulumi-v3.X.Y-linux-x64.tar.gz (x64, not amd64) + pulumi-3.X.Y-checksums.txt.
    base = f"pulumi/pulumi/releases/download/v{version}"
    asset = f"pulumi-v{version}-{system}-{'x64' if arch == 'amd64' else arch}.tar.gz"
    return Release("pulumi", version, f"{base}/{asset}", f"{base}/pulumi-{version}-checksums.txt", "pulumi/pulumi",
                   True)


def kind(version: str, system: str, arch: str) -> Release:
    # kubernetes-sigs/kind release assets: the bare binary kind-linux-amd64 + kind-linux-amd64.sha256sum.
    base = f"kubernetes-sigs/kind/releases/download/v{version}"
    return Release("kind", version, f"{base}/kind-{system}-{arch}", f"{base}/kind-{system}-{arch}.sha256sum", "kind",
                   False)


def cloud_provider_kind(version: str, system: str, arch: str) -> Release:
    # goreleaser's default names (.goreleaser.yaml at v0.11.1 sets none): NAME_VERSION_OS_ARCH.tar.gz and
    # NAME_VERSION_checksums.txt.
    base = f"kubernetes-sigs/cloud-provider-kind/releases/download/v{version}"
    name = "cloud-provider-kind"
    return Release(name, version, f"{base}/{name}_{version}_{system}_{arch}.tar.gz",
                   f"{base}/{name}_{version}_checksums.txt", name, True)


def releases_url(given: str | None = None) -> str:
    return (given or os.environ.get(RELEASES_URL_ENV) or DEFAULT_RELEASES_URL).rstrip("/")


def parse_checksums(text: str) -> dict[str, str]:
    """``sha256sum`` output (``HEX  NAME`` or ``HEX *NAME``) as {name: hex}."""
    return {m[2]: m[1].lower() for line in text.splitlines() if (m := _SUM_LINE.match(line))}


def _open(url: str):
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT)  # noqa: S310 (https, or the http mirror the user named)
    except urllib.error.HTTPError as exc:
        raise InstallError(f"cannot download {url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise InstallError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None


def _download(url: str, to: Path) -> str:
    """Streams ``url`` into ``to``; returns its SHA-256."""
    digest = hashlib.sha256()
    with _open(url) as response, to.open("wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _unpack(release: Release, download: Path, into: Path) -> None:
    if release.archive:
        try:
            with tarfile.open(download, "r:gz") as tar:
                tar.extractall(into, filter="data")  # no absolute paths, no links out, no device files
        except (tarfile.TarError, OSError) as exc:
            raise InstallError(f"{release.asset} is not a readable .tar.gz ({exc})") from None
    else:
        shutil.copyfile(download, into / release.binary)
    binary = into / release.binary
    if not binary.is_file():
        raise InstallError(f"{release.asset} holds no {release.binary}")
    binary.chmod(0o755)


def install(release: Release, tools: Path, base_url: str, say: Callable[[str], None]) -> Path:
    """The release's executable under ``tools``: reused when there, else downloaded, checked and unpacked."""
    executable = release.executable(tools)
    if executable.is_file():
        return executable
    say(f"{release.name}: downloading the official v{release.version} release ({release.asset}) and its checksums "
        f"from {base_url}, into {release.home(tools)}")
    tools.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools, prefix=f".{release.name}-") as tmp:
        with _open(f"{base_url}/{release.checksums_path}") as response:
            sums = parse_checksums(response.read(1 << 20).decode("utf-8", "replace"))
        expected = sums.get(release.asset)
        if expected is None:
            raise InstallError(f"{release.checksums_path.rsplit('/', 1)[1]} lists no {release.asset}: refusing to "
                               f"install an asset the release does not vouch for")
        got = _download(f"{base_url}/{release.asset_path}", Path(tmp) / release.asset)
        if got != expected:
            raise InstallError(f"{release.asset} does not match the release's checksum (sha256 {got[:16]}..., "
                               f"expected {expected[:16]}...): refusing to install it")
        staging = Path(tmp) / "home"
        staging.mkdir()
        _unpack(release, Path(tmp) / release.asset, staging)
        shutil.rmtree(release.home(tools), ignore_errors=True)  # a folder without its binary: an older partial copy
        os.replace(staging, release.home(tools))
    say(f"{release.name}: v{release.version} installed, sha256 {expected[:16]}... matches the release's checksums "
        f"file")
    return executable
