"""The third-party validators every planned object goes through."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NODE_VALIDATOR = ROOT / "tests" / "validators" / "validate.cjs"
CHECKOV = ROOT / ".checkov-venv" / "bin" / "checkov"
CHECKOV_SKIPS = ROOT / "tests" / "checkov-skips.yaml"
KUBERNETES_VERSION = "1.31"


def kubernetes_models(files: list[Path]) -> list[dict]:
    """kubernetes-models (ajv) results, one dict per object; needs ``npm ci`` in tests/validators."""
    proc = subprocess.run(["node", str(NODE_VALIDATOR), *map(str, files)], capture_output=True, text=True, timeout=120)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert results or not files, proc.stderr
    return results


def checkov_skips() -> dict[str, str]:
    """Skipped check id -> the written reason."""
    return yaml.safe_load(CHECKOV_SKIPS.read_text()) or {}


def checkov(directory: Path, framework: str = "kubernetes", quiet: bool = True) -> dict:
    """checkov's JSON report for ``framework`` over ``directory``, with the repo's skip list applied
    (``quiet`` leaves passed and skipped checks out of the report)."""
    skips = ",".join(checkov_skips())
    cmd = [str(CHECKOV), "-d", str(directory), "--framework", framework, "-o", "json", "--skip-download"]
    cmd += ["--quiet"] if quiet else []
    if skips:
        cmd += ["--skip-check", skips]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    return report[0] if isinstance(report, list) else report
