"""The k3s VM's startup script, rendered from typed values (a pure function, tested as text).

GCE runs the script on every boot, and ``pulumi up`` runs it again over SSH whenever it changes, so
every step converges to the desired state instead of assuming a fresh VM:
- UDP buffer limits for QUIC, persisted under /etc/sysctl.d (applied by systemd at boot, before k3s);
- a netfilter rule dropping pod traffic to the metadata server, loaded by a unit that k3s requires;
- k3s itself, pinned, installed or reinstalled only when the version or flags differ, by an installer
  fetched at a pinned commit and checked against its sha256 before it runs;
- a weekly timer that rotates k3s's one-year certificates once fewer than 100 days are left.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from components.shared.node import UDP_BUFFER_BYTES

METADATA_SERVER = "169.254.169.254"
K3S_VERSION = re.compile(r"v1\.[0-9]+\.[0-9]+\+k3s[0-9]+")
"""A pinned k3s release (``v1.34.9+k3s1``); the config's ``k3s.k3sVersion`` uses the same grammar."""
# get.k3s.io serves whatever install.sh is on k3s's main branch today. Instead: the installer at one
# commit (install.sh of v1.36.3+k3s1; the same bytes ship with v1.36.1 to v1.36.5), refused unless its
# sha256 matches. It installs any INSTALL_K3S_VERSION: it downloads that release's binary and checks
# it against the release's sha256sum-<arch>.txt from the same GitHub release (install.sh,
# download_hash / verify_binary). Verify: curl -sfL <K3S_INSTALLER_URL> | sha256sum
K3S_INSTALLER_COMMIT = "5aed4d7beddeb3e67120da477c876ac9efd70318"
K3S_INSTALLER_URL = f"https://raw.githubusercontent.com/k3s-io/k3s/{K3S_INSTALLER_COMMIT}/install.sh"
K3S_INSTALLER_SHA256 = "46177d4c99440b4c0311b67233823a8e8a2fc09693f6c89af1a7161e152fbfad"
# k3s issues its client and server certificates for 365 days and renews them only at start-up
# (https://docs.k3s.io/cli/certificate): the timer rotates them well before the end, and Pulumi
# re-reads the kubeconfig monthly (components/gcp/k3s_access.py), so the stored one never expires.
CERT_ROTATE_DAYS_LEFT = 100
ADMIN_CLIENT_CERT = "/var/lib/rancher/k3s/server/tls/client-admin.crt"


@dataclass(frozen=True)
class K3sNode:
    """What the script installs on the VM."""

    k3s_version: str
    """k3s release, e.g. ``v1.34.9+k3s1``."""
    address: str
    """The VM's static external IPv4 address (API certificate SAN and the address ServiceLB reports)."""
    pod_cidr: str
    """k3s pod network (``--cluster-cidr``), the source range cut off from the metadata server."""
    udp_buffer_bytes: int = UDP_BUFFER_BYTES
    """``net.core.rmem_max`` and ``net.core.wmem_max``."""

    def __post_init__(self) -> None:
        # Everything below lands in a root shell script: accept only values of the expected form.
        if not K3S_VERSION.fullmatch(self.k3s_version):
            raise ValueError(f"not a k3s release: {self.k3s_version!r}")
        ipaddress.IPv4Address(self.address)
        ipaddress.IPv4Network(self.pod_cidr)

    @property
    def server_flags(self) -> list[str]:
        return [
            # ingress-nginx is the stack's ingress controller.
            "--disable=traefik",
            f"--tls-san={self.address}",
            # ServiceLB reports this address in every LoadBalancer Service's status.
            f"--node-external-ip={self.address}",
            f"--cluster-cidr={self.pod_cidr}",
            "--secrets-encryption",
            "--write-kubeconfig-mode=0600",
        ]


def startup_script(node: K3sNode) -> str:
    return f"""#!/bin/bash
# quicstack k3s node bootstrap: runs on every boot and again over SSH when it changes; converges.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# The boot-time run and an SSH run may overlap: one at a time.
exec 9>/run/quicstack-bootstrap.lock
flock 9

# 1. QUIC needs large UDP socket buffers; these are node-wide limits no pod can raise. systemd-sysctl
#    applies the file at every boot, before k3s starts.
cat >/etc/sysctl.d/90-quicstack-quic.conf <<'EOF'
net.core.rmem_max = {node.udp_buffer_bytes}
net.core.wmem_max = {node.udp_buffer_bytes}
EOF
sysctl --quiet --load=/etc/sysctl.d/90-quicstack-quic.conf

{_metadata_block(node)}{_k3s_install(node)}{_cert_rotation()}"""


