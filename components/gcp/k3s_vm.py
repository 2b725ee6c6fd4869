"""Deploys the k3s VM: an SSH key of the stack's own, a service account with no roles, and the instance.

The instance takes the reserved static address as its one-to-one NAT address and runs the startup
script from ``startup.py``. SSH accepts only the stack's key: OS Login and project-wide keys are off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_gcp as gcp
import pulumi_tls as tls

from components.gcp.service_account import service_account
from components.gcp.startup import K3sNode, startup_script

# The account holds no roles; these scopes only let the guest agent write logs and metrics should
# someone grant it logging.logWriter / monitoring.metricWriter later.
SCOPES = ["https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring.write"]


@dataclass(frozen=True)
class K3sVmArgs:
    project: str
    """Project of the VM and its service account."""
    zone: str
    """Zone of the VM."""
    machine_type: str
    """Machine type, e.g. ``e2-medium``."""
    image: str
    """Boot image, e.g. ``debian-cloud/debian-12``."""
    disk_size_gb: int
    """Boot disk size."""
    address: pulumi.Input[str]
    """The reserved static external IPv4 address."""
    network: pulumi.Input[str]
    """VPC network of the VM's interface."""
    subnetwork: Optional[pulumi.Input[str]]
    """Subnetwork of the interface; None for an auto-mode network's regional subnet."""
    network_tag: str
    """Tag the firewall rules target."""
    account_id: str
    """ID of the VM's service account."""
    ssh_user: str
    """Login the stack's SSH key is installed for."""
    k3s_version: str
    """k3s release the startup script installs."""
    pod_cidr: str
    """k3s pod network, cut off from the metadata server."""


class K3sVm(pulumi.ComponentResource):
    instance: gcp.compute.Instance
    ssh_private_key: pulumi.Output[str]
    """OpenSSH private key for ``ssh_user`` (a secret)."""
    startup_script: pulumi.Output[str]
    """The script the VM runs at boot."""

    def __init__(self, name: str, args: K3sVmArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:K3sVm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{name}-ssh", algorithm="ED25519", opts=child)
        self.ssh_private_key = pulumi.Output.secret(key.private_key_openssh)
        account = service_account(
            f"{name}-sa", args.project, args.account_id, "quicstack k3s VM (no roles)", child,
        ).account
        self.startup_script = pulumi.Output.from_input(args.address).apply(
            lambda ip: startup_script(K3sNode(k3s_version=args.k3s_version, address=ip, pod_cidr=args.pod_cidr))
        )
        interface: dict = {
            "network": args.network,
            "access_configs": [{"nat_ip": args.address, "network_tier": "PREMIUM"}],
        }
        if args.subnetwork is not None:
            interface["subnetwork"] = args.subnetwork
        self.instance = gcp.compute.Instance(
            f"{name}-vm",
            project=args.project,
            zone=args.zone,
            machine_type=args.machine_type,
            tags=[args.network_tag],
            boot_disk={"initialize_params": {"image": args.image, "size": args.disk_size_gb, "type": "pd-balanced"}},
            network_interfaces=[interface],
            metadata={
                "ssh-keys": key.public_key_openssh.apply(lambda k: f"{args.ssh_user}:{k.strip()}"),
                # Metadata keys, not OS Login: the stack's own key is the only way in (an org policy
                # that enforces OS Login overrides this; see docs/stacks/k3s.md).
                "enable-oslogin": "FALSE",
                "block-project-ssh-keys": "TRUE",
                "serial-port-enable": "FALSE",
                # A metadata key (not metadata_startup_script) so a new script updates the VM in place;
                # the SSH run in K3sAccess applies it.
                "startup-script": self.startup_script,
            },
            service_account={"email": account.email, "scopes": SCOPES},
            shielded_instance_config={
                "enable_secure_boot": True,
                "enable_vtpm": True,
                "enable_integrity_monitoring": True,
            },
            allow_stopping_for_update=True,
            labels={"quicstack-role": "k3s-server"},
            opts=child,
        )
        self.register_outputs({"instanceId": self.instance.instance_id})
