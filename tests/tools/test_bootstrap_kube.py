"""The kind end-to-end run's cluster reads: certificates becoming Ready, and the loopback NAT rules for the local
stack's load balancers. kubectl is a stand-in here (it answers from JSON files); the real one, and the rules applied
with iptables, run in .github/workflows/e2e-kind.yml."""

from __future__ import annotations

import json

from tests.tools.bootstrap_fakes import base_path, bootstrap, lines, script


def kubectl_answering(tmp_path, kind: str, items: list[dict]) -> None:
    data = tmp_path / "objects"
    data.mkdir(exist_ok=True)
    (data / f"{kind}.json").write_text(json.dumps({"items": items}))
    script(tmp_path / "bin" / "kubectl", f'cat "{data}/$2.json"\n')


def run(tmp_path, *args):
    (tmp_path / "home").mkdir(exist_ok=True)
    return bootstrap(*args, path=base_path(tmp_path / "bin"), tools=tmp_path / "tools", home=tmp_path / "home")


def cert(name: str, ready: str) -> dict:
    return {"metadata": {"namespace": "moq", "name": name},
            "status": {"conditions": [{"type": "Issuing", "status": "True"}, {"type": "Ready", "status": ready}]}}


def test_certificates_all_ready(tmp_path):
    kubectl_answering(tmp_path, "certificates.cert-manager.io", [cert("relay", "True"), cert("web", "True")])
    proc = run(tmp_path, "certificates", "--wait", "0")
    assert proc.returncode == 0 and lines(proc) == ["certificates: all 2 Ready"]


def test_certificates_not_ready_are_named(tmp_path):
    kubectl_answering(tmp_path, "certificates.cert-manager.io", [cert("relay", "False"), cert("web", "True")])
    proc = run(tmp_path, "certificates", "--wait", "0")
    assert proc.returncode == 1 and lines(proc) == ["certificates: not Ready after 0 s: moq/relay"]


def test_no_certificate_at_all_is_not_ready(tmp_path):
    kubectl_answering(tmp_path, "certificates.cert-manager.io", [])
    proc = run(tmp_path, "certificates", "--wait", "0")
    assert proc.returncode == 1 and "no Certificate exists" in lines(proc)[0]


def svc(ns: str, name: str, ip: str | None, *ports: tuple[str, int], kind: str = "LoadBalancer") -> dict:
    status = {"loadBalancer": {"ingress": [{"ip": ip}]}} if ip else {}
    return {"metadata": {"namespace": ns, "name": name}, "status": status,
            "spec": {"type": kind, "ports": [{"protocol": p, "port": n} for p, n in ports]}}


LOCAL_STACK = [svc("ingress-nginx", "ingress-nginx-controller", "172.18.0.5", ("TCP", 80), ("TCP", 443)),
               svc("moq", "relay", "172.18.0.6", ("UDP", 443)),
               svc("moq", "relay-web", None, ("TCP", 443), kind="ClusterIP"),
               svc("quic-example", "envoy-tcp", "172.18.0.7", ("TCP", 8443)),
               svc("quic-example", "envoy", "172.18.0.8", ("UDP", 8443))]


def test_loopback_rules_send_each_port_to_the_service_that_serves_it(tmp_path):
    kubectl_answering(tmp_path, "services", LOCAL_STACK)
    proc = run(tmp_path, "loopback")
    assert proc.returncode == 0, proc.stderr
    dnat = "iptables -t nat -A OUTPUT -d 127.0.0.1/32 -p {} --dport {} -j DNAT --to-destination {}:{}"
    assert proc.stdout.splitlines() == [
        "sysctl -w net.ipv4.conf.all.route_localnet=1",
        dnat.format("tcp", 80, "172.18.0.5", 80), dnat.format("tcp", 443, "172.18.0.5", 443),
        dnat.format("tcp", 8443, "172.18.0.7", 8443), dnat.format("udp", 443, "172.18.0.6", 443),
        dnat.format("udp", 8443, "172.18.0.8", 8443),
        *(f"iptables -t nat -A POSTROUTING -s 127.0.0.1/32 -d 172.18.0.{i}/32 -j MASQUERADE" for i in (5, 6, 7, 8))]
    assert "UDP 443 -> 172.18.0.6 (moq/relay)" in lines(proc)[0]


def test_two_services_on_one_port_are_refused(tmp_path):
    kubectl_answering(tmp_path, "services", LOCAL_STACK + [svc("other", "web", "172.18.0.9", ("TCP", 443))])
    proc = run(tmp_path, "loopback")
    assert proc.returncode == 2 and proc.stdout == ""
    assert lines(proc) == ["loopback: TCP 443 is served by both ingress-nginx/ingress-nginx-controller and other/web: "
                           "loopback can reach only one"]


def test_a_service_without_an_address_or_with_a_strange_one_is_refused(tmp_path):
    kubectl_answering(tmp_path, "services", [svc("moq", "relay", None, ("UDP", 443))])
    assert lines(run(tmp_path, "loopback")) == ["loopback: Service moq/relay has no load balancer address yet"]
    kubectl_answering(tmp_path, "services", [svc("moq", "relay", "172.18.0.6; rm -rf /", ("UDP", 443))])
    proc = run(tmp_path, "loopback")
    assert proc.returncode == 2 and proc.stdout == "" and "172.18.0.6; rm -rf /" in lines(proc)[0]