def _k3s_install(node: K3sNode) -> str:
    """Step 3 of the startup script."""
    exec_flags = shlex.quote(" ".join(["server", *node.server_flags]))
    version = shlex.quote(node.k3s_version)
    return f"""# 3. k3s, pinned. The installer writes its flags into the systemd unit; it runs again only when the
#    version or the flags differ from the last successful install. It runs only if its sha256 matches.
fetch_k3s_installer() {{
  rm -f /run/k3s-install.sh
  curl -sfL --proto '=https' --retry 10 --retry-connrefused --retry-delay 3 -o /run/k3s-install.sh "$1"
  if ! printf '%s  %s\\n' "$2" /run/k3s-install.sh | sha256sum --check --strict --status; then
    rm -f /run/k3s-install.sh
    echo "k3s installer from $1 does not match sha256 $2: not running it" >&2
    return 1
  fi
}}
desired={shlex.quote(f"{node.k3s_version} server " + " ".join(node.server_flags))}
if [ ! -x /usr/local/bin/k3s ] || [ "$(cat /etc/quicstack/k3s-installed 2>/dev/null)" != "$desired" ]; then
  fetch_k3s_installer {K3S_INSTALLER_URL} {K3S_INSTALLER_SHA256}
  INSTALL_K3S_VERSION={version} INSTALL_K3S_EXEC={exec_flags} sh /run/k3s-install.sh
  printf '%s' "$desired" >/etc/quicstack/k3s-installed
fi
"""


def _cert_rotation() -> str:
    """Step 4 of the startup script: weekly, and at the next boot after a missed week (Persistent)."""
    return f"""
# 4. Certificate rotation before k3s's one-year certificates run out.
cat >/etc/systemd/system/quicstack-k3s-cert-rotate.service <<'EOF'
[Unit]
Description=Rotate k3s certificates that expire within {CERT_ROTATE_DAYS_LEFT} days
After=k3s.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c {shlex.quote(rotate_command())}
EOF
cat >/etc/systemd/system/quicstack-k3s-cert-rotate.timer <<'EOF'
[Unit]
Description=Weekly k3s certificate expiry check

[Timer]
OnCalendar=weekly
Persistent=true
RandomizedDelaySec=1h

[Install]
WantedBy=timers.target
EOF
systemctl daemon-reload
systemctl enable --now quicstack-k3s-cert-rotate.timer
"""


def rotate_command(days_left: int = CERT_ROTATE_DAYS_LEFT, cert: str = ADMIN_CLIENT_CERT) -> str:
    """Shell that rotates k3s's certificates when ``cert`` expires within ``days_left`` days."""
    # `k3s certificate rotate` needs k3s stopped; pods keep running (containerd stays up).
    return (f"openssl x509 -checkend {days_left * 86400} -noout -in {cert} >/dev/null || "
            "{ systemctl stop k3s; /usr/local/bin/k3s certificate rotate; systemctl start k3s; }")


def _metadata_block(node: K3sNode) -> str:
    """Step 2 of the startup script: pods are cut off from the metadata server before k3s starts."""
    return f"""# 2. The metadata server hands out the VM's credentials: no pod may reach it. A table of its own,
#    so kube-proxy, flannel and the network policy controller, which rewrite the iptables chains, never
#    reorder or flush it; `delete table` first makes reloading idempotent.
command -v nft >/dev/null || {{ apt-get update -qq && apt-get install -y -qq nftables; }}
install -d -m 0755 /etc/quicstack /etc/systemd/system/k3s.service.d
cat >/etc/quicstack/metadata-block.nft <<'EOF'
table inet quicstack_metadata
delete table inet quicstack_metadata
table inet quicstack_metadata {{
  chain prerouting {{
    type filter hook prerouting priority raw; policy accept;
    ip saddr {node.pod_cidr} ip daddr {METADATA_SERVER} counter drop
  }}
}}
EOF
cat >/etc/systemd/system/quicstack-metadata-block.service <<'EOF'
[Unit]
Description=Drop pod traffic to the GCE metadata server
Before=k3s.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f /etc/quicstack/metadata-block.nft

[Install]
WantedBy=multi-user.target
EOF
# k3s (and so every pod) starts only once the rule is in place.
cat >/etc/systemd/system/k3s.service.d/10-quicstack-metadata-block.conf <<'EOF'
[Unit]
Requires=quicstack-metadata-block.service
After=quicstack-metadata-block.service
EOF
systemctl daemon-reload
systemctl enable --now quicstack-metadata-block.service
# Apply the current file without restarting the unit (a restart would restart k3s too).
nft -f /etc/quicstack/metadata-block.nft

"""
