"""Stand-ins for what `make up` downloads and runs on a fresh machine, which cannot be reached here (no GitHub, no
Docker): a loopback file server laid out like github.com's release downloads, serving fake tarballs and binaries
with their checksums files, and fake executables on PATH (docker, kind, kubectl, cloud-provider-kind) that log
their arguments. The real downloads and the real kind path run in .github/workflows/e2e-kind.yml."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from tests.support.plan import ROOT
from tools.bootstrap import release, versions


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def logging_tool(bin_dir: Path, name: str, log: Path, body: str = "") -> Path:
    """An executable ``name`` that appends ``name args...`` to ``log``, then runs ``body``."""
    return script(bin_dir / name, f'echo "{name} $*" >> "{log}"\n{body}')


def tarball(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            data = ("#!/bin/sh\n" + text).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def publish(root: Path, rel: release.Release, content: bytes, listed: bytes | None = None) -> None:
    """Serve ``content`` as ``rel``'s asset, with a checksums file listing ``listed``'s hash (default: content's)."""
    asset = root / rel.asset_path
    asset.parent.mkdir(parents=True, exist_ok=True)
    asset.write_bytes(content)
    digest = hashlib.sha256(content if listed is None else listed).hexdigest()
    other = hashlib.sha256(b"another asset").hexdigest()
    (root / rel.checksums_path).write_text(f"{other}  unrelated-asset.tar.gz\n{digest}  {rel.asset}\n")


class Server:
    def __init__(self, root: Path):
        self.root, self.requests = root, []
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                outer.requests.append(self.path)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@contextmanager
def serving(root: Path) -> Iterator[Server]:
    server = Server(root)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(10)


def pinned(kind: str) -> release.Release:
    system, arch = versions.host()
    if kind == "pulumi":
        return release.pulumi(versions.pulumi_version(), system, arch)
    if kind == "kind":
        return release.kind(versions.KIND_VERSION, system, arch)
    return release.cloud_provider_kind(versions.CLOUD_PROVIDER_KIND_VERSION, system, arch)


def base_path(bin_dir: Path) -> str:
    """A PATH with ``bin_dir`` and the system's basic tools, but none of pulumi, kind, docker, podman, kubectl."""
    keep = bin_dir.parent / "system-bin"
    keep.mkdir(exist_ok=True)
    for tool in ("sh", "ps", "sleep", "cat", "env"):
        if (found := shutil.which(tool)) and not (keep / tool).exists():
            (keep / tool).symlink_to(found)
    return f"{bin_dir}:{keep}"


def bootstrap(*args: str, path: str, tools: Path, home: Path, timeout: float = 60,
              **env: str) -> subprocess.CompletedProcess:
    environ = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", **env}
    return subprocess.run([sys.executable, "-m", "tools.bootstrap", "--tools", str(tools), *args], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=timeout)


def lines(proc: subprocess.CompletedProcess) -> list[str]:
    return proc.stderr.strip().splitlines()


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
