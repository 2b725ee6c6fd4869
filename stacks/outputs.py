"""Every stack output, declared once: the field docstrings are the descriptions (``tools.outputs_reference``
writes them into docs/reference/outputs.md).

The cluster layer, the platform and the workloads each hand up a mapping of field name -> value
(their ``outputs``); ``export`` is the only place the stack calls ``pulumi.export``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional

import pulumi
from pydantic.alias_generators import to_camel


@dataclass(frozen=True)
class StackOutputs:
    """What ``pulumi stack output`` shows; unset fields (a disabled workload, another cloud) are not exported."""

    ingress_address: pulumi.Input[str]
    """Public IP or host name of the ingress controller's load balancer ("" with `ingress.serviceType: NodePort`)."""
    ca_certificate: pulumi.Input[str]
    """PEM of the stack's own root CA (`acme.environment: selfsigned`), which `tools.verify` trusts; "" otherwise."""
    relay_url: Optional[pulumi.Input[str]] = None
    """`https://<relay host>`: the relay's URL."""
    relay_address: Optional[pulumi.Input[str]] = None
    """Where the relay host must resolve: its load balancer's IP or host name (the ingress's where it shares it)."""
    relay_certificate_secret: Optional[pulumi.Input[str]] = None
    """Name of the Secret in namespace `moq` with the relay's certificate and key."""
    relay_public_prefix: Optional[pulumi.Input[str]] = None
    """Broadcast path prefix open without a token (`relay.publicPrefix`), where `tools.verify` opens its session."""
    relay_replicas: Optional[pulumi.Input[int]] = None
    """Relays in the tier (`relay.replicas`)."""
    relay_quic_lb: Optional[pulumi.Input[bool]] = None
    """Whether the relays write QUIC-LB connection IDs the load balancer routes by (EKS): `tools.verify` then counts the
    relays that answer (its `quic-lb` row for the relay)."""
    relay_websocket: Optional[pulumi.Input[bool]] = None
    """Whether TCP 443 of the relay host carries the WebSocket fallback (`relay.websocket`; off for a tier on its own
    load balancer): without it `tools.verify` skips the relay's TCP rows."""
    relay_token_key: Optional[pulumi.Input[str]] = None
    """Where publishing takes tokens and the stack generates the key: PEM of the private key `python -m tools.token`
    signs with (secret)."""
    web_url: Optional[pulumi.Input[str]] = None
    """`https://<web host>`: the watch page."""
    envoy_url: Optional[pulumi.Input[str]] = None
    """`https://<Envoy host>[:port]`: the Envoy demo."""
    envoy_address: Optional[pulumi.Input[str]] = None
    """Public IP or host name of the Envoy demo's load balancer."""
    envoy_replicas: Optional[pulumi.Input[int]] = None
    """Envoy pods: distinct QUIC-LB server IDs `tools.verify` expects to see."""
    envoy_h2_body: Optional[pulumi.Input[str]] = None
    """Body the Envoy demo answers over HTTP/1.1 and HTTP/2 (`envoyDemo.h2Body`)."""
    envoy_h3_body: Optional[pulumi.Input[str]] = None
    """Body the Envoy demo answers over HTTP/3 (`envoyDemo.h3Body`)."""
    envoy_server_id_length: Optional[pulumi.Input[int]] = None
    """Bytes of QUIC-LB server ID in the Envoy demo's connection IDs (`envoyDemo.serverIdLength`)."""
    kube_context: Optional[pulumi.Input[str]] = None
    """`cloud: existing`: the kubeconfig context the stack deploys to."""
    kubeconfig: Optional[pulumi.Input[str]] = None
    """k3s, GKE, EKS: a kubeconfig for the cluster (secret)."""
    ssh_private_key: Optional[pulumi.Input[str]] = None
    """k3s: the VM's SSH private key (secret)."""
    ssh_command: Optional[pulumi.Input[str]] = None
    """k3s: `ssh` to the VM with that key (save it as `~/.config/quicstack/<stack>.key`, mode 0600)."""
    cluster_name: Optional[pulumi.Input[str]] = None
    """GKE, EKS: the cluster's name."""
    cluster_location: Optional[pulumi.Input[str]] = None
    """GKE: the cluster's zone or region."""

    @classmethod
    def collect(cls, *parts: Optional[object]) -> "StackOutputs":
        """One ``StackOutputs`` from the ``outputs`` mapping of each part (None: a disabled workload)."""
        values: dict[str, Any] = {}
        for part in parts:
            values.update(getattr(part, "outputs", None) or {})
        return cls(**values)

    def export(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                pulumi.export(name(f.name), value)


def name(field: str) -> str:
    """The output's name: the ``StackOutputs`` field in camelCase."""
    if field not in StackOutputs.__dataclass_fields__:
        raise KeyError(f"{field} is not a StackOutputs field")
    return to_camel(field)
