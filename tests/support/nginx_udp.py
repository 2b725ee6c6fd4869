"""Debian's nginx running the UDP server block that ingress-nginx renders for a ``udp:`` service.

The controller (ingress-nginx controller-v1.15.1, the one chart 4.15.1 ships) turns its ConfigMap
into ``stream { server { ... } }`` blocks (``rootfs/etc/nginx/template/nginx.tmpl``, "UDP services").
:func:`udp_server_block` renders that block from the chart's ``controller.config`` values the way the
chart and the controller would: the chart writes each value with ``toString``
(``templates/controller-configmap.yaml``), the controller reads ``proxy-stream-responses`` with
``strconv.Atoi`` and keeps its default when that fails (``internal/ingress/controller/template/configmap.go``),
and the other stream settings come from its defaults (``internal/ingress/controller/config/config.go``).

The controller's Lua balancer (``upstream_balancer``, ``preread_by_lua_block``) is replaced by a
plain upstream of the same name: Debian's nginx has no Lua, and the balancer only picks the endpoint.
:func:`running` starts nginx with such a block on loopback and stops it by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from tests.support.processes import started, wait_for_output

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"

CONTROLLER_DEFAULTS = {
    "proxy-stream-responses": 1,
    "proxy-stream-timeout": "600s",
    "proxy-stream-next-upstream": True,
    "proxy-stream-next-upstream-timeout": "600s",
    "proxy-stream-next-upstream-tries": 3,
}
"""The controller's defaults for the stream settings (``config.go`` ``NewDefault`` at controller-v1.15.1)."""


def helm_to_string(value) -> str:
    """Sprig's ``toString`` on a chart value. Helm reads values as JSON, so a number arrives as a float64,
    which Go prints (``%v``, shortest digits) in exponent form from 1e6 up: 2147483647 -> ``2.147483647e+09``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    digits = next(n for n in range(17) if float(f"{number:.{n}e}") == number)
    mantissa, exponent = f"{number:.{digits}e}".split("e")
    if -4 <= int(exponent) < 6:
        return repr(number).removesuffix(".0")
    return f"{mantissa}e{exponent[0]}{int(exponent[1:]):02d}"


def _atoi(text: str) -> Optional[int]:
    """Go's ``strconv.Atoi``: optional sign and decimal digits, nothing else."""
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None


def controller_settings(config: dict) -> dict:
    """The stream settings the controller ends up with, from the chart's ``controller.config`` values."""
    data = {key: helm_to_string(value) for key, value in config.items()}
    settings = dict(CONTROLLER_DEFAULTS)
    responses = data.get("proxy-stream-responses")
    if responses is not None and _atoi(responses) is not None:
        settings["proxy-stream-responses"] = _atoi(responses)
    return settings


def udp_server_block(listen: str, config: dict) -> str:
    """The template's UDP server block for one service listening on ``listen`` (``address:port``)."""
    s = controller_settings(config)
    return "\n".join([
        "server {",
        f"    listen {listen} udp;",
        f"    proxy_responses {s['proxy-stream-responses']};",
        f"    proxy_timeout {s['proxy-stream-timeout']};",
        f"    proxy_next_upstream {'on' if s['proxy-stream-next-upstream'] else 'off'};",
        f"    proxy_next_upstream_timeout {s['proxy-stream-next-upstream-timeout']};",
        f"    proxy_next_upstream_tries {s['proxy-stream-next-upstream-tries']};",
        "    proxy_pass upstream_balancer;",
        "}",
    ])


def stream_module_line() -> str:
    """``load_module`` for Debian's dynamic stream module (``libnginx-mod-stream``), or "" when built in."""
    version = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr
    if "--with-stream=dynamic" not in version:
        assert "--with-stream" in version, "this nginx has no stream module"
        return ""
    assert os.path.exists(STREAM_MODULE), f"{STREAM_MODULE} is missing: install libnginx-mod-stream (make deps)"
    return f"load_module {STREAM_MODULE};"


@contextmanager
def running(server_block: str, upstream: str, work: Path, timeout: float = 10) -> Iterator[subprocess.Popen]:
    """nginx with ``server_block`` proxying to ``upstream`` (``address:port``) until the block ends."""
    assert NGINX, "nginx is missing: run `make deps` (Debian nginx-light + libnginx-mod-stream)"
    work.mkdir(parents=True, exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(
        f"{stream_module_line()}\n{user} daemon off; worker_processes 1; pid {work}/nginx.pid;\n"
        "error_log stderr info;\n"
        f"events {{}}\nstream {{\n upstream upstream_balancer {{ server {upstream}; }}\n{server_block}\n}}\n")
    test = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(work)], capture_output=True, text=True,
                          timeout=timeout)
    assert test.returncode == 0, test.stderr
    with started([NGINX, "-c", str(conf), "-p", str(work)], work / "nginx.log") as process:
        wait_for_output(work / "nginx.log", "start worker process", process, timeout)
        yield process
