"""Deploys a Standard GKE cluster and its one QUIC-tuned node pool, with a dedicated node service account.

The cluster: VPC-native on the given subnet's secondary ranges, Workload Identity pool, Dataplane V2
(which enforces the workloads' NetworkPolicies), the HTTP load balancing add-on on (mixed-protocol
load balancers need it), no default node pool. The pool: autoscaled, GKE metadata server (Workload
Identity), ``net.core.rmem_max``/``wmem_max`` raised for QUIC, nodes running as an account that may
only write logs and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp
import yaml

from components.gcp.service_account import service_account
from components.shared.node import UDP_BUFFER_BYTES

NODE_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer")
AUTH_PLUGIN = "gke-gcloud-auth-plugin"


@dataclass(frozen=True)
class NodePoolArgs:
    machine_type: str
    """Node machine type."""
    min_nodes: int
    """Fewest nodes per zone."""
    max_nodes: int
    """Most nodes per zone."""
    disk_size_gb: int
    """Boot disk size per node."""
    spot: bool = False
    """Spot VMs."""


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    """Project of the cluster and the node account."""
    location: str
    """A zone (zonal cluster) or a region (regional cluster)."""
    network: pulumi.Input[str]
    """VPC network."""
    subnetwork: pulumi.Input[str]
    """Subnet with the pod and Service secondary ranges."""
    pods_range: str
    """Name of the subnet's secondary range for pods."""
    services_range: str
    """Name of the subnet's secondary range for Services."""
    release_channel: str
    """RAPID, REGULAR, STABLE or EXTENDED."""
    node_account_id: str
    """ID of the nodes' service account."""
    node_pool: NodePoolArgs
    """The node pool."""
    min_master_version: Optional[str] = None
    """Lowest control-plane version to create the cluster at; None means the channel's default."""
    deletion_protection: bool = False
    """GKE refuses to delete the cluster while this is on."""
    admin_cidrs: Optional[Sequence[str]] = None
    """Master authorized networks; None leaves the endpoint open (Google credentials still required)."""
    udp_buffer_bytes: int = UDP_BUFFER_BYTES
    """``net.core.rmem_max`` and ``net.core.wmem_max`` on every node."""


def kubeconfig(name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for the cluster whose credentials come from ``gke-gcloud-auth-plugin`` at each use.

    No token is stored: the plugin (on PATH of whoever runs Pulumi or kubectl) asks gcloud for one.
    """
    user = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": AUTH_PLUGIN,
        "provideClusterInfo": True,
        "interactiveMode": "Never",
        "installHint": f"Install {AUTH_PLUGIN}: gcloud components install {AUTH_PLUGIN}",
    }}
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate},
                }
            ],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        sort_keys=False,
    )


class GkeCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    node_pool: gcp.container.NodePool
    kubeconfig: pulumi.Output[str]
    """Kubeconfig using the auth plugin (a secret: it names the endpoint and CA of an admin-capable cluster)."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:gcp:GkeCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        nodes = service_account(
            f"{name}-nodes", args.project, args.node_account_id,
            "quicstack GKE nodes (logs and metrics only)", child, roles=NODE_ROLES,
        )
        cluster_args: dict = {}
        if args.min_master_version:
            cluster_args["min_master_version"] = args.min_master_version
        if args.admin_cidrs is not None:
            cluster_args["master_authorized_networks_config"] = {
                "cidr_blocks": [{"cidr_block": c, "display_name": f"admin {c}"} for c in args.admin_cidrs]}
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            project=args.project,
            location=args.location,
            # The default pool cannot be managed separately; a one-node pool is created and removed.
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=args.deletion_protection,
            release_channel={"channel": args.release_channel},
            networking_mode="VPC_NATIVE",
            network=args.network,
            subnetwork=args.subnetwork,
            ip_allocation_policy={
                "cluster_secondary_range_name": args.pods_range,
                "services_secondary_range_name": args.services_range,
            },
            datapath_provider="ADVANCED_DATAPATH",
            workload_identity_config={"workload_pool": f"{args.project}.svc.id.goog"},
            addons_config={"http_load_balancing": {"disabled": False}},
            # Service.spec.externalIPs lets any namespace intercept traffic to an arbitrary IP (CVE-2020-8554):
            # https://github.com/kubernetes/kubernetes/issues/97076
            service_external_ips_config={"enabled": False},
            opts=child,
            **cluster_args,
        )
        self.node_pool = self._node_pool(name, args, nodes.account, nodes.grants)
        context = pulumi.Output.concat("gke_", args.project, "_", args.location, "_", self.cluster.name)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(context, self.cluster.endpoint, self.cluster.master_auth).apply(
                lambda a: kubeconfig(a[0], a[1], a[2]["cluster_ca_certificate"])
            )
        )
        self.register_outputs({"cluster": self.cluster.name, "kubeconfig": self.kubeconfig})

    def _node_pool(self, name: str, args: GkeClusterArgs, account: gcp.serviceaccount.Account,
                   grants: list) -> gcp.container.NodePool:
        pool = args.node_pool
        return gcp.container.NodePool(
            f"{name}-pool",
            project=args.project,
            cluster=self.cluster.id,
            location=args.location,
            initial_node_count=pool.min_nodes,
            autoscaling={"min_node_count": pool.min_nodes, "max_node_count": pool.max_nodes},
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"max_surge": 1, "max_unavailable": 0},
            node_config={
                "machine_type": pool.machine_type,
                "disk_size_gb": pool.disk_size_gb,
                "disk_type": "pd-balanced",
                "image_type": "COS_CONTAINERD",
                "spot": pool.spot,
                "service_account": account.email,
                # Access is decided by the account's IAM roles, not by legacy scopes.
                "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                # Pods see the GKE metadata server, which serves only their own Workload Identity.
                "workload_metadata_config": {"mode": "GKE_METADATA"},
                "linux_node_config": {"sysctls": {
                    "net.core.rmem_max": str(args.udp_buffer_bytes),
                    "net.core.wmem_max": str(args.udp_buffer_bytes),
                }},
                "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                "metadata": {"disable-legacy-endpoints": "true"},
            },
            # Nodes that start before their account may write logs lose their boot logs.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
