"""Cluster layer for ``cloud: eks``: everything on AWS below Kubernetes.

Creates, with one explicit AWS provider for the configured region: a VPC over 2 or 3 zones, the EKS
cluster (access entries, creator as admin), a managed AL2023 node group, the managed add-ons, the
AWS Load Balancer Controller with Pod Identity, cert-manager's Route53 DNS-01 role (when DNS-01 goes
through Route53), and, once the workloads know their NLB hostnames, Route53 alias records.

Destroy order is encoded as dependencies: every LoadBalancer Service depends on the controller's
release, its IAM policy attachment, its Pod Identity association and the node group
(``Cluster.load_balancer_dependencies``), so the Services, and with them the NLBs the controller
created, go first; otherwise their network interfaces would keep the subnets and the VPC alive.
"""

from __future__ import annotations

from typing import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws.addons import Addons, AddonsArgs
from components.aws.cluster import EksCluster, EksClusterArgs
from components.aws.dns import DnsRecords, DnsRecordsArgs, dns01_policy
from components.aws.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs, nlb
from components.aws.node_group import NodeGroup, NodeGroupArgs
from components.aws.pod_identity import PodIdentityRole, PodIdentityRoleArgs
from components.aws.vpc import Vpc, VpcArgs
from components.cluster.contract import Cluster, ExposeRequest, Exposure
from components.platform import cert_manager
from stacks.capabilities import capabilities
from stacks.config import ConfigError, Settings
from stacks.config.eks import Eks, check_name, default_name, load_balancer_names


def zones(region: str, count: int, provider: aws.Provider) -> list[str]:
    """The first ``count`` zones of the region that need no opt-in (no Local or Wavelength Zones)."""
    found = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOptions(provider=provider))
    names = sorted(found.names)
    if len(names) < count:
        raise ConfigError("eks.zones", f"is more than the {len(names)} zones {region} offers", count)
    return names[:count]


def uses_route53_dns01(settings: Settings) -> bool:
    return settings.dns.provider == "route53" and settings.acme.uses_dns01


def build(settings: Settings) -> Cluster:
    eks = settings.cluster
    stack = pulumi.get_stack()
    name = eks.name or default_name(stack)
    if eks.name is None:
        check_name(name, derived=True)
    tags = {"quicstack-stack": stack, "quicstack-cluster": name}
    provider = aws.Provider("aws", region=eks.region, default_tags={"tags": tags})
    on_aws = pulumi.ResourceOptions(providers=[provider])

    vpc = Vpc("vpc", VpcArgs(name=name, cidr=eks.vpc_cidr, zones=zones(eks.region, eks.zones, provider),
                             nat_per_zone=eks.nat_gateways == "perZone"), opts=on_aws)
    cluster, nodes, addons = _cluster(eks, name, vpc, on_aws)
    kubernetes = k8s.Provider(
        "eks", kubeconfig=cluster.kubeconfig,
        # Never drop Kubernetes objects from state because the cluster is unreachable: their NLBs would leak.
        delete_unreachable=False,
        opts=pulumi.ResourceOptions(depends_on=[nodes.group, *addons]))
    controller = LoadBalancerController("aws-load-balancer-controller", LoadBalancerControllerArgs(
        cluster_name=cluster.name, cluster_arn=cluster.arn, region=eks.region, vpc_id=vpc.vpc_id, tags=tags,
        wait_for=[nodes.group, *addons]),
        opts=pulumi.ResourceOptions(providers=[provider, kubernetes]))
    platform_dependencies: list[pulumi.Resource] = [controller.release]
    if uses_route53_dns01(settings):
        platform_dependencies += _dns01_role(settings, cluster, on_aws)
    names = load_balancer_names(name)

    def expose(request: ExposeRequest) -> Exposure:
        # The relay asks for TCP_UDP: UDP 443 for QUIC and TCP 443 for the WebSocket fallback share one listener.
        return nlb(names[request.endpoint], tcp_udp=request.tcp_udp, quic_port=request.quic_port)

    records = settings.dns.writes_records("route53")
    return capabilities(
        settings, kubernetes, expose=expose, platform_dependencies=platform_dependencies,
        load_balancer_dependencies=[controller.release, controller.identity.attachment, controller.identity.association,
                                    nodes.group],
        write_records=_records(settings, provider) if records else None,
        outputs={"kubeconfig": cluster.kubeconfig, "cluster_name": cluster.name},
    )


def _records(settings: Settings, provider: aws.Provider):
    def write(targets: Mapping[str, pulumi.Input[str]]) -> None:
        """Alias records host -> NLB hostname in the configured zone; call once, with every host."""
        DnsRecords("records", DnsRecordsArgs(zone_id=settings.dns.zone, targets=targets),
                   opts=pulumi.ResourceOptions(providers=[provider]))

    return write


def _cluster(eks: Eks, name: str, vpc: Vpc, on_aws: pulumi.ResourceOptions) -> tuple[EksCluster, NodeGroup, list]:
    """The control plane, the node group and the managed add-ons."""
    cluster = EksCluster("eks", EksClusterArgs(
        name=name, region=eks.region, version=eks.kubernetes_version, subnet_ids=vpc.private_subnet_ids,
        public_access_cidrs=eks.public_access_cidrs, admins=eks.admins, log_types=eks.control_plane_logs,
        log_retention_days=eks.log_retention_days), opts=on_aws)
    n = eks.nodes
    # Nodes in private subnets join through the NAT gateway: the whole VPC (routes included) comes first.
    nodes = NodeGroup("nodes", NodeGroupArgs(
        cluster_name=cluster.name, version=eks.kubernetes_version, subnet_ids=vpc.private_subnet_ids,
        instance_type=n.instance_type, desired_size=n.desired_size, min_size=n.min_size, max_size=n.max_size,
        disk_size=n.disk_size, capacity_type=n.capacity_type, wait_for=[vpc]), opts=on_aws)
    addons = Addons("addons", AddonsArgs(cluster_name=cluster.name, kubernetes_version=eks.kubernetes_version,
                                         versions=eks.addon_versions, wait_for=[nodes.group]), opts=on_aws)
    return cluster, nodes, list(addons.addons.values())


def _dns01_role(settings: Settings, cluster: EksCluster, on_aws: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """cert-manager's Route53 role; its pods get Pod Identity credentials only if the association exists when they
    start, so the platform waits for what this returns."""
    zone = settings.dns.zone
    dns01 = PodIdentityRole("cert-manager-dns01", PodIdentityRoleArgs(
        cluster_name=cluster.name, cluster_arn=cluster.arn, namespace=cert_manager.NAMESPACE,
        service_account=cert_manager.SERVICE_ACCOUNT, policy=dns01_policy(zone),
        description=f"cert-manager DNS-01 in hosted zone {zone}"), opts=on_aws)
    return [dns01.attachment, dns01.association]
