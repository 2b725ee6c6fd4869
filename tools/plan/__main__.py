"""``python -m tools.plan STACK [--out DIR] [--show-secrets] [--preview]``: plan a stack offline.

Runs the real program for ``stacks/Pulumi.STACK.yaml`` (or a stack file path) under Pulumi's mocks:
no Pulumi CLI, no credentials, no network. Writes ``DIR/STACK/manifests/*.yaml``,
``DIR/STACK/resources.json`` and ``DIR/STACK/outputs.json``; prints resource counts by type and the
longest dependency chain. Exit 0 on success, 2 for an invalid stack file or config (one line), 1 for
anything else (one line). A failed plan removes ``DIR/STACK``, so nothing stale looks current.

``--preview`` runs the program as ``pulumi preview`` would: every output a resource computes is
unknown, so an ``apply`` that assumes a known value shows up here.

Example values (the shipped stacks' example.com names, documentation address ranges, placeholder
zones and projects) plan here, with a note on stderr: nothing reaches a cloud. Under the engine
(``pulumi up``/``preview``) the program refuses them. On a terminal, a plan that takes more than a
moment shows a progress line on stderr.
"""

from __future__ import annotations

import argparse
import runpy
import shutil
import sys
import time
from pathlib import Path

import pulumi

from stacks.config import ConfigError, examples
from tools import stacknames
from tools.plan import mocks, writer
from tools.plan.progress import Progress
from tools.plan.stackfile import StackFileError, config_values, settings_of

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "quicstack"


def stack_file(stack: str) -> tuple[str, Path]:
    """A stack name (``local``) or a stack file path (``x/Pulumi.test.yaml``) -> (name, path)."""
    path = Path(stack)
    if path.suffix in (".yaml", ".yml"):
        return path.name.removeprefix("Pulumi.").rsplit(".", 1)[0], path
    return stack, stacknames.require(stack, ROOT / "stacks")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name (stacks/Pulumi.<name>.yaml) or a stack file path")
    parser.add_argument("--out", default="build/plan", help="output directory (default: build/plan)")
    parser.add_argument("--show-secrets", action="store_true", help="write secret values instead of redacting them")
    parser.add_argument("--preview", action="store_true",
                        help="plan as `pulumi preview` sees it: computed outputs unknown")
    args = parser.parse_args(argv)

    try:
        name, path = stack_file(args.stack)
    except stacknames.UnknownStack as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"error: no stack file {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    out_dir = Path(args.out) / name
    try:
        summary = plan(name, path, out_dir, args.show_secrets, args.preview)
    except BaseException as err:
        # Nothing from an earlier run may stay behind looking current.
        shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(err, (ConfigError, StackFileError)):
            print(err, file=sys.stderr)
            return 2
        if not isinstance(err, Exception):
            raise
        print(f"error: planning {name} failed: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 1
    _note_examples(name, path)
    for typ, count in sorted(summary["counts"].items()):
        print(f"{count:4d}  {typ}")
    total = sum(summary["counts"].values())
    print(f"{total} resources, {summary['manifests']} Kubernetes objects, longest dependency chain {summary['chain']}, "
          f"{time.perf_counter() - started:.2f} s -> {Path(args.out) / name}")
    return 0


def plan(name: str, path: Path, out_dir: Path, show_secrets: bool, preview: bool) -> dict:
    """Run the program for one stack file and write what it registered to ``out_dir``."""
    values = config_values(path)  # the file's shape first: a broken file never reaches the program
    monitor = mocks.install(PROJECT, name, preview=preview)
    pulumi.runtime.set_all_config(values)
    with examples.offline_plan(), Progress(sys.stderr, name, lambda: len(monitor.registrations)):
        outputs = mocks.run(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
    return writer.write(out_dir, monitor.registrations, outputs, show_secrets)


def _note_examples(name: str, path: Path) -> None:
    """One line on stderr when the stack holds example values: they plan here, the engine refuses them."""
    found = examples.found(settings_of(path))
    if found:
        print(f"note: stack {name} holds example values ({', '.join(key for key, _, _ in found)}): they plan "
              f"offline, but `pulumi up` refuses them; `quicstack config check {name}` says how to set each",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
