"""Command-line tools, one ``quicstack`` subcommand each (``tools/cli.py``); ``python -m tools.X`` runs one too.

Run from outside the project's virtualenv (``python3 -m tools.plan eks`` with a system Python that lacks
the SDK), every tool would end in a ModuleNotFoundError traceback from some import deep down. This
package is imported first, so it checks for the runtime set once and says in one line how to get in
(exit 2). Standard library only, and syntax old Pythons still parse, so the line itself always shows.
"""

import importlib.util
import sys

# What every tool imports (requirements.txt): the program's SDK and its config model.
_RUNTIME = ("pulumi", "pydantic", "yaml")
# Tools of the standard library alone, run by the system Python before the venv exists (make up's set-up).
_STDLIB_ONLY = ("tools.bootstrap",)


def _running_module():
    """The module `python -m` runs (None otherwise), known while its package is still being imported."""
    argv = list(getattr(sys, "orig_argv", []))
    return argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None


def _outside_hint():
    running = _running_module() or ""
    if any(running == name or running.startswith(name + ".") for name in _STDLIB_ONLY):
        return None
    missing = [name for name in _RUNTIME if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return ("quicstack: this Python ({}) lacks {} of the project's environment: run `make venv` once, then "
            "`venv/bin/quicstack ...` (or `venv/bin/python -m tools...`)".format(sys.executable, ", ".join(missing)))


_HINT = _outside_hint()
if _HINT:
    sys.stderr.write(_HINT + "\n")
    raise SystemExit(2)
