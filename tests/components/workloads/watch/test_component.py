"""The watch page: the rendered page, nginx's header config, and the planned objects."""

import re
from html.parser import HTMLParser

import pytest

from components.workloads.watch.component import HTTP_PORT, page, server_config
from tests.conftest import STACKS, stack_config


class Elements(HTMLParser):
    """Start tags with their attributes, in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict]:
        return [a for t, a in self.found if t == tag]


def directives(conf: str, name: str) -> list[list[str]]:
    """Arguments of every ``name`` directive (quotes removed), comments ignored."""
    lines = [line.split("#", 1)[0].strip() for line in conf.splitlines()]
    return [[a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line[len(name):].rstrip(";"))] for line in lines if line.startswith(name + " ")]


def test_page_points_the_pinned_player_at_the_relay():
    doc = Elements(page("https://relay.example.com/anon", "bbb.hang", "0.4.6"))
    (watch,) = doc.all("moq-watch")
    assert (watch["url"], watch["name"]) == ("https://relay.example.com/anon", "bbb.hang")
    modules = [s["src"] for s in doc.all("script") if s.get("type") == "module"]
    assert modules == ["https://esm.sh/@moq/watch@0.4.6/element", "https://esm.sh/@moq/watch@0.4.6/ui"]
    assert len(doc.all("moq-watch-ui")) == 1


def test_page_escapes_what_it_is_given():
    text = page('https://relay.example.com/"><script>alert(1)</script>', "a&b", "0.4.6")
    (watch,) = Elements(text).all("moq-watch")
    assert watch["url"] == 'https://relay.example.com/"><script>alert(1)</script>' and watch["name"] == "a&b"
    assert "<script>alert(1)" not in text


def test_nginx_sets_the_cross_origin_isolation_headers_itself():
    headers = {args[0]: args[1:] for args in directives(server_config(), "add_header")}
    # `always` also sends them on error pages, so a 404 cannot break isolation of the document.
    assert headers["Cross-Origin-Opener-Policy"] == ["same-origin", "always"]
    assert headers["Cross-Origin-Embedder-Policy"] == ["require-corp", "always"]
    assert directives(server_config(), "listen") == [[str(HTTP_PORT)]]


@pytest.mark.parametrize("stack", STACKS)
def test_planned_page_objects(plan, stack):
    p = plan(stack)
    config = stack_config(stack)
    host = config.get("quicstack:web", {}).get("host") or config["quicstack:domain"]
    files = p.object("ConfigMap", "watch-page")["data"]
    assert files["default.conf"] == server_config()
    (watch,) = Elements(files["index.html"]).all("moq-watch")
    relay_host = config.get("quicstack:relay", {}).get("host") or f"relay.{config['quicstack:domain']}"
    assert watch["url"] == f"https://{relay_host}/anon"

    deployment = p.object("Deployment", "watch-page")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("nginxinc/nginx-unprivileged:") and container["imagePullPolicy"] == "IfNotPresent"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["readinessProbe"]["httpGet"]["port"] == "http" and container["livenessProbe"]["httpGet"]["port"] == "http"
    assert [x["containerPort"] for x in container["ports"]] == [HTTP_PORT]
    # Each ConfigMap key lands in its own directory: the server config is never served as a page.
    mounted = {m["mountPath"]: next(v for v in pod["volumes"] if v["name"] == m["name"]) for m in container["volumeMounts"]}
    assert [i["key"] for i in mounted["/usr/share/nginx/html"]["configMap"]["items"]] == ["index.html"]
    assert [i["key"] for i in mounted["/etc/nginx/conf.d"]["configMap"]["items"]] == ["default.conf"]
    assert "emptyDir" in mounted["/tmp"]

    service = p.object("Service", "watch-page")
    assert service["spec"]["type"] == "ClusterIP"
    ingress = p.object("Ingress", "watch-page")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == host and ingress["spec"]["ingressClassName"] == "nginx"
    (cert,) = [c for c in p.objects("Certificate") if c["spec"].get("dnsNames") == [host]]
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": cert["spec"]["secretName"]}]
    assert not [a for a in ingress["metadata"].get("annotations") or {} if "snippet" in a]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == service["metadata"]["name"]


def test_no_page_when_disabled(plan_config):
    run, p = plan_config({"quicstack:domain": "example.com", "quicstack:web": {"enabled": False}})
    assert run.returncode == 0, run.stderr
    assert not [o for o in p.manifests if o["metadata"]["name"] == "watch-page"]
    assert p.object("Deployment", "relay")
