"""User data for the managed node group's launch template (AL2023, nodeadm), rendered as a pure function.

EKS managed node groups on an EKS-optimized AL2023 AMI take launch-template user data only as a MIME
multi-part document: EKS appends its own ``application/node.eks.aws`` part (the ``NodeConfig`` that
nodeadm reads to join the cluster) and cloud-init runs the other parts. nodeadm's ``NodeConfig`` has no
field for host sysctls, so the QUIC buffer limits come in a ``text/x-shellscript`` part.
https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html#launch-template-user-data
https://awslabs.github.io/amazon-eks-ami/nodeadm/

``net.core.rmem_max``/``wmem_max`` are host-wide (not namespaced), so no pod can raise them; moq-relay
asks for 8 MiB socket buffers and is clamped to the kernel default (about 208 KiB) without them.
"""

from __future__ import annotations

import base64
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

SYSCTL_FILE = "/etc/sysctl.d/90-quicstack-quic.conf"
# A fixed boundary keeps the rendered document (and so the launch template version) stable across plans.
BOUNDARY = "==quicstack-node-user-data=="
_MAX_BUFFER = 1 << 30


def sysctl_script(udp_buffer_bytes: int) -> str:
    """A root shell script that persists both limits under /etc/sysctl.d and applies them now.

    cloud-init runs shell-script parts once, in its final stage on the first boot; nodeadm starts the
    kubelet only after that stage (``nodeadm-run.service``: ``After=... cloud-final.service``, in
    https://github.com/awslabs/amazon-eks-ami, ``templates/al2023/runtime/rootfs/etc/systemd/system/``),
    so the limits are in place before any pod. systemd-sysctl applies the file again on every later boot.
    """
    if not 212992 <= udp_buffer_bytes <= _MAX_BUFFER:
        raise ValueError(f"UDP buffer limit {udp_buffer_bytes} is outside 212992-{_MAX_BUFFER} bytes")
    return f"""#!/bin/bash
set -euo pipefail
cat >{SYSCTL_FILE} <<'EOF'
net.core.rmem_max = {udp_buffer_bytes}
net.core.wmem_max = {udp_buffer_bytes}
EOF
sysctl --quiet --load={SYSCTL_FILE}
"""


def node_user_data(udp_buffer_bytes: int) -> str:
    """The MIME multi-part document (text) EKS merges with its own nodeadm part."""
    document = MIMEMultipart("mixed", boundary=BOUNDARY)
    document.attach(MIMEText(sysctl_script(udp_buffer_bytes), "x-shellscript", "us-ascii"))
    # Plain LF line ends: cloud-init writes the part out as the script, and bash chokes on a CR.
    return document.as_string()


def launch_template_user_data(udp_buffer_bytes: int) -> str:
    """``LaunchTemplate.user_data``: the document, base64-encoded as the EC2 API requires."""
    return base64.b64encode(node_user_data(udp_buffer_bytes).encode()).decode()
