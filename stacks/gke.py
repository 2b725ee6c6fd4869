"""Cluster layer for ``cloud: gke``: a Standard GKE cluster whose ingress and relay share one static address.

Creates, in the configured project: a dedicated VPC and subnet (with pod and Service ranges), the
cluster and its QUIC-tuned node pool, two reserved regional addresses (ingress + relay, and the Envoy
demo), the Workload Identity grant cert-manager answers DNS-01 with (when a challenge uses DNS-01; with
``dns.challengeZone`` on that zone alone, plus the ``_acme-challenge`` CNAMEs into it), and optionally
Cloud DNS A records for the public hosts pointing at the reserved addresses.

The ingress controller's Service (TCP 80/443) and the relay's Service (UDP 443) both ask for the
same reserved address: two Services, one address, which works on every GKE version and puts TCP 80
behind the relay host (HTTP-01, and the WebSocket fallback through the ingress). With
``gke.mixedProtocol`` every Service uses the backend-service-based load balancer class instead, which
also accepts TCP and UDP in one Service.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Cluster, ExposeRequest, Exposure
from components.gcp.addresses import Addresses, AddressesArgs
from components.gcp.challenge_delegation import ChallengeDelegation, ChallengeDelegationArgs
from components.gcp.dns01_identity import Dns01Identity, Dns01IdentityArgs
from components.gcp.gke import GkeCluster, GkeClusterArgs, NodePoolArgs
from components.gcp.names import account_id
from components.gcp.network import Network, NetworkArgs
from components.platform.cert_manager import NAMESPACE as CERT_MANAGER_NAMESPACE
from components.platform.cert_manager import SERVICE_ACCOUNT as CERT_MANAGER_SERVICE_ACCOUNT
from stacks.capabilities import capabilities
from stacks.config import Settings
from stacks.config.gke import MIXED_PROTOCOL_CLASS, Gke
from stacks.gcp import provider_options, records

PODS_RANGE, SERVICES_RANGE = "pods", "services"


def build(settings: Settings) -> Cluster:
    gke: Gke = settings.cluster
    stack = pulumi.get_stack()
    gcp_opts = provider_options(gke, stack)
    cluster = _cluster(gke, stack, gcp_opts)
    addresses = Addresses("gke-address", AddressesArgs(region=gke.region, purposes=("ingress", "envoy")), opts=gcp_opts)
    ingress_ip, envoy_ip = addresses.ip("ingress"), addresses.ip("envoy")
    annotations, dns01_ready = _dns01_identity(settings, stack, cluster, gcp_opts) if settings.acme.uses_dns01 \
        else ({}, [])

    # Nothing Kubernetes starts on a cluster without nodes: the provider waits for the node pool.
    kubernetes = k8s.Provider("gke", kubeconfig=cluster.kubeconfig,
                              opts=pulumi.ResourceOptions(depends_on=[cluster.node_pool]))
    lb_class = MIXED_PROTOCOL_CLASS if gke.mixed_protocol else None
    # The relay's Service asks for the ingress's reserved address (see the module docstring).
    reserved = {"ingress": ingress_ip, "relay": ingress_ip, "envoy": envoy_ip, "gateway": ingress_ip}

    def expose(request: ExposeRequest) -> Exposure:
        return Exposure(address=reserved.get(request.endpoint), class_name=lb_class)

    return capabilities(
        settings, kubernetes, expose=expose, reserved=reserved, cert_manager_annotations=annotations,
        # cert-manager starts once the CNAMEs it follows exist (dns.challengeZone), as it does once it may act.
        platform_dependencies=dns01_ready,
        # A LoadBalancer Service must be deleted while its nodes and the cluster's controller still run,
        # so GKE removes the forwarding rules that hold the reserved addresses.
        load_balancer_dependencies=[cluster.node_pool],
        write_records=records(settings, gcp_opts),
        outputs={"kubeconfig": cluster.kubeconfig, "cluster_name": cluster.cluster.name,
                 "cluster_location": _location(gke)},
    )


def _location(gke: Gke) -> str:
    return gke.region if gke.regional else gke.zone


def _cluster(gke: Gke, stack: str, opts: pulumi.ResourceOptions) -> GkeCluster:
    ranges = {PODS_RANGE: gke.pod_cidr, SERVICES_RANGE: gke.service_cidr}
    net = Network("gke-network", NetworkArgs(region=gke.region, cidr=gke.subnet_cidr, secondary_ranges=ranges),
                  opts=opts)
    pool = gke.node_pool
    return GkeCluster(
        "gke",
        GkeClusterArgs(project=gke.project, location=_location(gke), network=net.network.id, subnetwork=net.subnet.id,
                       pods_range=PODS_RANGE, services_range=SERVICES_RANGE, release_channel=gke.release_channel,
                       node_account_id=account_id(stack, "nodes"),
                       node_pool=NodePoolArgs(machine_type=pool.machine_type, min_nodes=pool.min_nodes,
                                              max_nodes=pool.max_nodes, disk_size_gb=pool.disk_size_gb, spot=pool.spot),
                       min_master_version=gke.min_master_version, deletion_protection=gke.deletion_protection,
                       admin_cidrs=gke.admin_cidrs),
        opts=opts,
    )


def _dns01_identity(settings: Settings, stack: str, cluster: GkeCluster, opts: pulumi.ResourceOptions
                    ) -> tuple[dict, list[pulumi.Resource]]:
    """(cert-manager's ServiceAccount annotations, what cert-manager waits for): its Workload Identity, allowed to
    change the DNS-01 zone's records only, the challenge zone's when there is one, reached through CNAMEs in the
    hosts' zone."""
    gke: Gke = settings.cluster
    dns = settings.dns
    identity = Dns01Identity(
        "cert-manager-dns01",
        Dns01IdentityArgs(project=gke.project, account_id=account_id(stack, "dns01"),
                          dns_project=settings.dns_project, zone=dns.dns01_zone,
                          namespace=CERT_MANAGER_NAMESPACE, service_account=CERT_MANAGER_SERVICE_ACCOUNT,
                          depends_on=[cluster.cluster]),
        opts=opts,
    )
    if not dns.challenge_zone:
        return identity.annotations, []
    hosts = [host for host, challenge in settings.challenge_by_host.items() if challenge == "dns01"]
    delegation = ChallengeDelegation(
        "acme-challenge",
        ChallengeDelegationArgs(zone=dns.zone, challenge_zone=dns.challenge_zone, project=settings.dns_project,
                                hosts=hosts),
        opts=opts,
    )
    return identity.annotations, list(delegation.records)
