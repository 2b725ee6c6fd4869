"""``quicstack init STACK --cloud {existing,k3s,gke,eks}``: start ``stacks/Pulumi.STACK.yaml`` from an example.

Copies the example stack of that cloud (``local`` for ``existing``) under the new name, marking every
value that is an example (a documentation domain or e-mail, a documentation address range, a
placeholder zone or project) with ``# <- set yours``. The program refuses those values under the
engine, so ``quicstack config check STACK`` names what is left to set. Never overwrites a stack file.

The alternative with the Pulumi CLI alone: ``pulumi stack init STACK``, then ``pulumi config set
quicstack:cloud eks``, ``pulumi config set quicstack:domain quic.your.domain``, ``pulumi config set
--path quicstack:eks.region eu-west-1``... (docs/cli.md lists the keys each cloud needs); the CLI
writes the same file, and ``quicstack config check STACK`` checks it the same way.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from stacks.config import ConfigError, examples
from tools import stacknames
from tools.plan.stackfile import StackFileError, settings_of

EXAMPLE_OF = {"existing": "local", "k3s": "k3s", "gke": "gke", "eks": "eks"}
MARK = "# <- set yours"
# New stacks get the Gateway API edge; the shipped examples (and stacks started before) keep ingress-nginx, the
# config default, so their plans do not change. ingress-nginx is retired upstream (docs/edge-gateway.md).
EDGES = ("envoy-gateway", "ingress-nginx")
EDGE_NOTE = "# the edge (docs/edge-gateway.md): envoy-gateway, or ingress-nginx (retired upstream in March 2026)"


def with_edge(text: str, edge: str) -> str:
    """``text`` with ``quicstack:ingress.controller`` set to ``edge`` (into its ``quicstack:ingress`` section when
    the example has one, else as a new section at the top of ``config:``)."""
    if edge == "ingress-nginx" and "quicstack:ingress:" not in text:
        return text  # the config default: the file stays the example
    if re.search(r"^\s+controller:", text, re.M):
        raise ConfigError("the example already sets ingress.controller; edit it there")
    section = re.search(r"^(\s*)quicstack:ingress:[ \t]*\n", text, re.M)
    if section:
        indent = section[1] + "  "
        return f"{text[:section.end()]}{indent}controller: {edge}  {EDGE_NOTE}\n{text[section.end():]}"
    config = re.search(r"^config:[ \t]*\n", text, re.M)
    if not config:
        raise ConfigError("the example has no `config:` section")
    added = f"  {EDGE_NOTE}\n  quicstack:ingress:\n    controller: {edge}\n"
    return text[:config.end()] + added + text[config.end():]


def marked(text: str, values: list[str]) -> str:
    """``text`` with every line that holds one of ``values`` (as a mapping value or list item) marked."""
    wanted = set(values)
    lines = []
    for line in text.splitlines():
        match = re.fullmatch(r"(\s*(?:- |[\w:.-]+: ))(['\"]?)(.*?)\2\s*", line)
        if match and match[3] in wanted and MARK not in line:
            line = f"{line}  {MARK}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def render(stack: str, cloud: str, root: Path, edge: str = EDGES[0]) -> tuple[str, list[str]]:
    """The new stack file's text and the keys the user must set."""
    example = stacknames.path_of(EXAMPLE_OF[cloud], root)
    found = examples.found(settings_of(example))
    todo = f"Set every value marked `{MARK}`,\n# then run" if found else "Check it with"
    header = (f"# Stack {stack}: cloud {cloud}, started from {example.name} by `quicstack init`. {todo} "
              f"`quicstack config check {stack}` (docs/cli.md).\n")
    text = with_edge(example.read_text(), edge)
    return header + marked(text, [value for _, value, _ in found]), [k for k, _, _ in found]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quicstack init", description=__doc__.split("\n\n")[0])
    p.add_argument("stack", help="the new stack's name (letters, digits, '-', '_', '.')")
    p.add_argument("--cloud", required=True, choices=list(EXAMPLE_OF), help="where the cluster comes from")
    p.add_argument("--edge", choices=EDGES, default=EDGES[0],
                   help="the edge controller (default: envoy-gateway, the Gateway API edge with HTTP/3)")
    p.add_argument("--stacks-dir", type=Path, default=stacknames.STACKS_DIR, metavar="DIR",
                   help="where stack files live (default: stacks/, Pulumi.yaml's stackConfigDir)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    path = stacknames.path_of(args.stack, args.stacks_dir)
    if not stacknames.NAME.fullmatch(args.stack) or args.stack in (".", ".."):
        print(f"error: {args.stack!r} is not a stack name (letters, digits, '-', '_' and '.', at most 100)",
              file=sys.stderr)
        return 2
    try:
        text, keys = render(args.stack, args.cloud, args.stacks_dir, args.edge)
        with path.open("x") as out:  # exclusive: never overwrites, even a file made a moment ago
            out.write(text)
    except FileExistsError:
        print(f"error: {path} exists: quicstack init never overwrites a stack; edit it, or pick another name",
              file=sys.stderr)
        return 2
    except (OSError, ConfigError, StackFileError) as err:
        print(f"error: cannot start {path.name}: {err}", file=sys.stderr)
        return 2
    todo = f"set {', '.join(keys)} (marked `{MARK}`), then run" if keys else "then run"
    print(f"wrote {path}: {todo} `quicstack config check {args.stack}` and `make up STACK={args.stack}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
