"""``quicstack outputs STACK [--show-secrets]``: a deployed stack's outputs as JSON; ``quicstack outputs reference``.

``STACK`` runs ``pulumi stack output --json --stack STACK`` (the Pulumi CLI, with the backend and
passphrase of your shell; ``make outputs`` sets the project's local backend). ``reference`` prints the
table of every output and what it is.
"""

from __future__ import annotations

import argparse
import json
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quicstack outputs", description=__doc__.split("\n\n")[0])
    p.add_argument("stack", metavar="STACK|reference", help="a deployed stack's name, or `reference`")
    p.add_argument("--show-secrets", action="store_true", help="print secret outputs in plain text")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.stack == "reference":
        from tools import outputs_reference

        print(outputs_reference.render())
        return 0
    from tools.verify.inputs import UsageError, stack_outputs  # the verifier's reader (it needs the tools' extra)

    try:
        outputs = stack_outputs(args.stack, show_secrets=args.show_secrets, instead="deploy it first (`make up`)")
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(outputs, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
