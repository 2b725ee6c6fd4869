"""The watch page in a real browser: headless Chromium loads it from nginx running the page's own server config.

nginx is Debian's (``nginx-light``); without it an equivalent local server applies the config's
``add_header`` lines. Chromium decides whether the page is cross-origin isolated: the page reports
``self.crossOriginIsolated``, which is true only when the browser accepted COOP and COEP.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from components.workloads.watch.component import HTML_DIR, HTTP_PORT, page, server_config
from tests.components.workloads.watch.test_component import Elements, directives
from tests.support.envoy import free_port

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
RELAY_URL = "https://relay.example.com/anon"
ISOLATION_HEADERS = ("Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (`make deps` installs Debian's chromium)")


def site_config(root: Path, port: int, isolation: bool = True) -> str:
    """The page's server config, listening on a local port and serving ``root``."""
    conf = server_config()
    for old, new in ((f"listen {HTTP_PORT};", f"listen 127.0.0.1:{port};"), (f"root {HTML_DIR};", f"root {root};")):
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    if not isolation:
        kept = [line for line in conf.splitlines() if not any(h in line for h in ISOLATION_HEADERS)]
        assert len(kept) == len(conf.splitlines()) - 2
        conf = "\n".join(kept)
    return conf


@contextmanager
def nginx(conf: str, work: Path) -> Iterator[None]:
    (work / "site.conf").write_text(conf)
    temp = " ".join(f"{d}_temp_path {work};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read pytest's private temp directories
    (work / "nginx.conf").write_text(
        f"{user} daemon off; worker_processes 1; pid {work}/nginx.pid; error_log stderr;\n"
        f"events {{}}\nhttp {{ include /etc/nginx/mime.types; access_log off; {temp} include {work}/site.conf; }}\n")
    proc = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work)], stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def equivalent_server(conf: str, root: Path, port: int) -> Iterator[None]:
    """Static files plus the config's ``add_header`` lines, for machines without nginx."""
    headers = [(args[0], args[1]) for args in directives(conf, "add_header")]

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def end_headers(self):
            for name, value in headers:
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(tmp_path: Path, isolation: bool = True) -> Iterator[str]:
    root, work = tmp_path / "html", tmp_path / "nginx"
    root.mkdir()
    work.mkdir()
    (root / "index.html").write_text(page(RELAY_URL, "bbb.hang", "0.4.6"))
    port = free_port()
    conf = site_config(root, port, isolation)
    with (nginx(conf, work) if NGINX else equivalent_server(conf, root, port)):
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url


def headless_dom(url: str, profile: Path) -> str:
    """The DOM after load; every host but the local server resolves to nothing (no network, no CDN)."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def isolated(dom: str) -> str:
    start = dom.index('id="isolated">') + len('id="isolated">')
    return dom[start:dom.index("<", start)]


def test_page_loads_isolated_and_points_at_the_relay(tmp_path):
    with serve(tmp_path) as url:
        with urllib.request.urlopen(url) as response:
            assert response.status == 200
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        dom = headless_dom(url, tmp_path / "profile")
    (watch,) = Elements(dom).all("moq-watch")
    assert watch["url"] == RELAY_URL
    # The inline script ran in the browser, which granted cross-origin isolation.
    assert isolated(dom) == "yes"


def test_without_the_headers_the_browser_does_not_isolate(tmp_path):
    """Control: the same page without COOP/COEP is not isolated, so the check above can fail."""
    with serve(tmp_path, isolation=False) as url:
        dom = headless_dom(url, tmp_path / "profile")
    assert isolated(dom).startswith("no")
