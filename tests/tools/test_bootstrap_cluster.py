"""`make up` for the local stack creates a kind cluster only when there is no kube context and Docker or Podman
answers; `make down` removes only what it created. kind, cloud-provider-kind, docker and kubectl are stand-ins
here (fake executables on PATH, the releases served from loopback: tests/tools/bootstrap_fakes.py); the real path
runs in .github/workflows/e2e-kind.yml."""

from __future__ import annotations

import json

import pytest

from tests.tools.bootstrap_fakes import (base_path, bootstrap, kill_quietly, lines, logging_tool, pinned, publish,
                                         serving, tarball)
from tools.bootstrap import cluster

# cloud-provider-kind keeps running until stopped: a loop that leaves on SIGTERM.
FAKE_PROVIDER = "trap 'exit 0' TERM\nwhile :; do sleep 0.2; done\n"


@pytest.fixture
def machine(tmp_path):
    bin_dir, home, log = tmp_path / "bin", tmp_path / "home", tmp_path / "calls.log"
    bin_dir.mkdir()
    home.mkdir()
    log.touch()
    www = tmp_path / "www"
    kind_body = 'echo "fake kind" >&2\nexit 0\n'
    publish(www, pinned("kind"), ("#!/bin/sh\n" + f'echo "kind $*" >> "{log}"\n' + kind_body).encode())
    publish(www, pinned("cloud-provider-kind"),
            tarball({"cloud-provider-kind": f'echo "cloud-provider-kind $*" >> "{log}"\n' + FAKE_PROVIDER}))
    m = {"bin": bin_dir, "home": home, "log": log, "tools": tmp_path / "tools", "www": www}
    yield m
    state = cluster.state_file(m["tools"])
    if state.is_file() and (pid := json.loads(state.read_text()).get("cloudProviderKindPid")):
        kill_quietly(pid)


def run(m: dict, *args: str, url: str = "http://127.0.0.1:9"):
    return bootstrap("--releases-url", url, *args, path=base_path(m["bin"]), tools=m["tools"], home=m["home"])


def calls(m: dict) -> list[str]:
    return m["log"].read_text().splitlines()


def test_a_cloud_stack_brings_its_own_cluster(machine):
    proc = run(machine, "cluster", "--stack", "eks")
    assert proc.returncode == 0 and lines(proc) == ["cluster: stack eks brings its own cluster; nothing to create"]


def test_an_unknown_stack_is_named_with_the_ones_that_exist(machine):
    proc = run(machine, "cluster", "--stack", "lcoal")
    assert proc.returncode == 2
    assert lines(proc) == [
        "cluster: no stack 'lcoal': the stacks are eks, gke, k3s, local (stacks/Pulumi.<name>.yaml)"]


def test_an_existing_kube_context_is_used_as_it_is(machine):
    logging_tool(machine["bin"], "kubectl", machine["log"], "echo my-cluster\n")
    logging_tool(machine["bin"], "docker", machine["log"])
    proc = run(machine, "cluster")
    assert proc.returncode == 0 and lines(proc) == ["cluster: deploying onto the current kube context my-cluster"]
    assert calls(machine) == ["kubectl config current-context"]


def test_without_kubectl_the_kubeconfig_file_tells_the_context(machine):
    (machine["home"] / ".kube").mkdir()
    (machine["home"] / ".kube" / "config").write_text("apiVersion: v1\nkind: Config\ncurrent-context: k3d-dev\n")
    proc = run(machine, "cluster")
    assert lines(proc) == ["cluster: deploying onto the current kube context k3d-dev"]


def test_no_context_and_no_container_engine_is_one_line(machine):
    proc = run(machine, "cluster")
    assert proc.returncode == 2
    assert lines(proc) == ["cluster: no kube context, and neither Docker nor Podman is installed: point kubectl at a "
                           "cluster, or install Docker or Podman so `make up` can create a kind cluster"]


def test_a_docker_that_does_not_answer_is_named(machine):
    logging_tool(machine["bin"], "docker", machine["log"], "exit 1\n")
    proc = run(machine, "cluster")
    assert proc.returncode == 2 and "docker installed but not answering" in lines(proc)[0]
    assert not machine["tools"].exists()


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_no_context_creates_a_pinned_kind_cluster_and_down_removes_exactly_it(machine, engine):
    logging_tool(machine["bin"], engine, machine["log"], 'case "$1" in ps) echo lb-1; echo lb-2;; esac\n')
    with serving(machine["www"]) as server:
        proc = run(machine, "cluster", url=server.url)
    assert proc.returncode == 0, proc.stderr
    assert "creating the kind cluster quicstack" in proc.stderr and f"with {engine}" in proc.stderr
    kind = machine["tools"] / f"kind-release-v{pinned('kind').version}" / "kind"
    assert f"kind create cluster --name quicstack --wait 180s" in calls(machine)
    assert "cloud-provider-kind --gateway-channel disabled --enable-default-ingress=false" in calls(machine)
    state = json.loads(cluster.state_file(machine["tools"]).read_text())
    assert state["cluster"] == "quicstack" and state["engine"] == engine and state["kind"] == str(kind)
    pid = state["cloudProviderKindPid"]
    assert cluster._is_load_balancer(pid)

    machine["log"].write_text("")
    down = run(machine, "down")
    assert down.returncode == 0, down.stderr
    assert calls(machine) == [f"{engine} ps -aq --filter label=io.x-k8s.cloud-provider-kind.cluster=quicstack",
                              f"{engine} rm -f lb-1 lb-2", "kind delete cluster --name quicstack"]
    assert not cluster._is_load_balancer(pid)
    assert not cluster.state_file(machine["tools"]).exists() and kind.is_file()
    again = run(machine, "down")
    assert again.returncode == 0 and lines(again) == [
        "down: `make up` created no cluster on this machine; nothing to remove"]


def test_down_without_a_record_touches_nothing(machine):
    logging_tool(machine["bin"], "docker", machine["log"])
    proc = run(machine, "down")
    assert proc.returncode == 0 and calls(machine) == []


def test_a_failed_create_is_recorded_so_down_can_clean_up(machine):
    logging_tool(machine["bin"], "docker", machine["log"])
    kind = pinned("kind")
    failing = f'#!/bin/sh\necho "kind $*" >> "{machine["log"]}"\n[ "$1" = create ] && exit 1\nexit 0\n'
    publish(machine["www"], kind, failing.encode())
    with serving(machine["www"]) as server:
        proc = run(machine, "cluster", url=server.url)
    assert proc.returncode == 2 and "`make down` removes what it left" in lines(proc)[-1]
    assert json.loads(cluster.state_file(machine["tools"]).read_text())["cluster"] == "quicstack"
    assert run(machine, "down").returncode == 0
    assert calls(machine)[-1] == "kind delete cluster --name quicstack"
