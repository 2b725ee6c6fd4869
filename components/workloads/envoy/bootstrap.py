"""The Envoy demo's configuration as plain data: typed inputs in, Envoy's bootstrap and SDS documents out.

Two listeners share one container port: TCP (TLS, ALPN h2 and http/1.1) and UDP (QUIC, HTTP/3).
Both answer every request with a fixed body. The QUIC listener's connection IDs come from the
QUIC-LB generator, which writes this pod's server ID in plaintext right after the first octet so a
load balancer (the AWS NLB) can route every packet of a connection to the pod that owns it.

Field names need Envoy >= 1.36 (older releases call ``unencrypted_mode``
``unsafe_unencrypted_testing_mode`` and lack ``server_id_base64_encoded``). No Pulumi here: the tests
feed the output to the real Envoy binary.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Union

QUIC_LB_SECRET = "quic_lb"
"""Name of the SDS secret that carries the QUIC-LB key and configuration version."""
TLS_SECRET = "tls"
"""Name of the SDS secret that carries the serving certificate."""
ALT_SVC_MAX_AGE = 86400
"""Seconds a browser remembers that HTTP/3 is available (one day, as most sites advertise)."""
DIRECT_RESPONSE_LIMIT = 4096
"""Envoy's default ``max_direct_response_body_size_bytes``: longer bodies are a config error."""
MAX_CONNECTION_ID_PAYLOAD = 18
"""Server ID plus nonce bytes Envoy's QUIC-LB generator accepts (it appends one worker byte of its own)."""
MAX_WORKERS = 254
"""The QUIC-LB generator encodes the worker index in one byte and rejects 255 or more workers."""

_TYPES = "type.googleapis.com/envoy.extensions"
_HCM = f"{_TYPES}.filters.network.http_connection_manager.v3.HttpConnectionManager"


@dataclass(frozen=True)
class ServerIdFromEnv:
    """The server ID is in an environment variable (the AWS Load Balancer Controller injects it)."""

    variable: str


@dataclass(frozen=True)
class ServerIdFromFile:
    """The server ID is in a file (an init container writes it)."""

    path: str


ServerId = Union[ServerIdFromEnv, ServerIdFromFile]


@dataclass(frozen=True)
class Listener:
    """What the demo answers and where."""

    port: int
    """Container port of both listeners (TCP and UDP)."""
    public_port: int
    """Port clients reach through the load balancer; advertised in ``alt-svc``."""
    h2_body: str
    """Body of every HTTP/1.1 and HTTP/2 response."""
    h3_body: str
    """Body of every HTTP/3 response."""
    admin_port: int
    """Admin interface port, bound to 127.0.0.1 only (it can stop the server)."""
    address: str = "0.0.0.0"
    """Listen address of the TCP and UDP listeners."""


@dataclass(frozen=True)
class QuicLb:
    """The QUIC-LB connection ID layout."""

    server_id: ServerId
    """Where this pod's base64-encoded server ID comes from."""
    server_id_length: int
    """Decoded server ID bytes; any other length stops Envoy (a missing or garbled ID must not route)."""
    nonce_length: int
    """Random bytes after the server ID (4-16)."""


@dataclass(frozen=True)
class Files:
    """Where the pod mounts what the bootstrap refers to."""

    certificate: str
    """PEM certificate chain (``tls.crt`` of the certificate's Secret)."""
    private_key: str
    """PEM private key (``tls.key``)."""
    tls_sds: str
    """The SDS document from :func:`tls_document`."""
    quic_lb_key: str
    """The SDS document from :func:`quic_lb_key_document`."""


def alt_svc(public_port: int) -> str:
    """Tells clients that reached the TCP listener that HTTP/3 answers on UDP ``public_port``."""
    return f'h3=":{public_port}"; ma={ALT_SVC_MAX_AGE}'


def bootstrap(listener: Listener, quic_lb: QuicLb, files: Files) -> dict:
    """The full Envoy bootstrap."""
    return {
        "node": {"id": "quicstack-envoy-demo", "cluster": "envoy-demo"},
        "admin": {"address": _socket("127.0.0.1", listener.admin_port, "TCP")},
        "static_resources": {"listeners": [_tcp_listener(listener, files), _quic_listener(listener, quic_lb, files)]},
        # An internet-facing listener without a connection limit is an easy target; Envoy warns about it.
        "overload_manager": {
            "resource_monitors": [{
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": f"{_TYPES}.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    "max_active_downstream_connections": 50000,
                },
            }],
        },
    }


def tls_document(files: Files) -> dict:
    """The SDS file that names the certificate files.

    A certificate served over SDS is re-read when ``watched_directory`` sees a move into it, which
    is how Kubernetes updates a Secret volume (one rename of ``..data``): a certificate cert-manager
    renews is served without restarting the pod. A static secret would be read once, at start.
    """
    return _sds_document(TLS_SECRET, {
        "tls_certificate": {
            "certificate_chain": {"filename": files.certificate},
            "private_key": {"filename": files.private_key},
            "watched_directory": {"path": _directory(files.certificate)},
        },
    })


