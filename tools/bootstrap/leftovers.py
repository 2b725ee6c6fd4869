"""What a deploy left in the cluster after its destroy: a snapshot before ``make up``, a comparison after.

The kinds a stack installs beyond its namespaced workloads: namespaces, Services (LoadBalancers hold cloud or
cloud-provider-kind resources), PersistentVolumeClaims and PersistentVolumes, admission webhooks, CRDs, cluster
roles and bindings, API services. Anything present after the destroy that was not there before is left behind.
Namespaces still terminating count: the destroy must have waited for them (``--wait`` gives them time).
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


def snapshot() -> dict[str, list[str]]:
    """{kind: sorted namespace/name (or name)} of every object of ``KINDS`` in the current kube context."""
    return {kind: sorted("/".join(filter(None, (i["metadata"].get("namespace"), i["metadata"]["name"])))
                         for i in kube.get(kind)) for kind in KINDS}


def left_behind(before: dict[str, list[str]], now: dict[str, list[str]]) -> dict[str, list[str]]:
    return {kind: new for kind in KINDS if (new := sorted(set(now.get(kind, [])) - set(before.get(kind, []))))}


def check(before_file: Path, wait: float, say: Callable[[str], None]) -> bool:
    """True when nothing is left; polls up to ``wait`` seconds for objects still being deleted."""
    before = json.loads(before_file.read_text())
    deadline = time.monotonic() + wait
    while (left := left_behind(before, snapshot())) and time.monotonic() < deadline:
        time.sleep(5)
    if not left:
        say(f"leftovers: nothing left behind ({', '.join(KINDS)} compared with the snapshot before the deploy)")
        return True
    for kind, names in left.items():
        say(f"leftovers: {kind} still there after the destroy: {', '.join(names)}")
    return False
