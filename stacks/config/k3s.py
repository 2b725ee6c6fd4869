"""``quicstack:k3s``: one GCE VM running k3s (the seed's own environment)."""

from __future__ import annotations

from .base import Model


class K3s(Model):
    """A single GCE VM running k3s; every Service shares the VM's static address."""

    project: str
    """GCP project to create the VM in."""
    region: str
    """GCP region of the static address and subnet, e.g. `europe-west1`."""
    zone: str
    """GCP zone of the VM, inside `region`, e.g. `europe-west1-b`."""
