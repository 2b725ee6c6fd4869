"""What a deploy left in the cluster after its destroy: a snapshot before ``make up``, a comparison after.

The kinds a stack installs beyond its namespaced workloads: namespaces, Services (LoadBalancers hold cloud or
cloud-provider-kind resources), PersistentVolumeClaims and PersistentVolumes, admission webhooks, CRDs, cluster
roles and bindings, API services. Anything present after the destroy that was not there before is left behind.
Namespaces still terminating count: the destroy must have waited for them (``--wait`` gives them time).

One exception is named, not failed: an object its chart marks ``helm.sh/resource-policy: keep`` outlives
``helm uninstall`` by design (cert-manager's CRDs with the chart's default ``crds.keep: true``, which the program
keeps so that an uninstall cannot take every Certificate with it; components/platform/cert_manager.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from tools.bootstrap import kube

KINDS = ("namespaces", "services", "persistentvolumeclaims", "persistentvolumes", "validatingwebhookconfigurations",
         "mutatingwebhookconfigurations", "customresourcedefinitions", "clusterroles", "clusterrolebindings",
         "apiservices")


KEEP = ("helm.sh/resource-policy", "keep")


def _name(item: dict) -> str:
    return "/".join(filter(None, (item["metadata"].get("namespace"), item["metadata"]["name"])))


def current() -> dict[str, dict[str, bool]]:
    """{kind: {namespace/name (or name): kept by its chart's resource policy}} in the current kube context."""
    return {kind: {_name(i): (i["metadata"].get("annotations") or {}).get(KEEP[0]) == KEEP[1] for i in kube.get(kind)}
            for kind in KINDS}


def snapshot() -> dict[str, list[str]]:
    return {kind: sorted(names) for kind, names in current().items()}


def left_behind(before: dict[str, list[str]], now: dict[str, dict[str, bool]], kept: bool) -> dict[str, list[str]]:
    """What is in ``now`` but not ``before``: the objects kept by their chart (``kept``) or the others."""
    return {kind: new for kind in KINDS
            if (new := sorted(n for n, k in now.get(kind, {}).items() if k == kept and n not in before.get(kind, [])))}


def check(before_file: Path, wait: float, say: Callable[[str], None]) -> bool:
    """True when nothing is left; polls up to ``wait`` seconds for objects still being deleted."""
    before = json.loads(before_file.read_text())
    deadline = time.monotonic() + wait
    while (left := left_behind(before, now := current(), kept=False)) and time.monotonic() < deadline:
        time.sleep(5)
    for kind, names in left_behind(before, now, kept=True).items():
        say(f"leftovers: {kind} kept by their chart ({'='.join(KEEP)}), on purpose: {', '.join(names)}")
    if not left:
        say(f"leftovers: nothing left behind ({', '.join(KINDS)} compared with the snapshot before the deploy)")
        return True
    for kind, names in left.items():
        say(f"leftovers: {kind} still there after the destroy: {', '.join(names)}")
    return False
