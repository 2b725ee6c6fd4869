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

from components.workloads.publisher.component import FONT, LOG_FILTER
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
        assert env == {"MOQ_CONNECT": f"https://{relay.host}/anon", "RUST_LOG": LOG_FILTER}
        rtmp = free_port()
        moq_args = rewritten(moq["args"], {"/etc/moq/ca/ca.crt": str(relay.ca_file),
                                           "0.0.0.0:1935": f"127.0.0.1:{rtmp}"})
        moq_env = {**env, "PATH": os.environ["PATH"], "MOQ_CONNECT": f"https://127.0.0.1:{relay.quic_port}/anon"}
        ffmpeg_args = rewritten(ffmpeg["args"], {FONT: DEBIAN_FONT, "127.0.0.1:1935": f"127.0.0.1:{rtmp}"})
        with started([str(MOQ_CLI), *moq_args], tmp_path / "moq.log", env=moq_env) as sidecar:
            wait_for_tcp(rtmp, sidecar, tmp_path / "moq.log")  # the startup probe
            with started([FFMPEG, *ffmpeg_args], tmp_path / "ffmpeg.log", stdin=subprocess.DEVNULL), \
                    serving(tmp_path, f"https://{relay.host}:{relay.quic_port}/anon", "bbb.hang") as url:
                result = watch(tmp_path, url, chromium_flags(relay.host, certificate(relay), relay.quic_port))
    assert result["transport"] == "WebTransport (connected)", result
    assert_plays(result)


TOKEN_STACK = {"quicstack:domain": "example.com", "quicstack:acme": {"environment": "staging", "email": "ops@example.com"},
               "quicstack:publisher": {"enabled": True, "tokenSecret": "publish-token"}}
"""A Let's Encrypt stack: publishing needs a token, which the publisher reads from its Secret."""


@pytest.mark.parametrize("planned_filter", [True, False])
def test_the_publishers_token_reaches_no_log_even_at_trace(tmp_path, planned_filter):
    """The planned sidecar dials ``MOQ_CONNECT`` with ``?jwt=<token>``. Run with the planned ``RUST_LOG`` but its
    global level raised to ``trace``: the broadcast is admitted, so the token was used, and neither it nor its
    signature appears in what the CLI printed. Without the filter's exception (plain ``trace``) it does: the
    exception is what keeps it out."""
    import yaml

    from tests.components.workloads.relay.conftest import mint
    from tests.support.moq_client import announced, session_url
    from tests.support.plan import Plan, run_plan
    from tests.support.relay import materialize, running

    (tmp_path / "Pulumi.token.yaml").write_text(yaml.safe_dump({"config": TOKEN_STACK}))
    run = run_plan(tmp_path / "Pulumi.token.yaml", tmp_path / "plan", "--show-secrets")
    assert run.returncode == 0, run.stderr
    plan = Plan(tmp_path / "plan" / "token")
    token = mint(plan, "--publish", "anon")
    moq, ffmpeg = planned_containers(plan)
    planned = {e["name"]: e.get("value") for e in moq["env"]}
    assert planned["MOQ_CONNECT"] == "https://relay.example.com/anon?jwt=$(MOQ_TOKEN)"
    assert planned["RUST_LOG"].startswith("info,")
    relay = materialize(plan, tmp_path / "relay")
    rtmp = free_port()
    # What differs from the pod: the relay's loopback address, the local CA (Let's Encrypt in the cluster), the
    # ingest port, the font; the token is what the kubelet would expand from the Secret.
    connect = planned["MOQ_CONNECT"].replace("relay.example.com", f"127.0.0.1:{relay.quic_port}")
    level = planned["RUST_LOG"].replace("info,", "trace,", 1) if planned_filter else "trace"
    moq_env = {"PATH": os.environ["PATH"], "RUST_LOG": level, "MOQ_CONNECT": connect.replace("$(MOQ_TOKEN)", token)}
    moq_args = ["--connect-tls-root", str(relay.ca_file), *rewritten(moq["args"], {"0.0.0.0:1935": f"127.0.0.1:{rtmp}"})]
    ffmpeg_args = rewritten(ffmpeg["args"], {FONT: DEBIAN_FONT, "127.0.0.1:1935": f"127.0.0.1:{rtmp}"})
    log = tmp_path / "moq.log"
    with running(relay), started([str(MOQ_CLI), *moq_args], log, env=moq_env) as sidecar:
        wait_for_tcp(rtmp, sidecar, log)
        with started([FFMPEG, *ffmpeg_args], tmp_path / "ffmpeg.log", stdin=subprocess.DEVNULL):
            seen = announced(session_url(relay.url, "anon"), relay.ca_file, wait=8)
    printed = log.read_text(errors="replace")
    assert "bbb.hang" in next(e for e in seen.events if e["event"] == "done")["paths"], (seen, printed[-3000:])
    assert "TRACE" in printed, printed[-2000:]  # the level took effect
    signature = token.rsplit(".", 1)[1]
    assert (token in printed or signature in printed) == (not planned_filter)
