"""``quicstack:eks``: an EKS cluster with the AWS Load Balancer Controller."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field

from components.cluster.profile import Profile
from components.shared.errors import ConfigError
from components.shared.fields import Cidr, matching
from components.shared.model import Model

from . import exposure, networks

# The rules below read the whole stack config (``Settings``), which composes this section: it is
# passed in, not imported, so the two modules do not import each other.
Settings = Any

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+", re.ASCII)
# The vendored controller IAM policy and the managed-policy ARNs are written for the `aws` partition.
_OTHER_PARTITIONS = ("cn-", "us-gov-", "us-iso", "eusc-")
_NAME = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")
_VERSION = re.compile(r"1\.(\d+)", re.ASCII)
_IAM_PRINCIPAL = re.compile(r"arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]+", re.ASCII)
_ADDON_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+")
_INSTANCE = re.compile(r"([a-z]+)(\d+)([a-z-]*)\.([a-z0-9]+)", re.ASCII)

# NLB names are at most 32 characters; each load balancer is named `<eks.name>-<suffix>`.
LB_NAME_MAX = 32
# `gateway`: the Envoy Gateway edge's own NLB, so a move from ingress-nginx creates it beside the old one.
LB_SUFFIXES = ("ingress", "relay", "envoy", "gateway")
NAME_MAX = LB_NAME_MAX - 1 - max(map(len, LB_SUFFIXES))
# Envoy pods when `envoyDemo.replicas` is unset: the seed's 10, which the NLB spreads QUIC over.
EKS_REPLICAS = 10
# The NLB reads, and the load balancer controller injects, 8-byte QUIC server IDs.
NLB_SERVER_ID_LENGTH = 8
# The oldest release this project's manifests are validated against (tests/support/validators.py).
MIN_KUBERNETES_MINOR = 31

# Pods per node with the VPC CNI's default (secondary IP) mode: ENIs x (IPv4 per ENI - 1) + 2,
# from amazon-vpc-cni-k8s misc/eni-max-pods.txt. Types not listed here are not checked.
MAX_PODS = {
    "t3.small": 11,
    "t3.medium": 17,
    "t3.large": 35,
    "t3.xlarge": 58,
    "t3.2xlarge": 58,
    "t3a.small": 8,
    "t3a.medium": 17,
    "t3a.large": 35,
    "t3a.xlarge": 58,
    "t3a.2xlarge": 58,
    "m5.large": 29,
    "m5.xlarge": 58,
    "m5.2xlarge": 58,
    "m6i.large": 29,
    "m6i.xlarge": 58,
    "m7i.large": 29,
    "m7i.xlarge": 58,
    "c5.large": 29,
    "c5.xlarge": 58,
    "c6i.large": 29,
    "c6i.xlarge": 58,
    "c7i.large": 29,
    "c7i.xlarge": 58,
}
# Pods on every node: aws-node (VPC CNI), kube-proxy, eks-pod-identity-agent.
DAEMONSET_PODS = 3
# coredns 2, load balancer controller 2, cert-manager's cainjector 1 and its startupapicheck Job 1;
# cert-manager's controller and webhook run `Profile.system_replicas` each.
FIXED_SYSTEM_PODS = 2 + 2 + 1 + 1


def _region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise ValueError("is not an AWS region name such as eu-west-1")
    if value.startswith(_OTHER_PARTITIONS):
        raise ValueError(
            "is outside the aws partition: the vendored controller IAM "
            "policy and the managed-policy ARNs are for commercial regions"
        )
    return value


def _kubernetes_version(value: str) -> str:
    found = _VERSION.fullmatch(value)
    if not found:
        raise ValueError("is not a Kubernetes minor version such as 1.35")
    if int(found.group(1)) < MIN_KUBERNETES_MINOR:
        raise ValueError(
            f"is older than 1.{MIN_KUBERNETES_MINOR}, the oldest release this project's manifests are validated against"
        )
    return value


# The values CloudWatch Logs accepts for a log group's retention.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _retention(value: int) -> int:
    if value not in RETENTION_DAYS:
        raise ValueError("is not a retention CloudWatch Logs accepts (" + ", ".join(map(str, RETENTION_DAYS)) + ")")
    return value


def _instance_type(value: str) -> str:
    found = _INSTANCE.fullmatch(value)
    if not found:
        raise ValueError("is not an EC2 instance type such as t3.medium")
    if "g" in found.group(3):
        raise ValueError("is an Arm (Graviton) type; the nodes run the AL2023 x86_64 AMI")
    return value


Region = Annotated[str, AfterValidator(_region)]
Name = Annotated[str, matching(_NAME, "is not a name of lower-case letters, digits and '-' that starts with a letter")]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
IamPrincipal = Annotated[
    str, matching(_IAM_PRINCIPAL, "is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/Admin")]
InstanceType = Annotated[str, AfterValidator(_instance_type)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Addon = Literal["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"]
AddonVersion = Annotated[str, matching(_ADDON_VERSION, "is not an EKS add-on version such as v1.12.4-eksbuild.1")]
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


# A bound that catches a typo (10^15 nodes) long before AWS quotas would; raise it if you really need more.
MAX_NODES = 100


class EksNodes(Model):
    """The managed node group (AL2023 x86_64, IMDSv2 only), spread over the private subnets."""

    instance_type: InstanceType = "t3.medium"
    """EC2 instance type. A t3.medium holds 17 pods (VPC CNI, 3 ENIs x 5 addresses + 2); the default stack runs 36 on 3
    nodes, so 3 leave room for 15 more."""
    desired_size: int = Field(default=3, ge=1, le=MAX_NODES)
    """Nodes to run (at most 100); checked against the pods the stack runs for the instance types whose pod limit is
    known."""
    min_size: int = Field(default=2, ge=1, le=MAX_NODES)
    """Fewest nodes the group may scale to (at most 100)."""
    max_size: int = Field(default=4, ge=1, le=MAX_NODES)
    """Most nodes the group may scale to (at most 100)."""
    disk_size: int = Field(default=20, ge=20, le=1000)
    """Root volume size in GiB (gp3, encrypted)."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """`ON_DEMAND`, or `SPOT` for cheaper nodes that AWS may reclaim."""


class Eks(Model):
    """An EKS cluster whose NLBs route QUIC by server ID."""

    region: Region
    """AWS region, e.g. `eu-west-1`."""
    name: Optional[Name] = None
    """Cluster name and prefix of the load balancer names (`<name>-ingress`, `-relay`, `-envoy`); unset means
    `quicstack-<stack>`. At most 24 characters, as NLB names are at most 32."""
    kubernetes_version: KubernetesVersion = "1.35"
    """Kubernetes minor version of the control plane and the nodes."""
    zones: int = Field(default=2, ge=2, le=3)
    """Availability zones (2 or 3) to spread subnets, nodes and load balancers over."""
    nat_gateways: Literal["single", "perZone"] = "single"
    """`single`: one NAT gateway for every zone (cheaper); `perZone`: one per zone (no cross-zone dependency)."""
    vpc_cidr: Cidr = "10.0.0.0/16"
    """IPv4 block of the VPC, a /16 to a /20; pods take their addresses from the private subnets."""
    ip_family: Literal["ipv4", "ipv6"] = "ipv4"
    """Cluster IP family. Only `ipv4` is built: NLB QUIC listeners reject dual-stack load balancers."""
    public_access_cidrs: list[Cidr]
    """IPv4 blocks that may reach the public Kubernetes API endpoint: the machine running `pulumi up` and your own, e.g.
    `203.0.113.7/32` (requests still need IAM credentials)."""
    allow_open_admin: bool = False
    """Permit `0.0.0.0/0` in `publicAccessCidrs` (the API endpoint open to the internet, guarded only by IAM). Off: an
    open block is a config error."""
    admins: list[IamPrincipal] = []
    """IAM role or user ARNs given cluster-admin through access entries, besides the identity that creates the cluster;
    each at most once."""
    nodes: EksNodes = EksNodes()
    """The managed node group."""
    addon_versions: dict[Addon, AddonVersion] = {}
    """Add-on versions to pin, e.g. `{coredns: v1.12.4-eksbuild.1}`; unset ones get EKS's default for
    `kubernetesVersion`."""
    control_plane_logs: list[LogType] = ["api", "audit", "authenticator"]
    """Control-plane log types sent to CloudWatch (a log group the stack owns, so destroy removes it)."""
    log_retention_days: RetentionDays = 14
    """Days CloudWatch keeps control-plane logs."""

    @property
    def profile(self) -> Profile:
        # The load balancer controller makes one TCP_UDP NLB listener of a TCP and a UDP port of one number,
        # and its QUIC listeners route by the server ID it injects into pods:
        # https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/
        return Profile(shared_address=False, shares_ingress_address=False, mixed_protocol=False, tcp_udp_service=True,
                       managed=True, dns_providers=("route53",), quic_lb=True, default_replicas=EKS_REPLICAS,
                       dns_region=self.region)


def load_balancer_names(prefix: str) -> dict[str, str]:
    """The NLB name of each exposure: fixed at creation (an NLB cannot be renamed) and found by tag or name."""
    return {suffix: f"{prefix}-{suffix}" for suffix in LB_SUFFIXES}


def check_name(prefix: str, *, derived: bool) -> None:
    """Every load balancer name derived from ``prefix`` must fit the NLB limit."""
    longest = max(load_balancer_names(prefix).values(), key=len)
    if len(longest) > LB_NAME_MAX:
        origin = f"is unset and the name derived from the stack, {prefix!r}," if derived else "is too long: it"
        raise ConfigError(
            "eks.name", f"{origin} makes the load balancer name {longest!r} {len(longest)} characters long; "
            f"NLB names are at most {LB_NAME_MAX} (use at most {NAME_MAX} characters)", None if derived else prefix,
            has_value=not derived)


def default_name(stack: str) -> str:
    """``quicstack-<stack>`` made a valid name (stack names may hold '_' and '.')."""
    return re.sub(r"[^a-z0-9-]+", "-", f"quicstack-{stack}".lower()).strip("-")


def pods_needed(s: Settings) -> tuple[int, str]:
    """Pods the stack schedules (with one Envoy rolling-update surge), and how that number is made up."""
    eks = s.eks
    envoy = s.envoy_demo.replicas_on(eks.profile) if s.envoy_demo.enabled else 0
    surge = math.ceil(envoy / 4)  # the Deployment's default maxSurge of 25%
    parts = {
        f"DaemonSet ({DAEMONSET_PODS} per node)": DAEMONSET_PODS * eks.nodes.desired_size,
        "system": FIXED_SYSTEM_PODS + 2 * eks.profile.system_replicas,
        "ingress": s.ingress.replicas or eks.profile.system_replicas,
        "relay": int(s.relay.enabled),
        "web": int(s.relay.enabled and s.web.enabled),
        "Envoy": envoy + surge,
    }
    return sum(parts.values()), ", ".join(f"{n} {k}" for k, n in parts.items() if n)


def check(s: Settings) -> None:
    """Rules that need the whole stack config, for ``cloud: eks``."""
    eks = s.eks
    demo = s.envoy_demo
    if demo.enabled and demo.server_id_length != NLB_SERVER_ID_LENGTH:
        raise ConfigError(
            "envoyDemo.serverIdLength",
            f"is not {NLB_SERVER_ID_LENGTH}: on EKS the NLB reads, and the load "
            "balancer controller injects, 8-byte server IDs",
            demo.server_id_length,
        )
    if eks.ip_family == "ipv6":
        problem = ("is not possible with the Envoy demo: NLB QUIC listeners reject dual-stack load balancers; use ipv4"
                   if s.envoy_demo.enabled else "is not supported: this stack builds an IPv4 VPC and cluster; use ipv4")
        raise ConfigError("eks.ipFamily", problem, "ipv6")
    vpc = ipaddress.ip_network(eks.vpc_cidr)
    if vpc.version != 4 or not 16 <= vpc.prefixlen <= 20:
        raise ConfigError(
            "eks.vpcCidr",
            "is not an IPv4 block from /16 to /20 (the VPC is IPv4 only, and pods take their addresses from it)",
            eks.vpc_cidr,
        )
    networks.private("eks.vpcCidr", eks.vpc_cidr, "the VPC (nodes and Pods take their addresses from it)")
    # components/aws/vpc.py cuts the last quarter of the VPC into sixteenths for the public subnets, the smallest.
    public = next(ipaddress.ip_network(eks.vpc_cidr).subnets(prefixlen_diff=2 + 4))
    networks.subnet("eks.vpcCidr", str(public), networks.AWS_SMALLEST_SUBNET, "AWS")
    if not eks.public_access_cidrs:
        raise ConfigError(
            "eks.publicAccessCidrs",
            "is empty: give at least one IPv4 block, or the API endpoint is unreachable for Pulumi",
            has_value=False,
        )
    for i, cidr in enumerate(eks.public_access_cidrs):
        if ipaddress.ip_network(cidr).version != 4:
            raise ConfigError(
                f"eks.publicAccessCidrs.{i}", "is not an IPv4 block (EKS public endpoint access takes IPv4 only)", cidr
            )
    if not eks.allow_open_admin:
        exposure.check_admin_cidrs("eks.publicAccessCidrs", eks.public_access_cidrs, "eks.allowOpenAdmin",
                                   opens="the Kubernetes API")
    if eks.name is not None:
        check_name(eks.name, derived=False)
    _nodes(s)
    # The controller turns a Service's TCP and UDP ports of one number into a single TCP_UDP listener
    # and target group, built from the first port: both protocols reach the same container port.
    if (s.relay.enabled and s.relay.websocket_route(s.profile, s.relay_udp_via_ingress) == "load-balancer"
            and s.relay.web_port != s.relay.quic_port):
        raise ConfigError(
            "relay.webPort",
            f"is not relay.quicPort ({s.relay.quic_port}): on EKS TCP and UDP 443 of the relay share one "
            "NLB listener and target group, which forward both to one container port; set both to the same port",
            s.relay.web_port,
        )
    for i, admin in enumerate(eks.admins):
        if admin in eks.admins[:i]:
            raise ConfigError(f"eks.admins.{i}", "is listed twice: EKS has one access entry per principal", admin)


def _nodes(s: Settings) -> None:
    nodes = s.eks.nodes
    if not nodes.min_size <= nodes.desired_size <= nodes.max_size:
        raise ConfigError(
            "eks.nodes.desiredSize",
            f"is outside minSize {nodes.min_size} to maxSize {nodes.max_size}",
            nodes.desired_size,
        )
    per_node = MAX_PODS.get(nodes.instance_type)
    if per_node is None:
        return
    needed, detail = pods_needed(s)
    if nodes.desired_size * per_node < needed:
        raise ConfigError(
            "eks.nodes.desiredSize",
            f"is too few: {nodes.desired_size} x {nodes.instance_type} hold {nodes.desired_size * per_node} pods, "
            f"the stack runs {needed} ({detail}); add nodes or pick a larger instance type",
            nodes.desired_size,
        )
