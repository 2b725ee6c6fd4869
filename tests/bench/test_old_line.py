"""The benchmarks' previous relay line (moq-relay 0.14.12, ``bench/old_line.py``): the 0.14 TOML it writes, the one
place its version is stated, and, only where ``make relay-release-old`` has built it, that the real 0.14.12 relay
starts on those files (the test never builds it)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
import urllib.request
from contextlib import ExitStack

import pytest

from bench.old_line import PEER_HOST, RELEASE, VERSION, OldRelays, OldRelayToml, document, lay_out
from tests.support.pki import LocalCA
from tests.support.plan import ROOT
from tests.support.processes import outside_make

VERSIONS = ROOT / "components" / "workloads" / "relay" / "versions.toml"


def test_a_relay_alone_gets_the_0_14_spellings_and_decides_anonymous_access_itself(tmp_path):
    doc = document(OldRelayToml(4443, 8080, 9090, tmp_path / "tls"))
    assert doc == {
        "server": {"bind": "127.0.0.1:4443", "tls": {"cert": [str(tmp_path / "tls" / "tls.crt")],
                                                     "key": [str(tmp_path / "tls" / "tls.key")]}},
        "web": {"http": {"listen": "127.0.0.1:8080"}},
        "internal": {"listen": "127.0.0.1:9090"},
        "auth": {"public": "anon"},
        "cluster": {"linger": "5s"},
    }


def test_a_tier_dials_every_other_relay_with_the_peer_certificate(tmp_path):
    relays = lay_out(3, tmp_path, LocalCA())
    docs = [tomllib.loads((tmp_path / f"relay-{i}" / "relay.toml").read_text()) for i in range(3)]
    urls = [f"https://127.0.0.1:{r.quic_port}/" for r in relays]
    for ordinal, doc in enumerate(docs):
        peer = tmp_path / f"relay-{ordinal}" / "peer-tls"
        assert doc["cluster"]["connect"] == [url for i, url in enumerate(urls) if i != ordinal]
        assert doc["server"]["tls"]["cert"][1:] == [str(peer / "tls.crt")]  # the public certificate stays first
        assert doc["server"]["tls"]["root"] == [str(peer / "ca.crt")]
        assert doc["client"]["tls"] == {"cert": str(peer / "tls.crt"), "key": str(peer / "tls.key"),
                                        "root": [str(peer / "ca.crt")], "host_name": PEER_HOST}
    assert len({r.quic_port for r in relays} | {r.internal_port for r in relays} | {r.web_port for r in relays}) == 9


def test_the_old_line_is_stated_once_for_the_benchmarks_and_make_builds_that():
    table = tomllib.loads(VERSIONS.read_text())["bench-old-relay"]
    assert (table["crate"], VERSION) == ("moq-relay", table["version"]) and "quinn" in table["features"]
    run = subprocess.run([shutil.which("make"), "-n", "-B", "relay-release-old", "TOOLS=/nonexistent-tools"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=outside_make(("QUICSTACK_TOOLS",)))
    assert run.returncode == 0, run.stderr
    out = run.stdout.replace("\\\n\t", " ")
    assert f'echo "{table["checksum"]}  /nonexistent-tools/src/moq-relay-{VERSION}.crate" | sha256sum --check' in out
    assert f"cp components/workloads/relay/crates/moq-relay-{VERSION}.lock " in out
    assert (f"--path /nonexistent-tools/src/moq-relay-{VERSION} --locked  --no-default-features --features "
            f"{table['features']} --root /nonexistent-tools/moq-relay-{VERSION}-release") in out


@pytest.mark.skipif(not RELEASE.is_file(), reason=f"no {RELEASE} (`make relay-release-old` builds it; make test never "
                                                   "does)")
@pytest.mark.parametrize("relays", [1, 2])
def test_the_real_0_14_12_relay_accepts_the_files(tmp_path, relays):
    with ExitStack() as stack:
        setup = OldRelays(relays, RELEASE, "relay").start(stack, tmp_path)
        assert len(setup.relays) == len(setup.subscribe_urls) == relays
        for ordinal in range(relays):
            log = (tmp_path / f"relay-{ordinal}" / "relay.log").read_text(errors="replace")
            assert "error" not in log.lower(), log
        if relays > 1:  # relay 0 has a session with its peer (the /nodes view of 0.14.12's internal listener)
            internal = tomllib.loads((tmp_path / "relay-0" / "relay.toml").read_text())["internal"]["listen"]
            with urllib.request.urlopen(f"http://{internal}/nodes", timeout=5) as nodes:
                assert nodes.status == 200
