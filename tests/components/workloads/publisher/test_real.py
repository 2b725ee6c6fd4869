"""The in-cluster publisher's commands, run for real: the watch page plays what they publish.

The planned sidecar's moq-cli arguments and environment and the planned ffmpeg arguments run as they
are, with only what differs from the pod rewritten: loopback addresses and ports, the CA file path and
the font path (Debian's ffmpeg stands in for the static image, moq-cli from crates.io for the
moq-cli image of the same release). They publish to the real relay, and headless Chromium plays the broadcast
from the page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.workloads.publisher.component import FONT
from tests.support.browser import CHROMIUM
from tests.support.envoy import free_port
from tests.support.relay import AUTH_BINARY
from tests.support.playback import assert_plays, certificate, chromium_flags, demo_relay, watch
from tests.support.processes import started, wait_for_tcp
from tests.support.watch_site import NGINX, serving

MOQ_CLI = AUTH_BINARY
FFMPEG = shutil.which("ffmpeg")
DEBIAN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

pytestmark = pytest.mark.skipif(not (MOQ_CLI.is_file() and FFMPEG and CHROMIUM and NGINX),
                                reason="needs moq-cli (make deps), ffmpeg, Chromium and nginx")


def planned_containers(plan) -> tuple[dict, dict]:
    pod = plan.object("Deployment", "demo-publisher")["spec"]["template"]["spec"]
    (moq,), (ffmpeg,) = pod["initContainers"], pod["containers"]
    return moq, ffmpeg


def rewritten(args: list[str], changes: dict[str, str]) -> list[str]:
    out = []
    for arg in args:
        for old, new in changes.items():
            arg = arg.replace(old, new)
        out.append(arg)
    assert out != args
    return out


def test_the_planned_commands_publish_what_the_page_plays(tmp_path):
    with demo_relay(tmp_path) as (plan, relay):
        moq, ffmpeg = planned_containers(plan)
        env = {e["name"]: e["value"] for e in moq["env"]}
        assert env == {"MOQ_CONNECT": f"https://{relay.host}/anon"}
        rtmp = free_port()
        moq_args = rewritten(moq["args"], {"/etc/moq/ca/ca.crt": str(relay.ca_file),
                                           "0.0.0.0:1935": f"127.0.0.1:{rtmp}"})
        moq_env = {"PATH": os.environ["PATH"], "MOQ_CONNECT": f"https://127.0.0.1:{relay.quic_port}/anon"}
        ffmpeg_args = rewritten(ffmpeg["args"], {FONT: DEBIAN_FONT, "127.0.0.1:1935": f"127.0.0.1:{rtmp}"})
        with started([str(MOQ_CLI), *moq_args], tmp_path / "moq.log", env=moq_env) as sidecar:
            wait_for_tcp(rtmp, sidecar, tmp_path / "moq.log")  # the startup probe
            with started([FFMPEG, *ffmpeg_args], tmp_path / "ffmpeg.log", stdin=subprocess.DEVNULL), \
                    serving(tmp_path, f"https://{relay.host}:{relay.quic_port}/anon", "bbb.hang") as url:
                result = watch(tmp_path, url, chromium_flags(relay.host, certificate(relay), relay.quic_port))
    assert result["transport"] == "WebTransport (connected)", result
    assert_plays(result)
