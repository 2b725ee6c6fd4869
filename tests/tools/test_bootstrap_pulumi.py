"""`make up` on a fresh machine installs the pinned Pulumi CLI from its official release, checksum-verified.

GitHub is out of reach here, so a loopback server stands in for the release downloads (tests/tools/bootstrap_fakes.py)
and serves a fake tarball and checksums file laid out as the real release names them.
"""

from __future__ import annotations

import re

import pytest

from tests.support.plan import ROOT
from tests.tools.bootstrap_fakes import base_path, bootstrap, lines, pinned, publish, script, serving, tarball
from tools.bootstrap import release, versions

FAKE_CLI = {"pulumi/pulumi": 'echo "v9.9.9-fake"\n', "pulumi/pulumi-language-python": "exit 0\n"}


@pytest.fixture
def fresh(tmp_path):
    """A machine without pulumi: empty tools folder and home, a PATH without the CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "home").mkdir()
    return {"path": base_path(bin_dir), "tools": tmp_path / "tools", "home": tmp_path / "home", "bin": bin_dir}


def test_the_version_is_the_one_the_tests_build_from_go():
    go_mod = (ROOT / "tools" / "engine" / "pulumi-cli" / "go.mod").read_text()
    required = re.findall(r"^require github\.com/pulumi/pulumi/pkg/v3 v(\S+)$", go_mod, re.M)
    assert required == [versions.pulumi_version()]


def test_the_version_reader_refuses_a_go_mod_without_one_require(tmp_path):
    (tmp_path / "go.mod").write_text("module x\n\nreplace github.com/pulumi/pulumi/pkg/v3 => ../pkg\n")
    with pytest.raises(ValueError, match="expected one"):
        versions.pulumi_version(tmp_path / "go.mod")


def test_release_names_follow_the_upstream_assets():
    rel = release.pulumi("3.274.0", "linux", "amd64")
    assert rel.asset_path == "pulumi/pulumi/releases/download/v3.274.0/pulumi-v3.274.0-linux-x64.tar.gz"
    assert rel.checksums_path == "pulumi/pulumi/releases/download/v3.274.0/pulumi-3.274.0-checksums.txt"
    assert release.pulumi("3.274.0", "darwin", "arm64").asset == "pulumi-v3.274.0-darwin-arm64.tar.gz"
    assert release.kind("0.33.0", "linux", "amd64").checksums_path.endswith("/v0.33.0/kind-linux-amd64.sha256sum")
    cpk = release.cloud_provider_kind("0.11.1", "linux", "arm64")
    assert cpk.asset == "cloud-provider-kind_0.11.1_linux_arm64.tar.gz"


def test_checksums_files_parse_in_both_sha256sum_forms():
    text = f"{'a' * 64}  one.tar.gz\n{'B' * 64} *two\nnot a line\n"
    assert release.parse_checksums(text) == {"one.tar.gz": "a" * 64, "two": "b" * 64}


def test_a_missing_cli_is_installed_from_the_release_and_then_reused(fresh, tmp_path):
    rel = pinned("pulumi")
    publish(tmp_path / "www", rel, tarball(FAKE_CLI))
    with serving(tmp_path / "www") as server:
        first = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
        assert first.returncode == 0, first.stderr
        exe = fresh["tools"] / f"pulumi-release-v{rel.version}" / "pulumi" / "pulumi"
        assert exe.is_file() and exe.stat().st_mode & 0o111
        assert (exe.parent / "pulumi-language-python").is_file()
        assert sorted(server.requests) == sorted(f"/{p}" for p in (rel.asset_path, rel.checksums_path))
        assert any("not installed" in line and rel.version in line for line in lines(first))
        assert any("matches the release's checksums file" in line for line in lines(first))
        second = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
        assert second.returncode == 0 and len(server.requests) == 2, "reused, not downloaded again"
    where = bootstrap("pulumi", "--where", **fresh_args(fresh))
    assert where.stdout.strip() == str(exe.parent)
    assert [p.name for p in fresh["tools"].iterdir()] == [f"pulumi-release-v{rel.version}"], "no staging left"


def test_a_checksum_mismatch_is_refused_and_nothing_is_installed(fresh, tmp_path):
    rel = pinned("pulumi")
    publish(tmp_path / "www", rel, tarball(FAKE_CLI), listed=tarball({"pulumi/pulumi": "echo other\n"}))
    with serving(tmp_path / "www") as server:
        proc = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
    assert proc.returncode == 2
    assert "does not match the release's checksum" in lines(proc)[-1] and "refusing" in lines(proc)[-1]
    assert "Traceback" not in proc.stderr
    assert list(fresh["tools"].iterdir()) == []


def test_an_asset_the_checksums_file_does_not_list_is_refused(fresh, tmp_path):
    rel = pinned("pulumi")
    publish(tmp_path / "www", rel, tarball(FAKE_CLI))
    (tmp_path / "www" / rel.checksums_path).write_text(f"{'0' * 64}  pulumi-v0.0.0-linux-x64.tar.gz\n")
    with serving(tmp_path / "www") as server:
        proc = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
    assert proc.returncode == 2 and f"lists no {rel.asset}" in lines(proc)[-1]
    assert list(fresh["tools"].iterdir()) == []


def test_a_missing_release_is_one_line(fresh, tmp_path):
    (tmp_path / "www").mkdir()
    with serving(tmp_path / "www") as server:
        proc = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
    assert proc.returncode == 2 and lines(proc)[-1].startswith("pulumi: cannot download ")
    assert "HTTP 404" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_tarball_without_the_cli_is_refused(fresh, tmp_path):
    rel = pinned("pulumi")
    publish(tmp_path / "www", rel, tarball({"pulumi/README": "x\n"}))
    with serving(tmp_path / "www") as server:
        proc = bootstrap("--releases-url", server.url, "pulumi", **fresh_args(fresh))
    assert proc.returncode == 2 and "holds no pulumi/pulumi" in lines(proc)[-1]


def test_a_cli_already_on_path_is_used_and_nothing_is_downloaded(fresh):
    script(fresh["bin"] / "pulumi", 'echo "v3.200.0"\n')
    proc = bootstrap("--releases-url", "http://127.0.0.1:9", "pulumi", **fresh_args(fresh))
    assert proc.returncode == 0
    assert lines(proc) == [f"pulumi: using {fresh['bin'] / 'pulumi'} (v3.200.0); the project pins "
                           f"v{versions.pulumi_version()}"]
    assert not fresh["tools"].exists()
    assert bootstrap("pulumi", "--where", **fresh_args(fresh)).stdout.strip() == str(fresh["bin"])


def fresh_args(fresh: dict) -> dict:
    return {"path": fresh["path"], "tools": fresh["tools"], "home": fresh["home"]}


def test_where_only_the_pinned_release_will_do_another_cli_on_path_is_ignored(fresh, tmp_path):
    """The kind end-to-end workflow sets QUICSTACK_PINNED_PULUMI=1: the runner image's own pulumi must not be used."""
    script(fresh["bin"] / "pulumi", 'echo "v3.100.0"\n')
    rel = pinned("pulumi")
    publish(tmp_path / "www", rel, tarball(FAKE_CLI))
    with serving(tmp_path / "www") as server:
        proc = bootstrap("--releases-url", server.url, "pulumi", QUICSTACK_PINNED_PULUMI="1", **fresh_args(fresh))
    assert proc.returncode == 0, proc.stderr
    assert lines(proc)[-1] == f"pulumi: using {rel.executable(fresh['tools'])}"
    where = bootstrap("pulumi", "--where", QUICSTACK_PINNED_PULUMI="1", **fresh_args(fresh))
    assert where.stdout.strip() == str(rel.executable(fresh["tools"]).parent)


def test_the_bootstrap_needs_only_the_standard_library():
    """It runs as `python3 -m tools.bootstrap` before the virtualenv exists (Makefile), so a third-party import
    would break `make up` on a fresh machine."""
    import ast
    import sys

    for path in sorted((ROOT / "tools" / "bootstrap").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("tools.bootstrap") or top == "__future__", \
                    f"{path.name} imports {name}"
