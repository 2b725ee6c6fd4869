"""Cluster layer for ``cloud: k3s``: one GCE VM running k3s, every Service on the VM's static address.

Creates, in the configured project: a regional static address, a dedicated VPC and subnet (unless
``k3s.network`` names one), the firewall (the workloads' public ports from anywhere, SSH and the API
from ``k3s.adminCidrs``), the VM with its startup script, the SSH commands that wait for k3s and read
its kubeconfig, and optionally (``Cluster.publish_records``) Cloud DNS A records for the public hosts.
"""

from __future__ import annotations

from collections import defaultdict

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import Cluster
from components.gcp.addresses import Addresses, AddressesArgs
from components.gcp.firewall import Firewall, FirewallArgs
from components.gcp.k3s_access import K3sAccess, K3sAccessArgs
from components.gcp.k3s_vm import K3sVm, K3sVmArgs
from components.gcp.names import account_id
from components.gcp.network import Network, NetworkArgs
from stacks.capabilities import capabilities
from stacks.config import Settings
from stacks.config.k3s import K3s
from stacks.gcp import provider_options, records

NETWORK_TAG = "quicstack-k3s"


def build(settings: Settings) -> Cluster:
    k3s: K3s = settings.cluster
    stack = pulumi.get_stack()
    gcp_opts = provider_options(k3s, stack)

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
    access = K3sAccess("k3s-access", K3sAccessArgs(
        host=address, user=k3s.ssh_user, private_key=vm.ssh_private_key, instance_id=vm.instance.instance_id,
        bootstrap=vm.startup_script, context=f"quicstack-{stack}", depends_on=[vm.instance, firewall.admin]))
    # Every Kubernetes resource uses this provider, so none is created before the API server is ready.
    kubernetes = k8s.Provider("k3s", kubeconfig=access.kubeconfig,
                              opts=pulumi.ResourceOptions(depends_on=[access.ready]))

    # ServiceLB binds every LoadBalancer port on the node and reports the node's external (static)
    # address: nothing to reserve per Service, and every host resolves to the node.
    return capabilities(
        settings, kubernetes, record_address=address, write_records=records(settings, gcp_opts),
        outputs={"kubeconfig": access.kubeconfig, "ssh_private_key": vm.ssh_private_key,
                 # The key lives outside the repository (docs/stacks/k3s.md writes it there with mode 0600).
                 "ssh_command": pulumi.Output.concat(f"ssh -i ~/.config/quicstack/{stack}.key ", k3s.ssh_user, "@",
                                                     address)},
    )
