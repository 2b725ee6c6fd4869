"""The real Pulumi CLI in a sandbox: its own PULUMI_HOME, HOME and file backend in a temp directory, a copy of the
project (``Pulumi.yaml`` and the stack files, byte for byte), and an environment that keeps it on this machine.

The CLI is the one ``make pulumi-cli`` builds from ``tools/engine/pulumi-cli/`` (``docs/testing.md``); its version
is read from that module's go.mod, the one place it is recorded. Nothing the sandbox runs may leave loopback: no
update check, no plugin download, no plugins from ``PATH``, no credentials or kube context from the real HOME.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import netns
from tests.support.plan import ROOT, TOOLS

CLI_MODULE = ROOT / "tools" / "engine" / "pulumi-cli" / "go.mod"
PASSPHRASE = "engine-test passphrase"
"""The stacks' passphrase secrets provider key: a test value, handed over in the environment only."""
TIMEOUT = 60
"""Seconds any one CLI command may take (a cold start of the 170 MB binary on a loaded machine: ~2 s)."""

_REQUIRE = re.compile(r"^require github\.com/pulumi/pulumi/pkg/v3 v(\d+\.\d+\.\d+)$", re.MULTILINE)


def cli_version(go_mod: Path = CLI_MODULE) -> str:
    """The CLI version the wrapper module requires (the Makefile reads the same line)."""
    found = _REQUIRE.findall(go_mod.read_text())
    assert len(found) == 1, f"{go_mod}: expected one `require github.com/pulumi/pulumi/pkg/v3 vX.Y.Z` line"
    return found[0]


def cli_path() -> Path:
    return TOOLS / f"pulumi-v{cli_version()}" / "pulumi"


@functools.cache
def can_isolate() -> bool:
    """True where this machine lets the tests make network namespaces (root, or user namespaces)."""
    return netns.available()


def loopback_only(command: list[str]) -> list[str]:
    """``command`` in new network and PID namespaces that hold nothing but a loopback interface, where the machine
    allows it: whatever the CLI or the program tried to reach beyond loopback would fail, not leave. Killing the
    returned process kills everything inside (``--kill-child``, PID namespace). Elsewhere the environment
    (``offline_env``) is what keeps the CLI off the network."""
    if not can_isolate():
        return command
    return [*netns.UNSHARE, "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]


def offline_env(home: Path, state: Path, passphrase: str | None = PASSPHRASE) -> dict[str, str]:
    """The whole environment of a sandboxed CLI: nothing inherited but PATH and the locale."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "PULUMI_HOME": str(home / ".pulumi"),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
    }
    if passphrase is not None:
        env["PULUMI_CONFIG_PASSPHRASE"] = passphrase
    return env


@dataclass
class Sandbox:
    """A copy of the project the real CLI may write to (``stack init`` adds an ``encryptionsalt``)."""

    root: Path
    cli: Path = field(default_factory=cli_path)
    passphrase: str | None = PASSPHRASE

    def __post_init__(self) -> None:
        self.project = self.root / "project"
        self.home = self.root / "home"
        self.state = self.root / "state"
        for directory in (self.project / "stacks", self.home, self.state):
            directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "Pulumi.yaml", self.project / "Pulumi.yaml")
        for stack_file in (ROOT / "stacks").glob("Pulumi.*.yaml"):
            shutil.copyfile(stack_file, self.project / "stacks" / stack_file.name)

    @property
    def env(self) -> dict[str, str]:
        return offline_env(self.home, self.state, self.passphrase)

    def stack_file(self, stack: str) -> Path:
        return self.project / "stacks" / f"Pulumi.{stack}.yaml"

    def run(self, *args: str, timeout: float = TIMEOUT,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``pulumi <args> --non-interactive`` in the project copy; a command over ``timeout`` is killed."""
        return subprocess.run(loopback_only([str(self.cli), *args, "--non-interactive"]), cwd=self.project,
                              env=env or self.env, capture_output=True, text=True, timeout=timeout)

    def ok(self, *args: str, **kwargs) -> str:
        """Run and require success; the CLI's stdout."""
        proc = self.run(*args, **kwargs)
        assert proc.returncode == 0, f"pulumi {' '.join(args)}: rc={proc.returncode}\n{proc.stderr[-3000:]}"
        return proc.stdout

    def plugins(self) -> list[Path]:
        """Every plugin binary the sandbox's PULUMI_HOME holds (none are ever installed here)."""
        return sorted((self.home / ".pulumi" / "plugins").glob("*/pulumi-*"))
