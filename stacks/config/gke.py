"""``quicstack:gke``: a Standard GKE cluster."""

from __future__ import annotations

from .base import Model


class Gke(Model):
    """A Standard GKE cluster with a QUIC-tuned node pool."""

    project: str
    """GCP project to create the cluster in."""
    region: str
    """GCP region of the static addresses (and of a regional cluster)."""
