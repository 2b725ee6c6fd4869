"""Cluster layer for ``cloud: k3s``: one GCE VM running k3s, every Service on the VM's static address.

Creates, in the configured project: a regional static address, a dedicated VPC and subnet (unless
``k3s.network`` names one), the firewall (the workloads' public ports from anywhere, SSH and the API
from ``k3s.adminCidrs``), the VM with its startup script, the SSH commands that wait for k3s and read
its kubeconfig, and optionally Cloud DNS A records for the public hosts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.cluster import Cluster
from components.gcp.addresses import Addresses, AddressesArgs
from components.gcp.dns import DnsRecords, DnsRecordsArgs
from components.gcp.firewall import Firewall, FirewallArgs
from components.gcp.k3s_access import K3sAccess, K3sAccessArgs
from components.gcp.k3s_vm import K3sVm, K3sVmArgs
from components.gcp.names import account_id
from components.gcp.network import Network, NetworkArgs
from stacks.config import Settings
from stacks.config.k3s import K3s

NETWORK_TAG = "quicstack-k3s"


def build(settings: Settings) -> Cluster:
    k3s: K3s = settings.cluster
    stack = pulumi.get_stack()
    provider = gcp.Provider("gcp", project=k3s.project, region=k3s.region, zone=k3s.zone,
                            default_labels={"quicstack-stack": stack.lower()})
    gcp_opts = pulumi.ResourceOptions(providers=[provider])

    address = Addresses("k3s-address", AddressesArgs(region=k3s.region, purposes=("node",)), opts=gcp_opts).ip("node")
    if k3s.network:
        network, subnetwork = k3s.network, k3s.subnetwork
    else:
        net = Network("k3s-network", NetworkArgs(region=k3s.region, cidr=k3s.subnet_cidr), opts=gcp_opts)
        network, subnetwork = net.network.id, net.subnet.id
    public: dict[str, list[int]] = defaultdict(list)
    for port in settings.public_ports:
        public[port.protocol.lower()].append(port.port)
    firewall = Firewall(
        "k3s-firewall",
        FirewallArgs(network=network, target_tag=NETWORK_TAG, public_ports=public, admin_cidrs=k3s.admin_cidrs),
        opts=gcp_opts,
    )
    vm = K3sVm(
        "k3s",
        K3sVmArgs(project=k3s.project, zone=k3s.zone, machine_type=k3s.machine_type, image=k3s.image,
                  disk_size_gb=k3s.disk_size_gb, address=address, network=network, subnetwork=subnetwork,
                  network_tag=NETWORK_TAG, account_id=account_id(stack, "vm"), ssh_user=k3s.ssh_user,
                  k3s_version=k3s.k3s_version, pod_cidr=k3s.pod_cidr),
        opts=gcp_opts,
    )
    access = K3sAccess(
        "k3s-access",
        K3sAccessArgs(host=address, user=k3s.ssh_user, private_key=vm.ssh_private_key, instance_id=vm.instance.instance_id,
                      bootstrap=vm.startup_script, context=f"quicstack-{stack}", depends_on=[vm.instance, firewall.admin]),
    )
    # Every Kubernetes resource uses this provider, so none is created before the API server is ready.
    kubernetes = k8s.Provider("k3s", kubeconfig=access.kubeconfig, opts=pulumi.ResourceOptions(depends_on=[access.ready]))

    publish_dns(settings, project=k3s.project, ingress=address, envoy=address, opts=gcp_opts)
    pulumi.export("kubeconfig", access.kubeconfig)
    pulumi.export("sshPrivateKey", vm.ssh_private_key)
    pulumi.export("sshCommand", pulumi.Output.concat("ssh -i quicstack-k3s.key ", k3s.ssh_user, "@", address))
    # ServiceLB binds every LoadBalancer port on the node and reports the node's external (static)
    # address: nothing to reserve per Service.
    return Cluster(provider=kubernetes)


def dns_hosts(settings: Settings, ingress: pulumi.Input[str], envoy: pulumi.Input[str]) -> Mapping[str, pulumi.Input[str]]:
    """Host -> address for every enabled public host: the web and relay hosts resolve to the ingress's address."""
    hosts = settings.hosts
    wanted = [(hosts.web, ingress, settings.web.enabled), (hosts.relay, ingress, settings.relay.enabled),
              (hosts.envoy, envoy, settings.envoy_demo.enabled)]
    return {host: ip for host, ip, enabled in wanted if enabled}


def publish_dns(settings: Settings, project: str, ingress: pulumi.Input[str], envoy: pulumi.Input[str],
                opts: pulumi.ResourceOptions) -> None:
    """A records in the configured Cloud DNS zone, when the stack manages them."""
    dns = settings.dns
    if dns.provider != "clouddns" or not dns.records:
        return
    DnsRecords("dns", DnsRecordsArgs(zone=dns.zone, project=dns.project or project,
                                     records=dns_hosts(settings, ingress, envoy)), opts=opts)
