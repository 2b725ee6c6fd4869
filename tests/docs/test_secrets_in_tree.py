"""No credential lands in the working tree: the docs save kubeconfigs and keys outside the repository with
umask 077, and .gitignore keeps any that a user saves here anyway out of `git add .`."""

import re
import subprocess

import pytest

from tests.support.plan import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SECRET_FILE = re.compile(r"\.(kubeconfig|key)$|(^|/)kubeconfig$")


def saved_files():
    """(page, line, target) for every shell redirection into a file in the docs."""
    for page in PAGES:
        for line in page.read_text().splitlines():
            for target in re.findall(r"(?<![0-9&>])>\s*([^\s);|&]+)", line):
                if not target.startswith(("/dev/", "&")):
                    yield page.relative_to(ROOT), line.strip(), target


def test_the_docs_save_some_credentials():
    assert any("--show-secrets" in line for _, line, _ in saved_files())


@pytest.mark.parametrize("page, line, target", [s for s in saved_files()
                                                if "--show-secrets" in s[1] or SECRET_FILE.search(s[2])])
def test_credentials_are_saved_outside_the_repository_readable_by_the_owner_only(page, line, target):
    assert target.startswith("~/.config/quicstack/"), f"{page}: {line}"
    assert "umask 077" in line, f"{page}: {line}"


@pytest.mark.parametrize("path", ["k3s.kubeconfig", "stacks/gke.kubeconfig", "kubeconfig", "quicstack-k3s.key",
                                  "relay-token.pem", "ca.pem", "tls/server.key", "id_ed25519", "client.p12"])
def test_gitignore_covers_credential_files(path):
    run = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, capture_output=True, timeout=30)
    assert run.returncode == 0, f"{path} is not ignored"


def test_no_credential_file_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.split()
    assert not [f for f in tracked if SECRET_FILE.search(f) or f.endswith((".pem", ".p12", ".pfx"))]


def test_the_ssh_command_output_uses_the_key_outside_the_repository(plan):
    assert plan("k3s").outputs["sshCommand"].startswith("ssh -i ~/.config/quicstack/k3s.key ")
