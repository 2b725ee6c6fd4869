"""``python -m tools.plan STACK [--out DIR] [--show-secrets]``: plan a stack offline.

Runs the real program for ``stacks/Pulumi.STACK.yaml`` (or a stack file path) under Pulumi's mocks:
no Pulumi CLI, no credentials, no network. Writes ``DIR/STACK/manifests/*.yaml``,
``DIR/STACK/resources.json`` and ``DIR/STACK/outputs.json``; prints resource counts by type and the
longest dependency chain. Exit 0 on success, 2 for invalid config (one line), 1 for anything else
(one line).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import time
from pathlib import Path

import pulumi
import yaml

from stacks.config import ConfigError
from tools.plan import mocks, writer

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "quicstack"


def stack_file(stack: str) -> tuple[str, Path]:
    """A stack name (``local``) or a stack file path (``x/Pulumi.test.yaml``) -> (name, path)."""
    path = Path(stack)
    if path.suffix in (".yaml", ".yml"):
        return path.name.removeprefix("Pulumi.").rsplit(".", 1)[0], path
    return stack, ROOT / "stacks" / f"Pulumi.{stack}.yaml"


def config_values(path: Path) -> dict[str, str]:
    """The stack file's ``config:`` as the CLI hands it to the program: strings, objects as JSON."""
    doc = yaml.safe_load(path.read_text()) or {}
    config = doc.get("config") or {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name (stacks/Pulumi.<name>.yaml) or a stack file path")
    parser.add_argument("--out", default="build/plan", help="output directory (default: build/plan)")
    parser.add_argument("--show-secrets", action="store_true", help="write secret values instead of redacting them")
    args = parser.parse_args(argv)

    name, path = stack_file(args.stack)
    if not path.is_file():
        print(f"error: no stack file {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        monitor = mocks.install(PROJECT, name)
        pulumi.runtime.set_all_config(config_values(path))
        outputs = mocks.run(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
        summary = writer.write(Path(args.out) / name, monitor.registrations, outputs, args.show_secrets)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - a plan failure is reported in one line, not a traceback
        print(f"error: planning {name} failed: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 1
    for typ, count in sorted(summary["counts"].items()):
        print(f"{count:4d}  {typ}")
    total = sum(summary["counts"].values())
    print(f"{total} resources, {summary['manifests']} Kubernetes objects, longest dependency chain {summary['chain']}, "
          f"{time.perf_counter() - started:.2f} s -> {Path(args.out) / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
