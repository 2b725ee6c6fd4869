"""A kind cluster for the ``local`` stack when the machine has no kube context, and its removal.

``create`` decides, in this order: a stack other than ``local`` brings its own cluster (nothing to do); a current
kube context is where ``local`` deploys (nothing to do); else Docker or Podman must answer, and then it installs
the pinned kind and cloud-provider-kind (``release.py``), creates the cluster ``quicstack`` and starts
cloud-provider-kind in the background, so LoadBalancer Services get addresses. It writes what it created to a
state file; ``down`` removes exactly that (the LoadBalancer containers cloud-provider-kind made carry the
cluster's label) and nothing when the file is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from tools.bootstrap import release, versions

CLUSTER = "quicstack"
# cloud-provider-kind labels each load balancer container with its cluster (pkg/constants, NodeCCMLabelKey).
LB_LABEL = "io.x-k8s.cloud-provider-kind.cluster"
# No Gateway API CRDs and no default IngressClass: the stack brings its own ingress controller, and `down`
# must leave nothing in a cluster it did not make.
CLOUD_PROVIDER_KIND_FLAGS = ("--gateway-channel", "disabled", "--enable-default-ingress=false")
_CONTEXT_LINE = re.compile(r"^current-context:\s*[\"']?([^\"'\s]+)", re.M)


def state_file(tools: Path) -> Path:
    return tools / f"kind-{CLUSTER}" / "state.json"


def current_context() -> str | None:
    """The kube context the local stack would deploy onto (kubectl's answer, else the kubeconfig files' line)."""
    if kubectl := shutil.which("kubectl"):
        proc = subprocess.run([kubectl, "config", "current-context"], capture_output=True, text=True, timeout=30)
        return (proc.stdout.strip() or None) if proc.returncode == 0 else None
    paths = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    for path in filter(None, paths.split(os.pathsep)):
        try:
            if match := _CONTEXT_LINE.search(Path(path).read_text()):
                return match[1]
        except OSError:
            continue
    return None


def container_engine() -> tuple[str | None, str]:
    """(docker|podman that answers, or None; why not)."""
    installed = [name for name in ("docker", "podman") if shutil.which(name)]
    for name in installed:
        if subprocess.run([name, "info"], capture_output=True, timeout=60).returncode == 0:
            return name, ""
    if installed:
        return None, f"{' and '.join(installed)} installed but not answering (`{installed[0]} info` fails): start it"
    return None, "neither Docker nor Podman is installed"


def _tools(tools: Path, base_url: str, say: Callable[[str], None]) -> tuple[Path, Path]:
    system, arch = versions.host()
    kind = release.install(release.kind(versions.KIND_VERSION, system, arch), tools, base_url, say)
    cpk = release.install(release.cloud_provider_kind(versions.CLOUD_PROVIDER_KIND_VERSION, system, arch),
                          tools, base_url, say)
    return kind, cpk


def create(stack: str, tools: Path, base_url: str, say: Callable[[str], None]) -> None:
    known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (versions.ROOT / "stacks").glob("Pulumi.*.yaml"))
    if stack not in known:
        raise release.InstallError(f"no stack {stack!r}: the stacks are {', '.join(known)} "
                                   f"(stacks/Pulumi.<name>.yaml)")
    if stack != "local":
        say(f"cluster: stack {stack} brings its own cluster; nothing to create")
        return
    if context := current_context():
        say(f"cluster: deploying onto the current kube context {context}")
        return
    engine, why = container_engine()
    if engine is None:
        raise release.InstallError(f"no kube context, and {why}: point kubectl at a cluster, or install Docker or "
                                   f"Podman so `make up` can create a kind cluster")
    kind, cpk = _tools(tools, base_url, say)
    env = {**os.environ, **({"KIND_EXPERIMENTAL_PROVIDER": "podman"} if engine == "podman" else {})}
    say(f"cluster: no kube context; creating the kind cluster {CLUSTER} with {engine} (kind v{versions.KIND_VERSION})")
    state = state_file(tools)
    state.parent.mkdir(parents=True, exist_ok=True)
    _write(state, {"cluster": CLUSTER, "engine": engine, "kind": str(kind)})  # before: a failed create is undone too
    if subprocess.run([str(kind), "create", "cluster", "--name", CLUSTER, "--wait", "180s"], env=env).returncode:
        raise release.InstallError(f"`kind create cluster --name {CLUSTER}` failed (above); `make down` removes "
                                   f"what it left")
    say(f"cluster: starting cloud-provider-kind v{versions.CLOUD_PROVIDER_KIND_VERSION} (LoadBalancer addresses), "
        f"log {state.parent / 'cloud-provider-kind.log'}")
    pid = _start_load_balancer(cpk, state.parent / "cloud-provider-kind.log", env)
    _write(state, {"cluster": CLUSTER, "engine": engine, "kind": str(kind), "cloudProviderKindPid": pid})
    say(f"cluster: kind-{CLUSTER} is the current kube context; `make down` removes the cluster and stops the provider")


def _start_load_balancer(cpk: Path, log: Path, env: dict) -> int:
    with log.open("ab") as out:
        process = subprocess.Popen([str(cpk), *CLOUD_PROVIDER_KIND_FLAGS], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    time.sleep(1)
    if process.poll() is not None:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise release.InstallError(f"cloud-provider-kind exited at once ({tail[0][:200]}); see {log}")
    return process.pid


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _is_load_balancer(pid: int) -> bool:
    proc = subprocess.run(["ps", "-ww", "-p", str(pid), "-o", "command="], capture_output=True, text=True, timeout=30)
    return proc.returncode == 0 and "cloud-provider-kind" in proc.stdout  # -ww: never cut at 80 columns


def _stop(pid: int, grace: float = 10) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _is_load_balancer(pid):
        time.sleep(0.2)
    if _is_load_balancer(pid):
        os.kill(pid, signal.SIGKILL)


def down(tools: Path, say: Callable[[str], None]) -> None:
    state = state_file(tools)
    if not state.is_file():
        say("down: `make up` created no cluster on this machine; nothing to remove")
        return
    recorded = json.loads(state.read_text())
    pid = recorded.get("cloudProviderKindPid")
    if pid and _is_load_balancer(pid):
        say(f"down: stopping cloud-provider-kind (pid {pid})")
        _stop(pid)
    engine = recorded["engine"]
    env = {**os.environ, **({"KIND_EXPERIMENTAL_PROVIDER": "podman"} if engine == "podman" else {})}
    say(f"down: deleting the kind cluster {recorded['cluster']} and its load balancer containers")
    leftover = subprocess.run([engine, "ps", "-aq", "--filter", f"label={LB_LABEL}={recorded['cluster']}"],
                              capture_output=True, text=True, timeout=60).stdout.split()
    if leftover:
        subprocess.run([engine, "rm", "-f", *leftover], capture_output=True, timeout=120, check=True)
    subprocess.run([recorded["kind"], "delete", "cluster", "--name", recorded["cluster"]], env=env, check=True,
                   timeout=300)
    state.unlink()
    say(f"down: removed; the downloaded kind and cloud-provider-kind stay in {tools} for the next `make up`")
