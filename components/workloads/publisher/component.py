"""The opt-in demo publisher (``quicstack:publisher.enabled``): a test pattern on the relay, from the cluster.

One pod of two pinned upstream images, restricted pod security, no shell anywhere:
- ``moq`` (``moqdev/moq-cli``, the release of the relay's line) runs as a native sidecar (an init
  container with ``restartPolicy: Always``): ``moq import --broadcast <b> rtmp --listen 0.0.0.0:1935``
  accepts the RTMP push of the pod's other container (over loopback) and publishes it to
  ``MOQ_CONNECT`` (the relay's public URL plus prefix, ``?jwt=`` from the token Secret). moq-cli 0.14 logs
  its own dial URLs through moq-tokio's ``RedactedUrl`` (scheme, host, port and path only: ``log.rs`` at
  moq-tokio 0.19.31), but web-transport-moq prints the whole CONNECT request, query included, at ``debug``;
  ``RUST_LOG`` (which moq-tokio's filter reads before ``MOQ_LOG_LEVEL``) keeps that crate at ``info`` whatever
  the level. A test runs the real CLI at ``trace`` with that filter and finds no token, and finds it without.
  Its startup probe holds the main container back until the listener is up.
- ``ffmpeg`` (``mwader/static-ffmpeg``): ``testsrc2`` with the time drawn on it and a 1 kHz tone,
  H.264 + AAC in FLV, pushed to that listener (FLV is moq-cli's RTMP input: H.264 and AAC).

Why RTMP on loopback and not ffmpeg's stdout into ``moq import ts``: containers of a pod share no
pipes, and a FIFO would need a shell in both images to create and open it; the RTMP listener (upstream
``doc/bin/cli.md``, "RTMP ingest to a relay") needs neither.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi

from components.k8s import labels
from components.restricted_workload import CLUSTER_DNS_EGRESS, Pods, RestrictedWorkload
from components.workloads.publisher.config import PublisherConfig
from components.workloads.relay.component import Relay

RTMP_PORT = 1935
LISTEN = f"0.0.0.0:{RTMP_PORT}"
"""Not loopback: the kubelet's probes come to the pod IP. The NetworkPolicy admits nobody else."""
CA_DIR = "/etc/moq/ca"
FONT = "/usr/share/fonts/dejavu/DejaVuSansMono.ttf"
"""In the static-ffmpeg image (Alpine's font-dejavu, copied into the scratch image)."""
VIDEO = ("testsrc2=size=640x360:rate=30,"
         f"drawtext=fontfile={FONT}:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.7:x=(w-tw)/2:y=h/4:"
         r"text='%{localtime\:%T}'")


@dataclass(frozen=True)
class PublisherArgs:
    namespace: pulumi.Input[str]
    relay_url: str
    """The session root: the relay's public URL plus its public prefix (what the watch page dials)."""
    relay_host: str
    relay_ip: pulumi.Input[str]
    """The relay Service's cluster IP: the pod resolves ``relay_host`` to it, so the certificate's name
    checks out without a trip out through the load balancer (and ``*.localhost`` hosts work too)."""
    relay_pods: Pods
    """The relay's pods: the only ones the publisher may connect to (on ``relay_quic_port``)."""
    relay_quic_port: int
    """The relay pods' QUIC port (UDP): where the relay Service's UDP 443 leads."""
    broadcast: str
    cli_image: str
    ffmpeg_image: str
    cli_resources: Mapping[str, Mapping[str, str]]
    ffmpeg_resources: Mapping[str, Mapping[str, str]]
    token_secret: Optional[str] = None
    """Secret with key ``token`` (a JWT that may publish ``broadcast``), or None where publishing is anonymous."""
    ca_secret: Optional[pulumi.Input[str]] = None
    """Secret whose ``ca.crt`` signed the relay's certificate (a ``selfsigned`` stack's CA); None: public roots."""

    @classmethod
    def of(cls, config: PublisherConfig, broadcast: str, relay: Relay, relay_host: str,
           selfsigned: bool) -> "PublisherArgs":
        """The publisher's arguments from its config section and the relay it publishes to."""
        return cls(namespace=relay.namespace, relay_url=relay.public_url, relay_host=relay_host,
                   relay_ip=relay.cluster_ip, broadcast=broadcast, cli_image=config.cli_image,
                   ffmpeg_image=config.ffmpeg_image, cli_resources=config.cli_resources.as_k8s(),
                   ffmpeg_resources=config.ffmpeg_resources.as_k8s(), token_secret=config.token_secret,
                   # A selfsigned stack's relay certificate comes from the stack's own CA (ca.crt in its Secret).
                   ca_secret=relay.secret_name if selfsigned else None,
                   relay_pods=relay.pods, relay_quic_port=relay.quic_port)


