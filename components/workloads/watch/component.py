"""The watch page (the seed's ``moq-web``): a static page that plays a broadcast from the relay.

Deploys into the relay's namespace:
- ConfigMap ``watch-page``: ``index.html`` (the pinned ``@moq/watch`` web component pointed at the
  relay URL) and nginx's server config (``watch/``), which sets the cross-origin isolation headers
  itself;
- Deployment ``watch-page``: unprivileged nginx, restricted pod security;
- Service ``watch-page`` (ClusterIP) and Ingress ``watch-page`` with TLS from the platform's issuer;
- NetworkPolicy ``watch-page``: only nginx's HTTP port accepts connections.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.contract import PublicEndpoint
from components.k8s import labels
from components.platform.certificates import Issuer
from components.platform.platform import Platform
from components.restricted_workload import RestrictedWorkload
from components.workloads.watch.config import WebConfig

STATIC = Path(__file__).parent
HTTP_PORT = 8080
"""nginx's port in ``watch/default.conf`` (the unprivileged image cannot bind 80)."""
HTML_DIR = "/usr/share/nginx/html"
CONF_DIR = "/etc/nginx/conf.d"
MODULE_CDN = "https://esm.sh"


def module_url(version: str) -> str:
    """Base URL of the pinned ``@moq/watch`` package (``/element``, ``/ui`` below it)."""
    return f"{MODULE_CDN}/@moq/watch@{version}"


def page(relay_url: str, broadcast: str, watch_version: str) -> str:
    """``index.html`` for one relay URL and broadcast."""
    values = {"relay_url": relay_url, "broadcast": broadcast, "module": module_url(watch_version)}
    return Template((STATIC / "index.html").read_text()).substitute({k: html.escape(v) for k, v in values.items()})


def server_config() -> str:
    return (STATIC / "default.conf").read_text()


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
    watch_version: str
    """Exact ``@moq/watch`` version."""
    image: str
    """Pinned unprivileged nginx image."""
    resources: Mapping[str, Mapping[str, str]]
    """Container requests and limits, in Kubernetes form."""
    issuer: Issuer
    ingress_class: str
    ingress_address: pulumi.Input[str] = ""
    """The ingress's public address, where the page's host resolves."""

    @classmethod
    def of(cls, config: WebConfig, host: str, namespace: pulumi.Input[str], relay_url: str,
           platform: Platform) -> "WatchPageArgs":
        """The page's arguments from its config section, the relay it plays from and the platform."""
        return cls(namespace=namespace, host=host, relay_url=relay_url, broadcast=config.broadcast,
                   watch_version=config.watch_version, image=config.image, resources=config.resources.as_k8s(),
                   issuer=platform.issuer, ingress_class=platform.ingress_class,
                   ingress_address=platform.ingress_address)


class WatchPage(pulumi.ComponentResource):
    url: str
    """``https://<host>``."""

    def __init__(self, name: str, args: WatchPageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:WatchPage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = args.namespace
        selector = labels("moq-watch", "web")
        files = {
            "index.html": page(args.relay_url, args.broadcast, args.watch_version),
            "default.conf": server_config(),
        }

        workload = RestrictedWorkload(name, "watch-page", ns, selector, child)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-files",
            metadata={"name": "watch-page", "namespace": ns, "labels": selector},
            data=files,
            opts=child,
        )
        certificate = args.issuer.certificate(f"{name}-certificate", args.host, ns, child)
        workload.deployment(
            [_container(args)],
            [
                # One file per directory: the server config must not be served as a page.
                {
                    "name": "html",
                    "configMap": {
                        "name": config_map.metadata.name,
                        "items": [{"key": "index.html", "path": "index.html"}],
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
            hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest(),
        )
        (service,) = workload.expose([{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}])
        workload.route(args.host, certificate.secret_name, service.metadata.name, args.ingress_class)
        # nginx serves files from its volumes: the pod opens no connection at all.
        workload.isolate([{"protocol": "TCP", "port": HTTP_PORT}], egress=[])

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
        "livenessProbe": {**probe, "periodSeconds": 10},
        "resources": {k: dict(v) for k, v in args.resources.items()},
        "volumeMounts": [
            {"name": "html", "mountPath": HTML_DIR, "readOnly": True},
            {"name": "conf", "mountPath": CONF_DIR, "readOnly": True},
            # The unprivileged image keeps its pid file and temp paths in /tmp; the root filesystem is read-only.
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
