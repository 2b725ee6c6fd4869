"""Start the project's program under the real Pulumi CLI, inline through the Automation API.

The Python language host (``pulumi-language-python``) is not served by the Go module proxy, so ``pulumi preview``
alone stops at "no language plugin". The Automation API's inline programs need no host: the CLI calls back into
this process, which runs ``__main__.py`` itself. Everything before that is the real CLI: it loads the sandbox's
``Pulumi.yaml`` and ``stacks/Pulumi.<stack>.yaml`` (copies of the checked-in files), validates the config against
the project's declarations, decrypts secure values with the stack's passphrase, and hands the config over.

Run in a subprocess (``python -m tests.support.pulumi_inline SPEC``), one per stack: the suite's own process holds
Pulumi's mocks (``tests/conftest.py``), and a subprocess is bounded by a timeout and stopped by its PID. It prints
one JSON line: how far the preview got (``stage``), the engine's error, and the resources the program registered.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

from tests.support.plan import ROOT
from tests.support.pulumi_cli import Sandbox, loopback_only

MAIN = ROOT / "__main__.py"


def _program(ran: list[str]) -> None:
    """The project's own composition, exactly as the language host would run it; ``ran`` records that its
    last line was reached (each resource constructor returns before the engine answers)."""
    runpy.run_path(str(MAIN), run_name="__main__")
    ran.append(str(MAIN))


def _command(cli: Path, root: Path):
    """A PulumiCommand for ``cli``: the Automation API looks for ``<root>/bin/pulumi``."""
    from pulumi import automation as auto

    (root / "bin").mkdir(parents=True, exist_ok=True)
    if not (root / "bin" / "pulumi").exists():
        (root / "bin" / "pulumi").symlink_to(cli)
    return auto.PulumiCommand(root=str(root))


def preview(spec: dict) -> dict:
    """Select (or create) the stack in the sandbox project, then preview the inline program once."""
    from pulumi import automation as auto

    os.environ.clear()
    os.environ.update(spec["env"])
    registered: list[str] = []
    ran: list[str] = []
    command = _command(Path(spec["cli"]), Path(spec["project"]).parent / "cli")
    options = auto.LocalWorkspaceOptions(work_dir=spec["project"], pulumi_home=spec["env"]["PULUMI_HOME"],
                                         env_vars=spec["env"], pulumi_command=command)
    stack = auto.create_or_select_stack(spec["stack"], project_name="quicstack", program=lambda: _program(ran),
                                         opts=options)
    config = {key: value.secret for key, value in stack.get_all_config().items()}

    def on_event(event) -> None:
        if event.resource_pre_event:
            registered.append(event.resource_pre_event.metadata.urn)

    try:
        stack.preview(on_event=on_event, color="never", suppress_progress=True)
        return {"stage": "previewed", "config": config, "ran": bool(ran), "registered": registered, "error": ""}
    except auto.CommandError as err:
        return {"stage": "failed", "config": config, "ran": bool(ran), "registered": registered, "error": str(err)}


def errors(result: dict) -> list[str]:
    """The distinct ``error:`` messages of a preview (the engine repeats each under Diagnostics)."""
    found = [line.split("error: ", 1)[1].strip() for line in result["error"].splitlines() if "error: " in line]
    return sorted(set(found))


def run(sandbox: Sandbox, stack: str, timeout: float = 240) -> dict:
    """Preview ``stack`` of ``sandbox`` inline in a subprocess (killed after ``timeout`` s); the JSON it printed."""
    spec = sandbox.root / f"inline-{stack}.json"
    spec.write_text(json.dumps({"env": sandbox.env, "project": str(sandbox.project), "cli": str(sandbox.cli),
                                "stack": stack}))
    proc = subprocess.run(loopback_only([sys.executable, "-m", "tests.support.pulumi_inline", str(spec)]), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, f"inline preview of {stack}: rc={proc.returncode}\n{proc.stderr[-3000:]}"
    return {**json.loads(lines[-1]), "stderr": proc.stderr}


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[0]).read_text())
    print(json.dumps(preview(spec)), flush=True)
    # A program that called a provider function (e.g. the EKS stack's aws.get_availability_zones) is still waiting
    # for its answer in the language server's thread when the engine gives up on the missing plugin; that thread
    # would keep the interpreter from exiting, so leave without joining it.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
