"""The watch page served on loopback by Debian's nginx with the page's own server config.

:func:`serving` writes the files the ConfigMap mounts (``watch_page.site``: page, page script, gzipped
player) and runs nginx with ``watch/default.conf`` rewritten only where a pod differs from loopback
(listen address, document root). ``extra`` adds server blocks to the same nginx, e.g.
:func:`tls_proxy`, which stands in for the ingress controller in front of the relay's WebSocket
listener (TLS on TCP, ``Upgrade`` passed through, as ingress-nginx does for WebSocket).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from components.workloads.watch import bundle
from components.workloads.watch.component import HTML_DIR, HTTP_PORT, server_config, site
from tests.support.envoy import free_port
from tests.support.processes import stop, wait_until

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
ISOLATION_HEADERS = ("Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy")


def site_config(root: Path, port: int, relay_url: str, isolation: bool = True) -> str:
    """The page's server config, listening on a loopback port and serving ``root``."""
    conf = server_config(relay_url)
    for old, new in ((f"listen {HTTP_PORT};", f"listen 127.0.0.1:{port};"), (f"root {HTML_DIR};", f"root {root};")):
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    if not isolation:
        kept = [line for line in conf.splitlines() if not any(h in line for h in ISOLATION_HEADERS)]
        assert len(kept) == len(conf.splitlines()) - 2
        conf = "\n".join(kept)
    return conf


def tls_proxy(port: int, cert: Path, key: Path, upstream: str) -> str:
    """A TLS server block on TCP ``port`` proxying HTTP and WebSocket to ``upstream`` (``host:port``)."""
    return (f"server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {cert}; ssl_certificate_key {key};\n"
            f"  location / {{ proxy_pass http://{upstream}; proxy_http_version 1.1; proxy_read_timeout 300s;\n"
            "    proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";\n"
            "    proxy_set_header Host $host; }\n}\n")


@contextmanager
def nginx(conf: str, work: Path, timeout: float = 10) -> Iterator[subprocess.Popen]:
    """nginx (one worker, in the foreground) running ``conf`` as its only ``http`` content; stopped by PID."""
    assert NGINX, "nginx is not installed (`make deps` installs Debian's nginx-light)"
    (work / "site.conf").write_text(conf)
    temp = " ".join(f"{d}_temp_path {work};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read pytest's private temp directories
    (work / "nginx.conf").write_text(
        f"{user} daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;\n"
        f"events {{}}\nhttp {{ include /etc/nginx/mime.types; access_log off; {temp} include {work}/site.conf; }}\n")
    proc = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        stop(proc)


@contextmanager
def serving(tmp_path: Path, relay_url: str, broadcast: str, *, isolation: bool = True,
            extra: str = "") -> Iterator[str]:
    """The page for ``relay_url``/``broadcast`` at ``http://127.0.0.1:<port>/`` until the block ends."""
    root, work = tmp_path / "html", tmp_path / "nginx"
    root.mkdir()
    work.mkdir()
    for name, content in site(relay_url, broadcast, bundle.load()).items():
        (root / name).write_bytes(content)
    port = free_port()
    with nginx(site_config(root, port, relay_url, isolation) + "\n" + extra, work) as proc:
        url = f"http://127.0.0.1:{port}/"
        wait_until(lambda: urllib.request.urlopen(url + "healthz", timeout=1).close(), proc, work / "error.log",
                   f"nginx (serving {url})", timeout=10)
        yield url
