"""A destroy that leaves nothing behind, checked on the plan's dependency graph.

The NLBs belong to the AWS Load Balancer Controller, not to Pulumi. Pulumi deletes in reverse
dependency order, so every resource that makes a LoadBalancer Service must (transitively) depend on
the controller's release, its IAM policy attachment, its Pod Identity association and the node
group: then the Services, and with them the NLBs, go while the controller can still delete them.
"""

import json
import shutil

import pytest

from tests.support.plan import Plan

SERVICE = "kubernetes:core/v1:Service"
RELEASE = "kubernetes:helm.sh/v3:Release"
SKIP_AWAIT = "pulumi.com/skipAwait"


def _makes_load_balancer(values) -> bool:
    """A Helm chart's values that ask for a LoadBalancer Service somewhere (e.g. controller.service.type)."""
    if isinstance(values, dict):
        return values.get("type") == "LoadBalancer" or any(_makes_load_balancer(v) for v in values.values())
    if isinstance(values, list):
        return any(_makes_load_balancer(v) for v in values)
    return False


def load_balancer_makers(p: Plan) -> tuple[list[dict], list[dict]]:
    services = [r for r in p.of_type(SERVICE) if (r["inputs"].get("spec") or {}).get("type") == "LoadBalancer"]
    charts = [r for r in p.of_type(RELEASE) if _makes_load_balancer(r["inputs"].get("values"))]
    return services, charts


def must_outlive(p: Plan) -> dict[str, str]:
    """The controller and everything it needs to delete an NLB: release, IAM attachment, Pod Identity, nodes."""
    controller = next(r for r in p.of_type(RELEASE) if r["inputs"]["name"] == "aws-load-balancer-controller")
    association = next(a for a in p.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                       if (a["inputs"]["namespace"], a["inputs"]["serviceAccount"]) == ("kube-system", "aws-load-balancer-controller"))
    role = next(r["urn"] for r in p.of_type("aws:iam/role:Role") if r["urn"] in association["dependencies"])
    attachment = next(a for a in p.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if role in a["dependencies"])
    return {"controller release": controller["urn"], "policy attachment": attachment["urn"],
            "Pod Identity association": association["urn"], "node group": p.one("aws:eks/nodeGroup:NodeGroup")["urn"]}


def teardown_problems(p: Plan) -> list[str]:
    problems = []
    needed = must_outlive(p)
    services, charts = load_balancer_makers(p)
    for maker in services + charts:
        closure = p.depends_on(maker["urn"])
        problems += [f"{maker['name']} does not depend on the {what}" for what, urn in needed.items() if urn not in closure]
        if maker["options"]["retainOnDelete"]:
            problems.append(f"{maker['name']} has retainOnDelete")
    for service in services:
        annotations = service["inputs"].get("metadata", {}).get("annotations") or {}
        if annotations.get(SKIP_AWAIT) == "true":
            problems.append(f"{service['name']} has {SKIP_AWAIT}")
        if not service["options"]["customTimeouts"]["delete"]:
            problems.append(f"{service['name']} has no delete timeout")
    for chart in charts:
        if chart["inputs"].get("skipAwait"):
            problems.append(f"{chart['name']} has skipAwait (its uninstall would not wait for the Service)")
    return problems


@pytest.fixture(scope="module")
def p(plan):
    return plan("eks")


def test_the_stack_makes_load_balancers(p):
    services, charts = load_balancer_makers(p)
    assert services, "no LoadBalancer Service in the eks plan"
    assert {s["inputs"]["spec"].get("loadBalancerClass") for s in services} == {"service.k8s.aws/nlb"}
    assert [c["inputs"]["name"] for c in charts] == ["ingress-nginx"]


def test_every_load_balancer_is_deleted_while_the_controller_can_delete_it(p):
    assert teardown_problems(p) == []


def test_the_controller_outlives_nothing_it_needs(p):
    """The controller itself goes before its IAM, its Pod Identity and the nodes it runs on."""
    needed = must_outlive(p)
    closure = p.depends_on(needed.pop("controller release"))
    assert set(needed.values()) <= closure


def test_namespaces_outlive_their_load_balancer_services(p):
    """A namespace deleted first would leave the Service's finalizer hanging in Terminating."""
    namespaces = {n["inputs"]["metadata"]["name"]: n["urn"] for n in p.of_type("kubernetes:core/v1:Namespace")}
    services, _ = load_balancer_makers(p)
    for service in services:
        namespace = service["inputs"]["metadata"]["namespace"]
        if namespace in namespaces:
            assert namespaces[namespace] in p.depends_on(service["urn"]), service["name"]


def test_the_check_catches_a_missing_edge(p, tmp_path):
    """Drop the node-group edge from one LoadBalancer Service (and what leads to it): the check reports it."""
    broken = tmp_path / "plan"
    shutil.copytree(p.dir, broken)
    resources = json.loads((broken / "resources.json").read_text())
    needed = must_outlive(p)
    service = next(r for r in resources if r["type"] == SERVICE and (r["inputs"].get("spec") or {}).get("type") == "LoadBalancer")
    service["dependencies"] = [d for d in service["dependencies"] if d not in needed.values()]
    service["options"]["customTimeouts"]["delete"] = ""
    # Its namespace waits for the controller too (server-ID webhook): drop that edge as well.
    namespace = next(r for r in resources if r["type"] == "kubernetes:core/v1:Namespace"
                     and r["inputs"]["metadata"]["name"] == service["inputs"]["metadata"]["namespace"])
    namespace["dependencies"] = [d for d in namespace["dependencies"] if d not in needed.values()]
    (broken / "resources.json").write_text(json.dumps(resources))
    problems = teardown_problems(Plan(broken))
    assert f"{service['name']} has no delete timeout" in problems
    # Its namespace and provider still lead to the nodes (the provider waits for them), but not to the controller.
    assert f"{service['name']} does not depend on the controller release" in problems
