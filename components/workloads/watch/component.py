"""The watch page (the seed's ``moq-web``): a static page that plays a broadcast from the relay.

Deploys into the relay's namespace:
- ConfigMap ``watch-page``: ``index.html`` pointing the ``@moq/watch`` player at the relay URL,
  ``page.js`` (status lines), the player bundle gzipped (``binaryData``, see ``bundle.py``), and
  nginx's server config, which sets the cross-origin isolation headers and the
  Content-Security-Policy itself;
- Deployment ``watch-page``: unprivileged nginx, restricted pod security;
- Service ``watch-page`` (ClusterIP) and Ingress ``watch-page`` with TLS from the platform's issuer;
- NetworkPolicy ``watch-page``: only nginx's HTTP port accepts connections, and only from the edge's pods; the pod
  opens none.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Mapping, Optional
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import PublicEndpoint
from components.k8s import labels
from components.platform.certificates import Issuer
from components.platform.platform import EDGE_PODS, Platform
from components.restricted_workload import Pods, RestrictedWorkload
from components.workloads.watch import bundle
from components.workloads.watch.config import WebConfig

STATIC = Path(__file__).parent
HTTP_PORT = 8080
"""nginx's port in ``watch/default.conf`` (the unprivileged image cannot bind 80)."""
PRESTOP_SECONDS = 5
"""Seconds a stopping page pod keeps serving (well inside the default 30-second grace period)."""
HTML_DIR = "/usr/share/nginx/html"
CONF_DIR = "/etc/nginx/conf.d"
BUNDLE_FILE = f"{bundle.BUNDLE_NAME}.gz"
"""The ConfigMap key and file name of the gzipped player (nginx's ``gzip_static`` serves it)."""


def page(relay_url: str, broadcast: str, player: bundle.Bundle) -> str:
    """``index.html`` for one relay URL and broadcast, naming the player and page script by SRI hash."""
    values = {"relay_url": relay_url, "broadcast": broadcast, "bundle": bundle.BUNDLE_NAME,
              "player_version": player.version, "bundle_integrity": player.integrity,
              "page_integrity": bundle.integrity(page_script().encode())}
    return Template((STATIC / "index.html").read_text()).substitute({k: html.escape(v) for k, v in values.items()})


def page_script() -> str:
    return (STATIC / "page.js").read_text()


def content_security_policy(relay_url: str) -> str:
    """Scripts from this origin only; network to this origin and the relay only.

    ``blob:`` in ``script-src``: the player loads its audio worklet from a ``blob:`` URL it creates
    itself (markup cannot mint one, so an injected ``<script>`` still cannot run). No CDN: the
    libav.js polyfill the player would fetch from a CDN for codecs a browser lacks stays blocked.
    ``style-src 'unsafe-inline'``: the player's controls style their shadow DOM with a ``<style>``.
    """
    relay = urlsplit(relay_url).netloc
    return "; ".join((
        "default-src 'none'", "script-src 'self' blob:", f"connect-src 'self' https://{relay} wss://{relay}",
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'",
        "frame-ancestors 'none'",
    ))


def server_config(relay_url: str) -> str:
    conf = (STATIC / "default.conf").read_text()
    assert conf.count("@CSP@") == 1
    return conf.replace("@CSP@", content_security_policy(relay_url))


def site(relay_url: str, broadcast: str, player: bundle.Bundle) -> dict[str, bytes]:
    """The files nginx serves, by name (the ConfigMap keys mounted into its html directory)."""
    return {"index.html": page(relay_url, broadcast, player).encode(), "page.js": page_script().encode(),
            BUNDLE_FILE: player.gzipped}