def quic_lb_key_document(key_base64: str, config_version: int) -> dict:
    """The SDS file with the QUIC-LB key (16 bytes, base64) and the configuration version (0-6).

    In unencrypted mode the key does not change the connection IDs, but Envoy still requires one.
    """
    return _sds_document(QUIC_LB_SECRET, {
        "generic_secret": {
            "secrets": {
                "encryption_key": {"inline_bytes": key_base64},
                "configuration_version": {"inline_bytes": base64.b64encode(bytes([config_version])).decode()},
            },
        },
    })


def _sds_document(name: str, secret: dict) -> dict:
    return {"resources": [{"@type": f"{_TYPES}.transport_sockets.tls.v3.Secret", "name": name, **secret}]}


def _file_sds(name: str, path: str) -> dict:
    """An SDS secret read from ``path``, re-read when something is moved into its directory (Kubernetes volume updates).
    """
    return {
        "name": name,
        "sds_config": {"path_config_source": {"path": path, "watched_directory": {"path": _directory(path)}}},
    }


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0]


def _socket(address: str, port: int, protocol: str) -> dict:
    return {"socket_address": {"protocol": protocol, "address": address, "port_value": port}}


def _tls_context(files: Files, alpn: list[str]) -> dict:
    return {
        "common_tls_context": {
            "tls_certificate_sds_secret_configs": [_file_sds(TLS_SECRET, files.tls_sds)],
            "alpn_protocols": alpn,
        }
    }


def _http(stat_prefix: str, body: str, codec: str, response_headers: dict[str, str]) -> dict:
    """An HTTP connection manager that answers every request with ``body``."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": _HCM,
            "stat_prefix": stat_prefix,
            "codec_type": codec,
            "use_remote_address": True,
            "common_http_protocol_options": {
                "idle_timeout": "300s",
                "headers_with_underscores_action": "REJECT_REQUEST",
            },
            "stream_idle_timeout": "60s",
            "request_timeout": "60s",
            "route_config": {
                "name": stat_prefix,
                "virtual_hosts": [
                    {
                        "name": "any",
                        "domains": ["*"],
                        "routes": [
                            {
                                "match": {"prefix": "/"},
                                "direct_response": {"status": 200, "body": {"inline_string": body}},
                            }
                        ],
                    }
                ],
                "response_headers_to_add": [
                    {"header": {"key": k, "value": v}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
                    for k, v in response_headers.items()
                ],
            },
            "http_filters": [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": f"{_TYPES}.filters.http.router.v3.Router"},
                }
            ],
            **({"http3_protocol_options": {}} if codec == "HTTP3" else {}),
        },
    }


def _tcp_listener(listener: Listener, files: Files) -> dict:
    return {
        "name": "h2",
        "address": _socket(listener.address, listener.port, "TCP"),
        "per_connection_buffer_limit_bytes": 32768,
        "filter_chains": [{
            "transport_socket": {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {
                    "@type": f"{_TYPES}.transport_sockets.tls.v3.DownstreamTlsContext",
                    **_tls_context(files, ["h2", "http/1.1"]),
                },
            },
            "filters": [_http("h2", listener.h2_body, "AUTO", {"alt-svc": alt_svc(listener.public_port)})],
        }],
    }


def _server_id_source(server_id: ServerId) -> dict:
    if isinstance(server_id, ServerIdFromEnv):
        return {"environment_variable": server_id.variable}
    return {"filename": server_id.path}


def _quic_listener(listener: Listener, quic_lb: QuicLb, files: Files) -> dict:
    return {
        "name": "h3",
        "address": _socket(listener.address, listener.port, "UDP"),
        "udp_listener_config": {
            "quic_options": {
                "connection_id_generator_config": {
                    "name": "envoy.quic.connection_id_generator.quic_lb",
                    "typed_config": {
                        "@type": f"{_TYPES}.quic.connection_id_generator.quic_lb.v3.Config",
                        # The NLB has no way to receive a key: it reads the server ID in plaintext.
                        "unencrypted_mode": True,
                        "server_id": _server_id_source(quic_lb.server_id),
                        "server_id_base64_encoded": True,
                        "expected_server_id_length": quic_lb.server_id_length,
                        "nonce_length_bytes": quic_lb.nonce_length,
                        "encryption_parameters": _file_sds(QUIC_LB_SECRET, files.quic_lb_key),
                    },
                },
            },
            "downstream_socket_config": {"prefer_gro": True},
        },
        "filter_chains": [{
            "transport_socket": {
                "name": "envoy.transport_sockets.quic",
                "typed_config": {
                    "@type": f"{_TYPES}.transport_sockets.quic.v3.QuicDownstreamTransport",
                    "downstream_tls_context": _tls_context(files, ["h3"]),
                },
            },
            "filters": [_http("h3", listener.h3_body, "HTTP3", {})],
        }],
    }
