"""The docs site builds with MkDocs in strict mode: every page is in the nav, every link and anchor resolves."""

import shutil
import subprocess
import sys

import pytest

from tests.support.plan import ROOT



def build(config_dir, site):
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config_dir / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=config_dir, capture_output=True, text=True, timeout=120,
    )


def test_the_site_builds_strictly(tmp_path):
    run = build(ROOT, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "site" / "stacks" / "eks" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "configuration" / "index.html").is_file()


@pytest.mark.parametrize("broken, complaint", [
    ("[x](verify.md#no-such-section)", "does not contain an anchor"),
    ("[x](no-such-page.md)", "not found among documentation files"),
])
def test_a_broken_link_fails_the_build(tmp_path, broken, complaint):
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    with (tmp_path / "docs" / "index.md").open("a") as page:
        page.write(f"\n{broken}\n")
    run = build(tmp_path, tmp_path / "site")
    assert run.returncode != 0 and complaint in run.stderr, run.stderr


def test_a_page_outside_the_nav_fails_the_build(tmp_path):
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    (tmp_path / "docs" / "orphan.md").write_text("# Orphan\n")
    run = build(tmp_path, tmp_path / "site")
    assert run.returncode != 0 and "orphan.md" in run.stderr, run.stderr