@dataclass(frozen=True)
class WatchPageArgs:
    namespace: pulumi.Input[str]
    """Namespace for every object (restricted pod security)."""
    host: str
    """Public host name of the page."""
    relay_url: str
    """What the player connects to: the relay's URL plus its public prefix as the path."""
    broadcast: str
    """Broadcast name, relative to ``relay_url``."""
    image: str
    """Pinned unprivileged nginx image."""
    resources: Mapping[str, Mapping[str, str]]
    """Container requests and limits, in Kubernetes form."""
    issuer: Issuer
    ingress_class: str
    ingress_address: pulumi.Input[str] = ""
    """The ingress's public address, where the page's host resolves."""
    platform: Optional[Platform] = None
    """Routes ``https://<host>/`` (an Ingress, or an HTTPRoute on the Gateway edge)."""
    edge_pods: Pods = EDGE_PODS["ingress-nginx"]
    """The edge's pods: the only ones that reach the page."""

    @classmethod
    def of(cls, config: WebConfig, host: str, namespace: pulumi.Input[str], relay_url: str,
           platform: Platform) -> "WatchPageArgs":
        """The page's arguments from its config section, the relay it plays from and the platform."""
        return cls(namespace=namespace, host=host, relay_url=relay_url, broadcast=config.broadcast,
                   image=config.image, resources=config.resources.as_k8s(),
                   issuer=platform.issuer, ingress_class=platform.ingress_class,
                   ingress_address=platform.ingress_address, platform=platform, edge_pods=platform.edge_pods)


class WatchPage(pulumi.ComponentResource):
    url: str
    """``https://<host>``."""

    def __init__(self, name: str, args: WatchPageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:WatchPage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = args.namespace
        selector = labels("moq-watch", "web")
        player = bundle.load()
        served = site(args.relay_url, args.broadcast, player)
        files = {**{k: v.decode() for k, v in served.items() if k != BUNDLE_FILE},
                 "default.conf": server_config(args.relay_url)}

        workload = RestrictedWorkload(name, "watch-page", ns, selector, child)
        # The player ships gzipped in binaryData: the API server refuses objects over 1 MiB.
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-files",
            metadata={"name": "watch-page", "namespace": ns, "labels": selector},
            data=files,
            binary_data={BUNDLE_FILE: base64.b64encode(served[BUNDLE_FILE]).decode()},
            opts=child,
        )
        # On the Gateway edge the listener holds the host's certificate (cert-manager's gateway-shim issues it).
        gateway = bool(args.platform and args.platform.gateway)
        certificate = None if gateway else args.issuer.certificate(f"{name}-certificate", args.host, ns, child)
        workload.deployment(
            [_container(args)],
            [
                # One file per directory: the server config must not be served as a page.
                {
                    "name": "html",
                    "configMap": {
                        "name": config_map.metadata.name,
                        "items": [{"key": k, "path": k} for k in served],
                    },
                },
                {
                    "name": "conf",
                    "configMap": {
                        "name": config_map.metadata.name,
                        "items": [{"key": "default.conf", "path": "default.conf"}],
                    },
                },
                {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
            ],
            hashlib.sha256("".join(files[k] for k in sorted(files)).encode() + player.content).hexdigest(),
        )
        (service,) = workload.expose([{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}])
        if certificate:
            workload.route(args.host, certificate.secret_name, service.metadata.name, args.ingress_class)
        else:
            args.platform.route(workload, args.host, "", service.metadata.name)
        # Only the edge connects (the kubelet's probes come from the node); nginx serves files from its volumes, so
        # the pod opens no connection at all.
        workload.isolate([], egress=[], rules=[args.edge_pods.rule("from", [{"protocol": "TCP", "port": HTTP_PORT}])])

        self.url = f"https://{args.host}"
        self.endpoint = PublicEndpoint(args.host, "ingress", args.ingress_address)
        self.outputs = {"web_url": self.url}
        self.register_outputs({"url": self.url})


def _container(args: WatchPageArgs) -> dict:
    probe = {"httpGet": {"path": "/healthz", "port": "http"}}
    return {
        "name": "nginx",
        "image": args.image,
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "readinessProbe": {**probe, "periodSeconds": 5},
        # The ingress controller learns that a stopping pod left the endpoints a moment after the kubelet stops
        # it; nginx keeps serving those seconds, then stops gracefully (the image's STOPSIGNAL is SIGQUIT).
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SECONDS}}},
        "livenessProbe": {**probe, "periodSeconds": 10},
        "resources": {k: dict(v) for k, v in args.resources.items()},
        "volumeMounts": [
            {"name": "html", "mountPath": HTML_DIR, "readOnly": True},
            {"name": "conf", "mountPath": CONF_DIR, "readOnly": True},
            # The unprivileged image keeps its pid file and temp paths in /tmp; the root filesystem is read-only.
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
