"""The node group's launch-template user data: a MIME document whose shell part really sets both limits."""

import base64
import email
import os
import subprocess
from pathlib import Path

import pytest

from components.aws.user_data import SYSCTL_FILE, launch_template_user_data, node_user_data, sysctl_script

EIGHT_MIB = 8388608


def parts(encoded: str) -> list[email.message.Message]:
    document = email.message_from_bytes(base64.b64decode(encoded, validate=True))
    assert document.get_content_type() == "multipart/mixed"
    assert document["MIME-Version"] == "1.0"
    return document.get_payload()


def test_user_data_is_a_mime_multipart_document_eks_can_merge():
    (script,) = parts(launch_template_user_data(EIGHT_MIB))
    # cloud-init runs text/x-shellscript parts; EKS appends its own application/node.eks.aws part.
    assert script.get_content_type() == "text/x-shellscript"
    assert script.get_payload(decode=True).decode().startswith("#!/bin/bash\n")


def test_rendering_is_stable_so_the_launch_template_does_not_churn():
    assert launch_template_user_data(EIGHT_MIB) == launch_template_user_data(EIGHT_MIB)
    assert launch_template_user_data(EIGHT_MIB) != launch_template_user_data(2 * EIGHT_MIB)


def test_the_script_writes_and_loads_both_limits(tmp_path: Path):
    """Run the shell part for real, with /etc/sysctl.d and sysctl redirected into a scratch directory."""
    (part,) = parts(launch_template_user_data(EIGHT_MIB))
    conf = tmp_path / "90-quicstack-quic.conf"
    script = part.get_payload(decode=True).decode().replace(SYSCTL_FILE, str(conf))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sysctl"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/sysctl-args\n')
    fake.chmod(0o755)
    (tmp_path / "user-data.sh").write_text(script)
    subprocess.run(["bash", str(tmp_path / "user-data.sh")], check=True, timeout=10,
                   env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    values = dict(tuple(side.strip() for side in line.split("=")) for line in conf.read_text().splitlines())
    assert values == {"net.core.rmem_max": str(EIGHT_MIB), "net.core.wmem_max": str(EIGHT_MIB)}
    for key in values:  # keys the kernel really has
        assert Path("/proc/sys", *key.split(".")).exists()
    assert (tmp_path / "sysctl-args").read_text().split() == ["--quiet", f"--load={conf}"]


@pytest.mark.parametrize("value", [0, 4096, 1 << 31])
def test_absurd_buffer_sizes_are_refused(value):
    with pytest.raises(ValueError, match="UDP buffer limit"):
        sysctl_script(value)


def test_script_has_no_carriage_returns():
    assert "\r" not in node_user_data(EIGHT_MIB)
