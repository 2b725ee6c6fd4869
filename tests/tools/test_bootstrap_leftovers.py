"""The kind end-to-end workflow's leftovers check: a snapshot before `make up`, a comparison after `make destroy`.
kubectl is a stand-in here (it answers from JSON files); the real one runs in .github/workflows/e2e-kind.yml."""

from __future__ import annotations

import json

from tests.tools.bootstrap_fakes import base_path, bootstrap, lines, script
from tools.bootstrap import leftovers


def cluster_with(tmp_path, objects: dict[str, list[tuple[str | None, str]]]):
    """A fake kubectl answering `get KIND --all-namespaces -o json` from ``objects``."""
    data = tmp_path / "objects"
    data.mkdir(exist_ok=True)
    for kind in leftovers.KINDS:
        items = [{"metadata": {"name": n.removesuffix(KEPT), **({"namespace": ns} if ns else {}),
                               **({"annotations": {"helm.sh/resource-policy": "keep"}} if n.endswith(KEPT) else {})}}
                 for ns, n in objects.get(kind, [])]
        (data / f"{kind}.json").write_text(json.dumps({"items": items}))
    script(tmp_path / "bin" / "kubectl", f'cat "{data}/$2.json"\n')


def run(tmp_path, *args):
    (tmp_path / "home").mkdir(exist_ok=True)
    return bootstrap("leftovers", *args, path=base_path(tmp_path / "bin"), tools=tmp_path / "tools",
                     home=tmp_path / "home")


KEPT = " (kept)"  # a name ending so is annotated helm.sh/resource-policy: keep
BEFORE = {"namespaces": [(None, "default"), (None, "kube-system")], "services": [("default", "kubernetes")],
          "customresourcedefinitions": []}


def test_a_clean_destroy_passes(tmp_path):
    cluster_with(tmp_path, BEFORE)
    assert run(tmp_path, "snapshot", str(tmp_path / "before.json")).returncode == 0
    proc = run(tmp_path, "check", str(tmp_path / "before.json"))
    assert proc.returncode == 0 and lines(proc)[0].startswith("leftovers: nothing left behind")


def test_what_the_destroy_left_is_named_per_kind(tmp_path):
    cluster_with(tmp_path, BEFORE)
    run(tmp_path, "snapshot", str(tmp_path / "before.json"))
    cluster_with(tmp_path, {**BEFORE, "namespaces": BEFORE["namespaces"] + [(None, "moq")],
                            "services": BEFORE["services"] + [("moq", "relay")],
                            "validatingwebhookconfigurations": [(None, "cert-manager-webhook")],
                            "customresourcedefinitions": [(None, "certificates.cert-manager.io")]})
    proc = run(tmp_path, "check", str(tmp_path / "before.json"))
    assert proc.returncode == 1
    assert lines(proc) == ["leftovers: namespaces still there after the destroy: moq",
                           "leftovers: services still there after the destroy: moq/relay",
                           "leftovers: validatingwebhookconfigurations still there after the destroy: "
                           "cert-manager-webhook",
                           "leftovers: customresourcedefinitions still there after the destroy: "
                           "certificates.cert-manager.io"]


def test_without_kubectl_it_says_so_in_one_line(tmp_path):
    (tmp_path / "bin").mkdir()
    proc = run(tmp_path, "snapshot", str(tmp_path / "before.json"))
    assert proc.returncode == 2 and lines(proc) == ["leftovers: kubectl is not on PATH"]


def test_what_a_chart_keeps_on_purpose_is_named_and_does_not_fail(tmp_path):
    cluster_with(tmp_path, BEFORE)
    run(tmp_path, "snapshot", str(tmp_path / "before.json"))
    cluster_with(tmp_path, {**BEFORE, "customresourcedefinitions": [(None, "issuers.cert-manager.io" + KEPT)]})
    proc = run(tmp_path, "check", str(tmp_path / "before.json"))
    assert proc.returncode == 0
    assert lines(proc)[0] == ("leftovers: customresourcedefinitions kept by their chart "
                              "(helm.sh/resource-policy=keep), on purpose: issuers.cert-manager.io")
    assert lines(proc)[1].startswith("leftovers: nothing left behind")
