"""``python -m tools.engine.upstream DIR KWOK_VERSION``: upstream files the control-plane tests read, from their
projects' own releases on the Go module proxy (``go mod download``), copied into ``DIR/<project>-<version>/``.

Nothing fetched is committed. Where each comes from:
- cert-manager: ``deploy/crds/*.yaml`` of ``github.com/cert-manager/cert-manager`` at the chart version the program
  pins (``components.platform.cert_manager.CHART_VERSION``); the chart installs the same CRDs (``crds.enabled``).
- Prometheus operator: ``example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml`` of
  ``github.com/prometheus-operator/prometheus-operator``; the program renders a PodMonitor (``relay.metrics:
  podmonitor``) but installs no operator, so this is the newest release the proxy serves.
- kwok's "fast" Stages (``kustomize/stage/node/fast``, ``kustomize/stage/pod/fast`` of ``sigs.k8s.io/kwok`` at the
  kwok the Makefile builds): nodes become Ready and pods Running/Ready at once, deleted pods go.
Prints one line; a folder already there is reused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from components.platform.cert_manager import CHART_VERSION as CERT_MANAGER_VERSION

PROMETHEUS_OPERATOR_VERSION = "v0.85.0"


@dataclass(frozen=True)
class Source:
    name: str
    module: str
    version: str
    globs: tuple[str, ...]

    def target(self, root: Path) -> Path:
        return root / f"{self.name}-{self.version}"


CRDS = (
    Source("cert-manager", "github.com/cert-manager/cert-manager", CERT_MANAGER_VERSION, ("deploy/crds/*.yaml",)),
    Source("prometheus-operator", "github.com/prometheus-operator/prometheus-operator", PROMETHEUS_OPERATOR_VERSION,
           ("example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",)),
)


def kwok_stages(version: str) -> Source:
    return Source("kwok-stages", "sigs.k8s.io/kwok", version,
                  ("kustomize/stage/node/fast/*.yaml", "kustomize/stage/pod/fast/*.yaml"))


def files(root: Path, sources: tuple[Source, ...]) -> list[Path]:
    """The Kubernetes objects under ``root`` of ``sources`` (empty where one is missing)."""
    found = (p for s in sources for p in s.target(root).glob("*.yaml") if p.name != "kustomization.yaml")
    return sorted(found)


def fetch(source: Source, root: Path) -> None:
    download = subprocess.run(["go", "mod", "download", "-json", f"{source.module}@{source.version}"],
                              capture_output=True, text=True, timeout=600, cwd=root)
    info = json.loads(download.stdout or "{}")
    if download.returncode or "Dir" not in info:
        raise RuntimeError(f"go mod download {source.module}@{source.version}: "
                           f"{info.get('Error') or download.stderr.strip()}")
    found = sorted(p for g in source.globs for p in Path(info["Dir"]).glob(g) if p.name != "kustomization.yaml")
    if not found:
        raise RuntimeError(f"{source.module}@{source.version} has no {', '.join(source.globs)}")
    partial = root / f".{source.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for path in found:
        (partial / path.name).write_bytes(path.read_bytes())  # the module cache is read-only; the copies are not
    partial.rename(source.target(root))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.engine.upstream DIR KWOK_VERSION", file=sys.stderr)
        return 2
    root = Path(args[0])
    root.mkdir(parents=True, exist_ok=True)
    sources = (*CRDS, kwok_stages(args[1]))
    missing = [s for s in sources if not s.target(root).is_dir()]
    if not missing:
        print(f"upstream files of {', '.join(f'{s.name} {s.version}' for s in sources)}: reused from {root}")
        return 0
    if not shutil.which("go"):
        print("error: Go is needed to fetch files from the Go module proxy: https://go.dev/dl", file=sys.stderr)
        return 2
    print(f"fetching {', '.join(f'{s.name} {s.version}' for s in missing)} into {root} (go mod download)")
    try:
        for source in missing:
            fetch(source, root)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"error: {err}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
