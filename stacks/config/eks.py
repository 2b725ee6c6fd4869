"""``quicstack:eks``: an EKS cluster with the AWS Load Balancer Controller."""

from __future__ import annotations

from .base import Model


class Eks(Model):
    """An EKS cluster whose NLBs route QUIC by server ID."""

    region: str
    """AWS region, e.g. `eu-west-1`."""
