"""kubectl reads for the kind end-to-end run: every object of a kind, certificates becoming Ready, and the
loopback rules that make the local stack's ``*.localhost`` names reach cloud-provider-kind's load balancers.

The local stack's hosts are ``*.localhost`` names, which are loopback (RFC 6761; tools.verify resolves them so);
on Linux, cloud-provider-kind gives each LoadBalancer Service an address on the kind network instead. The stack
exposes each (protocol, port) once (ingress-nginx TCP 80/443, the relay UDP 443, the Envoy demo TCP and UDP 8443),
so kernel NAT can send 127.0.0.1:PORT/PROTO to the one Service that serves it: the verify rows then run against the
real load balancers, UDP (QUIC) included, with no forwarder process in the path.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
from typing import Callable


class KubectlError(Exception):
    pass


def get(kind: str) -> list[dict]:
    """Every object of ``kind`` in every namespace of the current kube context."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise KubectlError("kubectl is not on PATH")
    proc = subprocess.run([kubectl, "get", kind, "--all-namespaces", "-o", "json"], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode:
        raise KubectlError(f"kubectl get {kind}: {proc.stderr.strip()[:300]}")
    return json.loads(proc.stdout).get("items", [])


def _ready(obj: dict) -> bool:
    conditions = obj.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def wait_for_certificates(wait: float, say: Callable[[str], None]) -> bool:
    """True once every cert-manager Certificate is Ready (and there is at least one); polls up to ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        certs = get("certificates.cert-manager.io")
        pending = [f"{c['metadata']['namespace']}/{c['metadata']['name']}" for c in certs if not _ready(c)]
        if certs and not pending:
            say(f"certificates: all {len(certs)} Ready")
            return True
        if time.monotonic() > deadline:
            say(f"certificates: not Ready after {wait:.0f} s: {', '.join(pending) or 'no Certificate exists'}")
            return False
        time.sleep(5)


def load_balancer_ports() -> dict[tuple[str, int], tuple[str, str]]:
    """{(protocol, port): (address, namespace/name)} of every LoadBalancer Service that has an address."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for svc in get("services"):
        if svc["spec"].get("type") != "LoadBalancer":
            continue
        name = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        if not ingress or "ip" not in ingress[0]:
            raise KubectlError(f"Service {name} has no load balancer address yet")
        address = str(ipaddress.IPv4Address(ingress[0]["ip"]))  # only an IPv4 address reaches the rules below
        for port in svc["spec"]["ports"]:
            key = (port.get("protocol", "TCP").lower(), int(port["port"]))
            if key in found:
                raise KubectlError(f"{key[0].upper()} {key[1]} is served by both {found[key][1]} and {name}: "
                                   f"loopback can reach only one")
            found[key] = (address, name)
    return found


def loopback_rules(ports: dict[tuple[str, int], tuple[str, str]]) -> list[str]:
    """iptables commands sending 127.0.0.1:PORT/PROTO to the Service's address (shell-safe: validated numbers)."""
    rules = ["sysctl -w net.ipv4.conf.all.route_localnet=1"]  # lets 127.0.0.1-sourced packets leave loopback
    for (proto, port), (address, _) in sorted(ports.items()):
        rules.append(f"iptables -t nat -A OUTPUT -d 127.0.0.1/32 -p {proto} --dport {port} "
                     f"-j DNAT --to-destination {address}:{port}")
    for address in sorted({a for a, _ in ports.values()}):
        rules.append(f"iptables -t nat -A POSTROUTING -s 127.0.0.1/32 -d {address}/32 -j MASQUERADE")
    return rules
