"""The k3s stack as planned: firewall, address, VM and startup script, secrets, and the readiness chain."""

import datetime
import re

import pytest

from components.gcp.k3s_access import kubeconfig_epoch
from tests.conftest import stack_config

FIREWALL = "gcp:compute/firewall:Firewall"
COMMAND = "command:remote:Command"
K8S_PROVIDER = "pulumi:providers:kubernetes"
CONFIG = stack_config("k3s")


@pytest.fixture(scope="module")
def k3s(plan):
    return plan("k3s")


def rule(p, name):
    return p.one(FIREWALL, name)["inputs"]


def open_ports(allows):
    return {(a["protocol"].upper(), int(port)) for a in allows for port in a["ports"]}


def lb_ports(p):
    """(protocol, port) of every LoadBalancer Service in the manifests, plus the ingress controller's Helm Service."""
    ports = {(port.get("protocol", "TCP"), port["port"]) for svc in p.objects("Service") if svc["spec"].get("type") == "LoadBalancer"
             for port in svc["spec"]["ports"]}
    controller = next(r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "ingress-nginx")
    assert controller["inputs"]["values"]["controller"]["service"]["type"] == "LoadBalancer"
    # The chart's controller Service serves http (80) and https (443) over TCP.
    return ports | {("TCP", 80), ("TCP", 443)}


def test_public_firewall_opens_exactly_the_load_balancer_ports(k3s):
    public = rule(k3s, "k3s-firewall-public")
    assert public["sourceRanges"] == ["0.0.0.0/0"] and public["direction"] == "INGRESS"
    assert open_ports(public["allows"]) == lb_ports(k3s)
    assert {("TCP", 80), ("TCP", 443), ("UDP", 443)} <= open_ports(public["allows"])
    assert not open_ports(public["allows"]) & {("TCP", 22), ("TCP", 6443)}


def test_admin_ports_only_from_admin_cidrs(k3s):
    admin = rule(k3s, "k3s-firewall-admin")
    assert admin["sourceRanges"] == CONFIG["quicstack:k3s"]["adminCidrs"]
    assert open_ports(admin["allows"]) == {("TCP", 22), ("TCP", 6443)}
    vm = k3s.one("gcp:compute/instance:Instance")["inputs"]
    for r in (admin, rule(k3s, "k3s-firewall-public")):
        assert set(r["targetTags"]) <= set(vm["tags"])


def test_a_port_a_workload_adds_is_opened(plan_config):
    config = {**stack_config("k3s"), "quicstack:envoyDemo": {"publicPort": 9443}}
    run, p = plan_config(config)
    assert run.returncode == 0, run.stderr
    assert {("TCP", 9443), ("UDP", 9443)} <= open_ports(rule(p, "k3s-firewall-public")["allows"])
    assert ("TCP", 8443) not in open_ports(rule(p, "k3s-firewall-public")["allows"])


