"""The watch page: the rendered page, nginx's header config, and the planned objects."""

import base64
import gzip
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from components.workloads.watch import bundle
from components.workloads.watch.component import HTTP_PORT, STATIC, page, server_config, site
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


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def csp(conf: str) -> dict[str, list[str]]:
    """The Content-Security-Policy header of an nginx config, as directive -> sources."""
    (value,) = [args[1] for args in directives(conf, "add_header") if args[0] == "Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in value.split(";") if d.strip()}


BUNDLE = bundle.Bundle(b"console.log('player');", "0.4.6")


def test_page_points_the_player_served_from_its_own_origin_at_the_relay():
    doc = Elements(page("https://relay.example.com/anon", "bbb.hang", BUNDLE))
    (watch,) = doc.all("moq-watch")
    assert (watch["url"], watch["name"]) == ("https://relay.example.com/anon", "bbb.hang")
    modules = [(s["src"], s["integrity"]) for s in doc.all("script") if s.get("type") == "module"]
    page_js = (STATIC / "page.js").read_bytes()
    assert modules == [("/moq-watch.js", sri(BUNDLE.content)), ("/page.js", sri(page_js))]
    # No inline script: the policy would block it.
    assert all("src" in s for s in doc.all("script"))
    assert len(doc.all("moq-watch-ui")) == 1


def test_page_escapes_what_it_is_given():
    text = page('https://relay.example.com/"><script>alert(1)</script>', "a&b", BUNDLE)
    (watch,) = Elements(text).all("moq-watch")
    assert watch["url"] == 'https://relay.example.com/"><script>alert(1)</script>' and watch["name"] == "a&b"
    assert "<script>alert(1)" not in text


def test_site_holds_the_bundle_gzipped():
    files = site("https://relay.example.com/anon", "bbb.hang", BUNDLE)
    assert set(files) == {"index.html", "page.js", "moq-watch.js.gz"}
    assert gzip.decompress(files["moq-watch.js.gz"]) == BUNDLE.content
    # Deterministic bytes: an unchanged bundle leaves the ConfigMap (and the plan) unchanged.
    assert files == site("https://relay.example.com/anon", "bbb.hang", BUNDLE)


def test_nginx_sets_the_cross_origin_isolation_headers_itself():
    conf = server_config("https://relay.example.com/anon")
    headers = {args[0]: args[1:] for args in directives(conf, "add_header")}
    # `always` also sends them on error pages, so a 404 cannot break isolation of the document.
    assert headers["Cross-Origin-Opener-Policy"] == ["same-origin", "always"]
    assert headers["Cross-Origin-Embedder-Policy"] == ["require-corp", "always"]
    assert headers["Content-Security-Policy"][1:] == ["always"]
    assert directives(conf, "listen") == [[str(HTTP_PORT)]]


def test_policy_runs_only_this_origins_scripts_and_talks_only_to_the_relay():
    policy = csp(server_config("https://relay.example.com:8443/anon"))
    assert policy["default-src"] == ["'none'"]
    # blob: is the player's own audio worklet; no host: no CDN, no libav.js polyfill from one.
    assert policy["script-src"] == ["'self'", "blob:"]
    assert policy["connect-src"] == ["'self'", "https://relay.example.com:8443", "wss://relay.example.com:8443"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]


def test_missing_bundle_says_how_to_build_it(tmp_path):
    bundle.load.cache_clear()
    with pytest.raises(bundle.PlayerMissing) as err:
        bundle.load(tmp_path / "moq-watch.js")
    assert "make player" in str(err.value) and "\n" not in str(err.value)


def test_lockfile_pins_the_player_with_integrity():
    lock = json.loads((bundle.PLAYER_DIR / "package-lock.json").read_text())
    pinned = json.loads((bundle.PLAYER_DIR / "package.json").read_text())["dependencies"]
    assert pinned == {"@moq/watch": "0.4.6"}
    assert bundle.locked_version() == "0.4.6"
    for name, entry in lock["packages"].items():
        if name:  # every installed package is checked against a sha512 when `npm ci` unpacks it
            assert entry["integrity"].startswith("sha512-"), name


@pytest.mark.parametrize("stack", STACKS)
def test_planned_page_objects(plan, stack):
    p = plan(stack)
    config = stack_config(stack)
    host = config.get("quicstack:web", {}).get("host") or config["quicstack:domain"]
    config_map = p.object("ConfigMap", "watch-page")
    files = config_map["data"]
    (watch,) = Elements(files["index.html"]).all("moq-watch")
    relay_host = config.get("quicstack:relay", {}).get("host") or f"relay.{config['quicstack:domain']}"
    assert watch["url"] == f"https://{relay_host}/anon"
    assert files["default.conf"] == server_config(watch["url"])
    # The player ships gzipped in binaryData: the bundle `make player` built, well inside the 1 MiB object limit.
    built = bundle.load().content
    assert gzip.decompress(base64.b64decode(config_map["binaryData"]["moq-watch.js.gz"])) == built
    size = sum(len(v.encode()) for v in files.values()) + sum(len(v) for v in config_map["binaryData"].values())
    assert size < 512 * 1024, size

    deployment = p.object("Deployment", "watch-page")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("nginxinc/nginx-unprivileged:") and container["imagePullPolicy"] == "IfNotPresent"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["readinessProbe"]["httpGet"]["port"] == "http" and container["livenessProbe"]["httpGet"]["port"] == "http"
    assert [x["containerPort"] for x in container["ports"]] == [HTTP_PORT]
    # Each ConfigMap key lands in its own directory: the server config is never served as a page.
    mounted = {m["mountPath"]: next(v for v in pod["volumes"] if v["name"] == m["name"]) for m in container["volumeMounts"]}
    assert sorted(i["key"] for i in mounted["/usr/share/nginx/html"]["configMap"]["items"]) == ["index.html", "moq-watch.js.gz", "page.js"]
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


def test_a_stopping_page_pod_keeps_serving_until_the_ingress_forgets_it(plan):
    deployment = plan("local").object("Deployment", "watch-page")
    pod = deployment["spec"]["template"]["spec"]
    sleep = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 3 <= sleep < pod.get("terminationGracePeriodSeconds", 30)
    # One replica: the new pod must be Ready before the old one stops (the Deployment defaults round to this).
    assert deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable", 0) == 0

