"""Deploys the remote commands that bring the k3s VM to a ready API server and read its kubeconfig.

Over SSH with the stack's key: the first command runs the startup script (again, when it changed)
and waits until ``/readyz`` answers; the second reads ``/etc/rancher/k3s/k3s.yaml``. The kubeconfig
that comes back names the static address instead of 127.0.0.1 and is a secret.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_command as command
import yaml

KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml"
API_PORT = 6443
# SSH answers before the startup script has finished (and, on first boot, before k3s exists): the
# command waits for both the kubeconfig and a ready API server, and gives up after 15 minutes.
WAIT_READY = (
    "sudo timeout 900 sh -c 'until [ -f {path} ] && k3s kubectl get --raw=/readyz >/dev/null 2>&1; do sleep 5; done'"
).format(path=KUBECONFIG_PATH)


@dataclass(frozen=True)
class K3sAccessArgs:
    host: pulumi.Input[str]
    """The VM's static address (SSH and the API server)."""
    user: str
    """SSH login."""
    private_key: pulumi.Input[str]
    """OpenSSH private key for ``user``."""
    instance_id: pulumi.Input[str]
    """The VM's ID: a new VM is a new cluster, so both commands run again."""
    bootstrap: pulumi.Input[str]
    """The startup script; run over SSH on create and whenever it changes."""
    context: str
    """Name of the cluster, user and context in the returned kubeconfig."""
    depends_on: Sequence[pulumi.Resource]
    """The VM the commands run on, and the firewall rule that lets SSH through."""
    kubeconfig_epoch: str = field(default_factory=lambda: kubeconfig_epoch(datetime.date.today()))
    """Changes monthly, so the first ``pulumi up`` of a month reads the kubeconfig again."""


def kubeconfig_epoch(today: datetime.date) -> str:
    """The month: the kubeconfig's client certificate lasts 365 days and the VM rotates it once fewer
    than 100 are left (startup.py), so a monthly read never leaves an expired one in the state."""
    return today.strftime("%Y-%m")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def k3s_kubeconfig(raw: str, address: str, name: str) -> str:
    """k3s's kubeconfig with the server at the static address and every entry renamed ``name``."""
    doc = yaml.safe_load(raw)
    cluster, user, context = doc["clusters"][0], doc["users"][0], doc["contexts"][0]
    cluster["name"] = user["name"] = context["name"] = doc["current-context"] = name
    cluster["cluster"]["server"] = f"https://{address}:{API_PORT}"
    context["context"] = {"cluster": name, "user": name}
    return yaml.safe_dump({**doc, "clusters": [cluster], "users": [user], "contexts": [context]}, sort_keys=False)


class K3sAccess(pulumi.ComponentResource):
    ready: command.remote.Command
    """Completes once the API server answers ``/readyz``: the Kubernetes provider depends on it."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig for the static address (a secret)."""

    def __init__(self, name: str, args: K3sAccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:K3sAccess", name, None, opts)
        connection = command.remote.ConnectionArgs(
            host=args.host, user=args.user, private_key=pulumi.Output.secret(args.private_key),
            # Generous dialing: the VM boots, then the guest agent installs the key.
            dial_error_limit=60, per_dial_timeout=20,
        )
        self.ready = command.remote.Command(
            f"{name}-ready",
            connection=connection,
            create=f"sudo bash -s && {WAIT_READY}",
            stdin=args.bootstrap,
            # A digest of the script (already stored once, as stdin) reruns it when it changes.
            triggers=[args.instance_id, pulumi.Output.from_input(args.bootstrap).apply(_digest)],
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on),
                                        custom_timeouts=pulumi.CustomTimeouts(create="20m")),
        )
        read = command.remote.Command(
            f"{name}-kubeconfig",
            connection=connection,
            create=f"sudo cat {KUBECONFIG_PATH}",
            triggers=[args.instance_id, args.kubeconfig_epoch],
            # The kubeconfig holds the cluster admin's client key: never print it, store it encrypted.
            logging=command.remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ready], additional_secret_outputs=["stdout"]),
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(read.stdout, args.host).apply(lambda a: k3s_kubeconfig(a[0], a[1], args.context))
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})
