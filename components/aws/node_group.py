"""The managed node group: its IAM role, a launch template (IMDSv2 only, encrypted gp3 root volume)
and the AL2023 x86_64 nodes in the private subnets.

In API authentication mode EKS creates the node role's access entry itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from .iam import trust_policy

AMI_TYPE = "AL2023_x86_64_STANDARD"
NODE_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    # aws-node (the VPC CNI) runs with the node's credentials.
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "registry": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
}


@dataclass(frozen=True)
class NodeGroupArgs:
    cluster_name: pulumi.Input[str]
    """Cluster the nodes join."""
    version: str
    """Kubernetes minor version of the nodes (the control plane's)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, one per zone."""
    instance_type: str
    """EC2 instance type."""
    desired_size: int
    """Nodes to run."""
    min_size: int
    """Fewest nodes."""
    max_size: int
    """Most nodes."""
    disk_size: int
    """Root volume in GiB."""
    capacity_type: str
    """ON_DEMAND or SPOT."""
    wait_for: Sequence[pulumi.Resource] = ()
    """What the nodes need before they can join (the VPC's NAT routes)."""


class NodeGroup(pulumi.ComponentResource):
    group: aws.eks.NodeGroup

    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("quicstack:aws:NodeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}", assume_role_policy=json.dumps(trust_policy("ec2.amazonaws.com")), opts=child)
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-{key}", role=role.name, policy_arn=arn, opts=child)
                       for key, arn in NODE_POLICIES.items()]
        template = aws.ec2.LaunchTemplate(
            f"{name}",
            # IMDSv2 only, and a hop limit of 1 so that pods (one hop further) cannot reach the node's
            # credentials: controllers get their own through Pod Identity, and the load balancer
            # controller is told its region and VPC instead of discovering them.
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": args.disk_size,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            update_default_version=True,
            opts=child,
        )
        self.group = aws.eks.NodeGroup(
            f"{name}",
            cluster_name=args.cluster_name,
            version=args.version,
            node_role_arn=role.arn,
            subnet_ids=list(args.subnet_ids),
            ami_type=AMI_TYPE,
            instance_types=[args.instance_type],
            capacity_type=args.capacity_type,
            scaling_config={"desired_size": args.desired_size, "min_size": args.min_size, "max_size": args.max_size},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            # The role's policies must outlive the nodes, or draining them on delete fails.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *args.wait_for]),
        )
        self.register_outputs({"nodeGroup": self.group.arn})