def test_vm_on_the_static_address_with_its_own_key_only(k3s):
    vm = k3s.one("gcp:compute/instance:Instance")["inputs"]
    section = CONFIG["quicstack:k3s"]
    assert vm["zone"] == section["zone"] and vm["machineType"] == "e2-medium"
    assert vm["bootDisk"]["initializeParams"]["image"].startswith(("debian-cloud/debian-12", "ubuntu-os-cloud/ubuntu-"))
    (interface,) = vm["networkInterfaces"]
    (nat,) = interface["accessConfigs"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", nat["natIp"])
    meta = vm["metadata"]
    assert meta["enable-oslogin"] == "FALSE" and meta["block-project-ssh-keys"] == "TRUE"
    assert re.fullmatch(r"quicstack:ssh-ed25519 \S+( \S+)?", meta["ssh-keys"])
    account = k3s.one("gcp:serviceaccount/account:Account")["inputs"]
    assert vm["serviceAccount"]["email"].startswith(account["accountId"] + "@")
    # The VM's account holds no role anywhere in the stack.
    assert not [r["type"] for r in k3s.resources if "iam" in r["type"].lower()]


def test_startup_script_pins_k3s_tunes_udp_and_blocks_metadata(k3s):
    vm = k3s.one("gcp:compute/instance:Instance")["inputs"]
    script = vm["metadata"]["startup-script"]
    ip = vm["networkInterfaces"][0]["accessConfigs"][0]["natIp"]
    assert re.search(r"^  INSTALL_K3S_VERSION=v1\.3\d\.\d+\+k3s\d+ ", script, flags=re.M)
    assert f"--tls-san={ip}" in script and f"--node-external-ip={ip}" in script and "--disable=traefik" in script
    assert "net.core.rmem_max = 8388608" in script and "net.core.wmem_max = 8388608" in script
    assert "ip saddr 10.42.0.0/16 ip daddr 169.254.169.254" in script
    # The SSH run applies the same script.
    ready = k3s.one(COMMAND, "k3s-access-ready")["inputs"]
    assert ready["stdin"] == script and ready["create"].startswith("sudo bash -s && ")


def test_ssh_key_and_kubeconfig_are_secrets(k3s):
    assert k3s.one("tls:index/privateKey:PrivateKey", "k3s-ssh")["inputs"]["algorithm"] == "ED25519"
    for command in k3s.of_type(COMMAND):
        assert command["inputs"]["connection"] == "[secret]"
    read = k3s.one(COMMAND, "k3s-access-kubeconfig")["inputs"]
    assert read["create"] == "sudo cat /etc/rancher/k3s/k3s.yaml" and read["logging"] == "none"
    assert k3s.one(K8S_PROVIDER, "k3s")["inputs"]["kubeconfig"] == "[secret]"
    assert k3s.outputs["kubeconfig"] == "[secret]" and k3s.outputs["sshPrivateKey"] == "[secret]"


def test_kubernetes_waits_for_the_ready_api_server(k3s):
    provider = k3s.one(K8S_PROVIDER, "k3s")
    ready = k3s.one(COMMAND, "k3s-access-ready")["urn"]
    vm = k3s.one("gcp:compute/instance:Instance")["urn"]
    admin = k3s.one(FIREWALL, "k3s-firewall-admin")["urn"]
    assert ready in provider["dependencies"]
    assert {vm, admin} <= set(k3s.one(COMMAND, "k3s-access-ready")["dependencies"])
    objects = [r for r in k3s.resources if r["custom"] and r["type"].startswith("kubernetes:")]
    assert len(objects) >= 10
    for r in objects:
        assert {provider["urn"], ready, vm} <= k3s.depends_on(r["urn"]), r["name"]


def test_every_gcp_resource_uses_the_stack_provider(k3s):
    (gcp,) = k3s.of_type("pulumi:providers:gcp")
    assert (gcp["inputs"]["project"], gcp["inputs"]["region"]) == ("quicstack-demo", "europe-west1")
    for r in k3s.resources:
        if r["type"].startswith("gcp:"):
            assert r["provider"].rsplit("::", 1)[0] == gcp["urn"], r["name"]


def test_dns_records_point_at_the_static_address(k3s):
    ip = k3s.one("gcp:compute/instance:Instance")["inputs"]["networkInterfaces"][0]["accessConfigs"][0]["natIp"]
    domain = CONFIG["quicstack:domain"]
    records = {r["inputs"]["name"]: r["inputs"] for r in k3s.of_type("gcp:dns/recordSet:RecordSet")}
    assert set(records) == {f"{domain}.", f"relay.{domain}.", f"quic.{domain}."}
    for record in records.values():
        assert (record["type"], record["rrdatas"], record["managedZone"]) == ("A", [ip], CONFIG["quicstack:dns"]["zone"])


def test_existing_network_and_no_records(plan_config):
    config = {**stack_config("k3s"), "quicstack:dns": {"provider": "clouddns", "zone": "example-com", "records": False}}
    config["quicstack:k3s"] = {**config["quicstack:k3s"], "network": "default"}
    run, p = plan_config(config)
    assert run.returncode == 0, run.stderr
    assert not p.of_type("gcp:compute/network:Network") and not p.of_type("gcp:dns/recordSet:RecordSet")
    assert rule(p, "k3s-firewall-admin")["network"] == "default"
    assert "subnetwork" not in p.one("gcp:compute/instance:Instance")["inputs"]["networkInterfaces"][0]


def test_config_error_is_one_line(plan_config):
    config = {**stack_config("k3s")}
    config["quicstack:k3s"] = {**config["quicstack:k3s"], "adminCidrs": ["0.0.0.0/0"]}
    run, _ = plan_config(config)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "quicstack:k3s.adminCidrs: '0.0.0.0/0' opens SSH and the Kubernetes API to the whole internet: list your own addresses, "
        "or set k3s.allowOpenAdmin true to accept that"]


def test_the_kubeconfig_is_read_again_every_month(k3s):
    # The client certificate in it lasts a year; the VM rotates it with 100 days left (startup.py).
    triggers = k3s.one(COMMAND, "k3s-access-kubeconfig")["inputs"]["triggers"]
    assert datetime.date.today().strftime("%Y-%m") in triggers
    assert kubeconfig_epoch(datetime.date(2027, 1, 31)) != kubeconfig_epoch(datetime.date(2027, 2, 1))
