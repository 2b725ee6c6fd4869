"""The planned eks stack (stacks/Pulumi.eks.yaml): network, cluster, nodes, add-ons, the load balancer
controller, Pod Identity and Route53, as resources.json records them."""

import json

import pytest

from components.aws.load_balancer_controller import controller_policy
from tests.components.aws.iam_eval import allows
from tests.conftest import stack_config
from tools.plan import fake_aws

CONFIG = stack_config("eks")
EKS = CONFIG["quicstack:eks"]
ZONE = CONFIG["quicstack:dns"]["zone"]
RELEASE = "kubernetes:helm.sh/v3:Release"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


@pytest.fixture(scope="module")
def p(plan):
    return plan("eks")


def inputs(resource):
    return resource["inputs"]


def releases(p):
    return {inputs(r)["name"]: r for r in p.of_type(RELEASE)}


def associations(p):
    return {(inputs(a)["namespace"], inputs(a)["serviceAccount"]): a for a in p.of_type(ASSOCIATION)}


def test_every_aws_resource_uses_the_one_explicit_regional_provider(p):
    (provider,) = p.of_type("pulumi:providers:aws")
    assert inputs(provider)["region"] == EKS["region"]
    aws = [r for r in p.resources if r["type"].startswith("aws:")]
    assert len(aws) > 30
    assert {r["provider"].rsplit("::", 1)[0] for r in aws} == {provider["urn"]}


