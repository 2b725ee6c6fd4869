"""Which stacks exist: one ``stacks/Pulumi.<name>.yaml`` each (Pulumi.yaml: ``stackConfigDir: stacks``).

Every tool that takes a stack name checks it here first, so a typo (``lcoal``) lists the stacks that exist
in one line (exit 2) instead of asking for a passphrase, calling the Pulumi CLI or creating a stray stack.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = ROOT / "stacks"
# Pulumi's stack names: letters, digits, '-', '_' and '.', at most 100 characters
# (sdk/go/common/tokens/names.go, ValidateStackName).
NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class UnknownStack(Exception):
    """The one line to print, exit 2."""


def path_of(name: str, root: Path = STACKS_DIR) -> Path:
    return root / f"Pulumi.{name}.yaml"


def known(root: Path = STACKS_DIR) -> list[str]:
    """The stacks that have a settings file, sorted."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def require(name: str, root: Path = STACKS_DIR) -> Path:
    """The stack's settings file, or UnknownStack naming the stacks that exist."""
    if not NAME.fullmatch(name) or name in (".", ".."):
        raise UnknownStack(f"{name!r} is not a stack name (letters, digits, '-', '_' and '.', at most 100)")
    path = path_of(name, root)
    if path.is_file():
        return path
    stacks = ", ".join(known(root)) or "none"
    raise UnknownStack(f"no stack {name!r} (no {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}); "
                       f"the stacks are: {stacks}; start a new one with `quicstack init {name} --cloud CLOUD`")
