"""``quicstack``: one command for the project's tools (the console script of pyproject.toml).

``quicstack COMMAND ARGS...`` hands ARGS to the tool's own parser, so ``quicstack plan eks`` is
``python -m tools.plan eks`` and ``quicstack verify --help`` shows verify's options. A tool is imported
only when its command runs: ``quicstack --help`` stays fast, and ``plan`` never loads the QUIC client.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable

# command -> (module whose main(argv) runs it, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("tools.init", "start a stack from an example: init STACK --cloud {existing,k3s,gke,eks}"),
    "plan": ("tools.plan.__main__", "plan a stack offline (no CLI, no cloud): plan STACK [--out DIR]"),
    "diff": ("tools.plan_diff", "what changed between two plan directories: diff OLD NEW"),
    "config": ("tools.config_check", "check a stack's config (config check STACK) or print the reference"),
    "outputs": ("tools.outputs", "a deployed stack's outputs (outputs STACK) or the outputs reference"),
    "verify": ("tools.verify.__main__", "check a deployed stack end to end: verify --stack STACK"),
    "token": ("tools.token.__main__", "mint a relay token: token --stack STACK --publish PREFIX"),
    "publish": ("tools.publish.__main__", "publish a live test pattern to the relay: publish --stack STACK"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(["usage: quicstack COMMAND [ARGS...]   (quicstack COMMAND --help for its options)", "",
                      "commands:", *lines, "", "docs/cli.md describes each; `make` lists the make targets."])


def entry(command: str) -> Callable[[list[str]], int]:
    module = importlib.import_module(COMMANDS[command][0])
    return module.main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        guess = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f"did you mean {guess[0]}? " if guess else ""
        print(f"quicstack: {command!r} is not a command; {hint}commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        return entry(command)(rest) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
