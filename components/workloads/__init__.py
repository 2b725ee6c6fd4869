"""The QUIC workloads: the Media-over-QUIC relay, its watch page, and the Envoy HTTP/3 QUIC-LB demo."""
