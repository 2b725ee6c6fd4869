"""``quicstack config check STACK``: is the stack's config ready for ``pulumi up``? ``quicstack config reference``.

``check`` reads ``stacks/Pulumi.STACK.yaml`` as the Pulumi CLI hands it to the program and runs every
check the program runs under the engine, without the engine: the file's shape, every key and rule, no
example value left (one line per value, naming the key and how to set it), and, for a cloud stack, no
empty passphrase. A stack made with ``pulumi stack init`` + ``pulumi config set`` is checked the same
way (the CLI writes the same file). Exit 0 when ready, 2 with the problems (one line each).
``reference`` prints the config reference (every key, its default and what it does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stacks.config import ConfigError, examples, passphrase
from tools import stacknames
from tools.plan.stackfile import StackFileError, settings_of


def check(stack: str) -> list[str]:
    """The problems that would stop ``pulumi up`` of this stack, one line each; empty when it is ready."""
    return check_file(stack, stacknames.require(stack))


def check_file(stack: str, path: Path) -> list[str]:
    """``check`` of the stack file at ``path``."""
    problems = []
    try:
        passphrase.check(stack, path)
    except passphrase.StackError as err:
        problems.append(str(err))
    try:
        settings = settings_of(path)
    except (ConfigError, StackFileError) as err:
        return [*problems, str(err)]
    return problems + [str(examples.error(key, value, stack)) for key, value, _ in examples.found(settings)]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quicstack config", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="action", required=True, metavar="{check,reference}")
    one = sub.add_parser("check", help="check stacks/Pulumi.STACK.yaml as `pulumi up` would, without the engine")
    one.add_argument("stack", help="stack name (stacks/Pulumi.<name>.yaml)")
    sub.add_parser("reference", help="print the config reference (Markdown)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.action == "reference":
        from tools import config_reference

        print(config_reference.render())
        return 0
    try:
        problems = check(args.stack)
    except stacknames.UnknownStack as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return 2
    print(f"stack {args.stack}: ready for `pulumi up --stack {args.stack}` (or `make up STACK={args.stack}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