def ffmpeg_args() -> list[str]:
    return ["-hide_banner", "-loglevel", "warning", "-nostdin", "-re",
            "-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
            # One keyframe a second, so a viewer joining mid-stream waits at most a second.
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "30",
            "-b:v", "800k", "-c:a", "aac", "-b:a", "64k", "-f", "flv", f"rtmp://127.0.0.1:{RTMP_PORT}/live/demo"]


# `info` for everything, and never `debug` for the crate that prints the CONNECT URL with its `?jwt=`.
LOG_FILTER = "info,web_transport_moq=info"


def moq_container(args: PublisherArgs) -> dict:
    env = [{"name": "RUST_LOG", "value": LOG_FILTER}]
    connect = args.relay_url
    if args.token_secret:
        env.append({"name": "MOQ_TOKEN", "valueFrom": {"secretKeyRef": {"name": args.token_secret, "key": "token"}}})
        connect += "?jwt=$(MOQ_TOKEN)"  # expanded by the kubelet; the token never appears in the pod spec
    env.append({"name": "MOQ_CONNECT", "value": connect})
    tls = ["--connect-tls-root", f"{CA_DIR}/ca.crt"] if args.ca_secret else []
    probe = {"tcpSocket": {"port": RTMP_PORT}}
    return {
        "name": "moq",
        "image": args.cli_image,
        "restartPolicy": "Always",  # a native sidecar: up before ffmpeg starts, restarted on its own
        "args": [*tls, "import", "--broadcast", args.broadcast, "rtmp", "--listen", LISTEN],
        "env": env,
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
        "livenessProbe": {**probe, "periodSeconds": 10},
        "resources": {k: dict(v) for k, v in args.cli_resources.items()},
        "volumeMounts": [{"name": "ca", "mountPath": CA_DIR, "readOnly": True}] if args.ca_secret else [],
    }


class DemoPublisher(pulumi.ComponentResource):
    def __init__(self, name: str, args: PublisherArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("quicstack:workloads:DemoPublisher", name, None, opts)
        workload = RestrictedWorkload(name, "demo-publisher", args.namespace, labels("moq-publisher", "publisher"),
                                      pulumi.ResourceOptions(parent=self))
        ca = {"secretName": args.ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}
        sidecar = moq_container(args)
        ffmpeg = {
            "name": "ffmpeg",
            "image": args.ffmpeg_image,
            "args": ffmpeg_args(),
            # ffmpeg has no port of its own: its probes check the ingest it pushes to (the sidecar's listener),
            # without which it cannot work; it also exits (and is restarted) as soon as its push fails.
            "readinessProbe": {"tcpSocket": {"port": RTMP_PORT}, "periodSeconds": 10},
            "livenessProbe": {"tcpSocket": {"port": RTMP_PORT}, "periodSeconds": 10, "failureThreshold": 6},
            "resources": {k: dict(v) for k, v in args.ffmpeg_resources.items()},
        }
        workload.deployment([ffmpeg], [{"name": "ca", "secret": ca}] if args.ca_secret else [],
                            hashlib.sha256(json.dumps([sidecar, ffmpeg]).encode()).hexdigest(),
                            init_containers=[sidecar],
                            host_aliases=[{"ip": args.relay_ip, "hostnames": [args.relay_host]}])
        # Nothing connects to this pod (ffmpeg pushes over loopback; the kubelet's probes come from the node): no one
        # else may push. Out: the cluster DNS, and the relay pods' QUIC port (the relay Service's cluster IP, which the
        # relay host resolves to here, leads there); nothing else.
        workload.isolate([], egress=[CLUSTER_DNS_EGRESS,
                                     args.relay_pods.rule("to", [{"protocol": "UDP", "port": args.relay_quic_port}])])
        self.register_outputs({})
