"""The k3s VM's startup script, read as text and checked by bash itself."""

import configparser
import re
import shlex
import subprocess

import pytest

from components.gcp.startup import K3sNode, startup_script

NODE = K3sNode(k3s_version="v1.34.9+k3s1", address="203.0.113.10", pod_cidr="10.42.0.0/16")
SCRIPT = startup_script(NODE)


def files(script: str) -> dict[str, str]:
    """Path -> content of every file the script writes with a quoted heredoc."""
    return dict(re.findall(r"^cat >(\S+) <<'EOF'\n(.*?)\nEOF$", script, flags=re.S | re.M))


def unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return parser


def line_of(needle: str) -> int:
    return next(i for i, line in enumerate(SCRIPT.splitlines()) if needle in line)


def test_bash_accepts_the_script():
    proc = subprocess.run(["bash", "-n"], input=SCRIPT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_stops_at_the_first_failure_and_runs_one_at_a_time():
    assert SCRIPT.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in SCRIPT
    assert line_of("flock 9") < line_of("sysctl.d")


def test_installs_pinned_k3s_with_the_static_address():
    install = next(line for line in SCRIPT.splitlines() if "INSTALL_K3S_VERSION=" in line)
    env = dict(word.split("=", 1) for word in shlex.split(install) if "=" in word and word.startswith("INSTALL_"))
    assert env["INSTALL_K3S_VERSION"] == "v1.34.9+k3s1"
    flags = env["INSTALL_K3S_EXEC"].split()
    assert flags[0] == "server"
    assert {"--disable=traefik", "--tls-san=203.0.113.10", "--node-external-ip=203.0.113.10", "--cluster-cidr=10.42.0.0/16"} <= set(flags)
    assert "INSTALL_K3S_CHANNEL" not in SCRIPT


def test_udp_buffers_persist_under_sysctl_d_before_k3s_starts():
    written = {path: text for path, text in files(SCRIPT).items() if path.startswith("/etc/sysctl.d/")}
    assert len(written) == 1
    (path, text), = written.items()
    values = dict(tuple(part.strip() for part in line.split("=")) for line in text.splitlines())
    assert values == {"net.core.rmem_max": "8388608", "net.core.wmem_max": "8388608"}
    # Applied now, and (as a sysctl.d file) by systemd at every boot, both before k3s is installed.
    assert line_of(f"sysctl --quiet --load={path}") < line_of("sh /run/k3s-install.sh")


def test_pods_cannot_reach_the_metadata_server():
    written = files(SCRIPT)
    rules = written["/etc/quicstack/metadata-block.nft"]
    assert re.search(r"hook prerouting priority raw;", rules)
    assert re.search(r"ip saddr 10\.42\.0\.0/16 ip daddr 169\.254\.169\.254 .*drop", rules)
    # Reloading replaces the table instead of adding a second copy.
    assert rules.index("delete table inet quicstack_metadata") < rules.index("table inet quicstack_metadata {")
    service = unit(written["/etc/systemd/system/quicstack-metadata-block.service"])
    assert service["Unit"]["Before"] == "k3s.service"
    assert service["Service"]["ExecStart"] == "/usr/sbin/nft -f /etc/quicstack/metadata-block.nft"
    assert service["Install"]["WantedBy"] == "multi-user.target"
    dropin = unit(written["/etc/systemd/system/k3s.service.d/10-quicstack-metadata-block.conf"])
    assert dropin["Unit"]["Requires"] == dropin["Unit"]["After"] == "quicstack-metadata-block.service"
    assert line_of("systemctl enable --now quicstack-metadata-block.service") < line_of("sh /run/k3s-install.sh")


def test_reruns_converge():
    # The installer runs only when the binary is missing or the recorded version and flags differ.
    guard = next(line for line in SCRIPT.splitlines() if line.startswith("if "))
    assert "[ ! -x /usr/local/bin/k3s ]" in guard and '"$desired"' in guard
    desired = shlex.split(next(line for line in SCRIPT.splitlines() if line.startswith("desired=")).split("=", 1)[1])[0].split()
    assert desired[0] == "v1.34.9+k3s1" and "--tls-san=203.0.113.10" in desired
    assert "printf '%s' \"$desired\" >/etc/quicstack/k3s-installed" in SCRIPT
    # A rerun must not restart the rule's unit (k3s Requires it, so a restart would restart k3s).
    assert "restart quicstack-metadata-block" not in SCRIPT


def test_other_values_change_the_script():
    other = startup_script(K3sNode(k3s_version="v1.35.2+k3s1", address="198.51.100.4", pod_cidr="10.88.0.0/16"))
    assert "INSTALL_K3S_VERSION=v1.35.2+k3s1" in other and "--node-external-ip=198.51.100.4" in other
    assert "ip saddr 10.88.0.0/16" in other and "203.0.113.10" not in other


@pytest.mark.parametrize("field,value", [
    ("address", "203.0.113.10; reboot"), ("address", "2001:db8::1"), ("k3s_version", "v1.34.9+k3s1 $(id)"),
    ("k3s_version", "stable"), ("pod_cidr", "10.42.0.0/16 -j ACCEPT"),
])
def test_values_of_the_wrong_form_never_reach_the_script(field, value):
    with pytest.raises(ValueError):
        K3sNode(**{"k3s_version": "v1.34.9+k3s1", "address": "203.0.113.10", "pod_cidr": "10.42.0.0/16", field: value})