def test_subnets_are_tagged_for_the_controller_in_every_zone(p):
    subnets = [inputs(s) for s in p.of_type("aws:ec2/subnet:Subnet")]
    public = [s for s in subnets if s["tags"].get("kubernetes.io/role/elb") == "1"]
    private = [s for s in subnets if s["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    assert len(public) == len(private) == EKS["zones"] and len(subnets) == 2 * EKS["zones"]
    assert len({s["availabilityZone"] for s in public}) == len({s["availabilityZone"] for s in private}) == EKS["zones"]
    assert not any(s.get("mapPublicIpOnLaunch") for s in subnets)
    # IPv4 only: nothing asks for IPv6 addresses.
    assert not any(k.startswith(("ipv6", "assignIpv6")) for s in subnets for k in s)
    assert not any(k.startswith("assignGeneratedIpv6") for k in inputs(p.one("aws:ec2/vpc:Vpc")))


def test_one_nat_gateway_and_private_routes_through_it(p):
    (nat,) = p.of_type("aws:ec2/natGateway:NatGateway")
    private_tables = [t for t in p.of_type("aws:ec2/routeTable:RouteTable") if "natGatewayId" in inputs(t)["routes"][0]]
    assert len(private_tables) == EKS["zones"]
    assert all(nat["urn"] in t["dependencies"] for t in private_tables)


def test_cluster_access_entries_version_and_logs(p):
    cluster = inputs(p.one("aws:eks/cluster:Cluster"))
    assert cluster["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert cluster["version"] == EKS["kubernetesVersion"]
    assert cluster["kubernetesNetworkConfig"] == {"ipFamily": "ipv4"}
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}
    logs = p.one("aws:cloudwatch/logGroup:LogGroup")
    assert inputs(logs)["name"] == f"/aws/eks/{cluster['name']}/cluster"
    assert logs["urn"] in p.depends_on(p.one("aws:eks/cluster:Cluster")["urn"])


def test_vpc_cni_enforces_network_policies(p):
    addons = {inputs(a)["addonName"]: inputs(a) for a in p.of_type("aws:eks/addon:Addon")}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_addons_after_the_nodes(p):
    group = p.one("aws:eks/nodeGroup:NodeGroup")
    addons = {inputs(a)["addonName"]: a for a in p.of_type("aws:eks/addon:Addon")}
    assert sorted(addons) == ["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    for addon in addons.values():
        assert group["urn"] in p.depends_on(addon["urn"])
        assert inputs(addon)["addonVersion"] and inputs(addon)["resolveConflictsOnCreate"] == "OVERWRITE"


def test_node_group(p):
    group = p.one("aws:eks/nodeGroup:NodeGroup")
    g = inputs(group)
    assert g["amiType"] == "AL2023_x86_64_STANDARD"
    assert g["instanceTypes"] == [EKS["nodes"]["instanceType"]]
    assert g["scalingConfig"]["desiredSize"] == EKS["nodes"]["desiredSize"]
    private = {s["urn"] for s in p.of_type("aws:ec2/subnet:Subnet") if "kubernetes.io/role/internal-elb" in inputs(s)["tags"]}
    assert private <= set(group["dependencies"]) and len(g["subnetIds"]) == len(private)
    template = inputs(p.one("aws:ec2/launchTemplate:LaunchTemplate"))
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    # Nodes join through the NAT gateway: its routes exist first and are deleted last.
    closure = p.depends_on(group["urn"])
    nat_routes = [t["urn"] for t in p.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")]
    assert set(nat_routes) <= closure


def test_kubernetes_provider_waits_for_nodes_and_addons(p):
    (provider,) = p.of_type("pulumi:providers:kubernetes")
    closure = p.depends_on(provider["urn"])
    assert p.one("aws:eks/nodeGroup:NodeGroup")["urn"] in closure
    assert {a["urn"] for a in p.of_type("aws:eks/addon:Addon")} <= closure
    assert inputs(provider)["kubeconfig"] == "[secret]" and p.outputs["kubeconfig"] == "[secret]"
    assert inputs(provider)["deleteUnreachable"] in (False, "false")


def test_load_balancer_controller_release(p):
    release = releases(p)["aws-load-balancer-controller"]
    r = inputs(release)
    assert (r["chart"], r["version"], r["namespace"]) == ("aws-load-balancer-controller", "3.5.0", "kube-system")
    assert r["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    v = r["values"]
    cluster = p.one("aws:eks/cluster:Cluster")
    assert v["clusterName"] == inputs(cluster)["name"]
    assert v["region"] == EKS["region"]
    assert v["vpcId"] == f"{p.one('aws:ec2/vpc:Vpc')['name']}-id"  # the mock's id for the VPC
    assert v["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller"}
    assert v["keepTLSSecret"] is True and v["replicaCount"] == 2 and v["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert {"requests", "limits"} <= v["resources"].keys()
    assert not r.get("skipAwait")
    closure = p.depends_on(release["urn"])
    identity = associations(p)[("kube-system", "aws-load-balancer-controller")]
    assert identity["urn"] in closure
    assert p.one("aws:eks/nodeGroup:NodeGroup")["urn"] in closure
    assert {a["urn"] for a in p.of_type("aws:eks/addon:Addon")} <= closure
    attachments = [a for a in p.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a["urn"] in closure]
    assert any(a["name"] == "aws-load-balancer-controller" for a in attachments)


def _role_and_policy(p, association):
    """The role an association names, and the policy attached to that role."""
    role = next(r for r in p.of_type("aws:iam/role:Role") if r["urn"] in association["dependencies"])
    attachment = next(a for a in p.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if role["urn"] in a["dependencies"])
    policy = next(x for x in p.of_type("aws:iam/policy:Policy") if x["urn"] in attachment["dependencies"])
    return json.loads(inputs(role)["assumeRolePolicy"]), json.loads(inputs(policy)["policy"])


def test_pod_identity_associations(p):
    found = associations(p)
    assert sorted(found) == [("cert-manager", "cert-manager"), ("kube-system", "aws-load-balancer-controller")]
    cluster = p.one("aws:eks/cluster:Cluster")
    for association in found.values():
        assert inputs(association)["clusterName"] == inputs(cluster)["name"]
        trust, _ = _role_and_policy(p, association)
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        # Only this cluster (in its account) and this association's namespace/ServiceAccount.
        arn = f"arn:aws:eks:{fake_aws.REGION}:{fake_aws.ACCOUNT}:cluster/{inputs(cluster)['name']}"
        assert statement["Condition"] == {"StringEquals": {
            "aws:SourceAccount": fake_aws.ACCOUNT, "aws:RequestTag/eks-cluster-arn": arn,
            "aws:RequestTag/kubernetes-namespace": inputs(association)["namespace"],
            "aws:RequestTag/kubernetes-service-account": inputs(association)["serviceAccount"]}}
    _, policy = _role_and_policy(p, found[("kube-system", "aws-load-balancer-controller")])
    assert policy == controller_policy()


def test_route53_policy_is_scoped_to_the_configured_zone(p):
    _, policy = _role_and_policy(p, associations(p)[("cert-manager", "cert-manager")])
    challenge = {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                 "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_acme-challenge.{CONFIG['quicstack:domain']}"]}
    assert allows(policy, "route53:ChangeResourceRecordSets", f"arn:aws:route53:::hostedzone/{ZONE}", challenge)
    assert not allows(policy, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZANOTHERZONE0000", challenge)
    resources = {r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert resources == {"arn:aws:route53:::change/*", f"arn:aws:route53:::hostedzone/{ZONE}"}


def test_platform_waits_for_the_controller_and_cert_manager_identity(p):
    rel = releases(p)
    controller = rel["aws-load-balancer-controller"]["urn"]
    identity = associations(p)[("cert-manager", "cert-manager")]["urn"]
    for name in ("cert-manager", "ingress-nginx"):
        closure = p.depends_on(rel[name]["urn"])
        assert controller in closure, name
    assert identity in p.depends_on(rel["cert-manager"]["urn"])


def test_issuer_solves_dns01_in_the_hosted_zone(p):
    issuer = p.object("ClusterIssuer", "letsencrypt-production")
    solvers = [s["dns01"]["route53"] for s in issuer["spec"]["acme"]["solvers"] if "dns01" in s]
    assert solvers and all(s["hostedZoneID"] == ZONE for s in solvers)


def test_route53_records_for_every_host(p):
    """Alias records in the hosted zone, each naming a load balancer Service's address, so each is created
    after (and deleted before) that Service (the ingress's is read back from its chart, not registered)."""
    from stacks.config import load

    s = load({k.split(":", 1)[1]: v for k, v in CONFIG.items()})
    records = {inputs(r)["name"]: r for r in p.of_type("aws:route53/record:Record")}
    assert sorted(records) == sorted({s.hosts.web, s.hosts.relay, s.hosts.envoy})
    for host, record in records.items():
        assert inputs(record)["zoneId"] == ZONE and inputs(record)["type"] == "A"
        (alias,) = inputs(record)["aliases"]
        assert alias["zoneId"] == "Z2IFOLAFXWLO4F"  # NLBs' hosted zone in eu-west-1 (aws.lb.get_hosted_zone_id)
        services = [d for d in record["dependencies"] if "$kubernetes:core/v1:Service::" in d]
        assert services, host
        assert all(inputs(p.by_urn[d])["spec"]["type"] == "LoadBalancer" for d in services if d in p.by_urn), host


def test_three_zones_nat_per_zone_and_extra_admins(plan_config):
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    config = {**CONFIG, "quicstack:eks": {**EKS, "zones": 3, "natGateways": "perZone", "admins": [admin]}}
    run, q = plan_config(config)
    assert run.returncode == 0, run.stderr
    nats = q.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == len(q.of_type("aws:ec2/eip:Eip")) == 3
    subnet_zone = {s["urn"]: inputs(s)["availabilityZone"] for s in q.of_type("aws:ec2/subnet:Subnet")}
    nat_zone = {n["urn"]: next(subnet_zone[d] for d in n["dependencies"] if d in subnet_zone) for n in nats}
    for table in q.of_type("aws:ec2/routeTable:RouteTable"):
        nat = [d for d in table["dependencies"] if d in nat_zone]
        if nat:  # a private table routes through the NAT gateway of its own zone
            assert nat_zone[nat[0]] == table["name"].removeprefix("vpc-private-")
    assert len({s["availabilityZone"] for s in map(inputs, q.of_type("aws:ec2/subnet:Subnet"))}) == 3
    (entry,) = q.of_type("aws:eks/accessEntry:AccessEntry")
    (access,) = q.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert inputs(entry)["principalArn"] == inputs(access)["principalArn"] == admin
    assert inputs(access)["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert inputs(access)["accessScope"] == {"type": "cluster"}


def test_a_stack_name_too_long_for_nlb_names_stops_the_plan(tmp_path):
    """The NLB names derive from the stack name unless eks.name is set; the check runs before any resource."""
    import yaml

    from tests.support.plan import run_plan

    path = tmp_path / "Pulumi.production-europe-west.yaml"
    path.write_text(yaml.safe_dump({"config": CONFIG}))
    run = run_plan(path, tmp_path / "out")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "quicstack:eks.name: is unset and the name derived from the stack, 'quicstack-production-europe-west', makes the load "
        "balancer name 'quicstack-production-europe-west-ingress' 40 characters long; NLB names are at most 32 (use at most 24 characters)")
