"""``python -m tools.verify``: after ``pulumi up``, check every public endpoint of a stack end to end.

DNS, TLS, HTTP/2 over TCP, HTTP/3 over QUIC, QUIC-LB routing for the Envoy demo, WebTransport and the
WebSocket fallback for the relay, and the watch page's cross-origin isolation headers. Each check is
bounded by a timeout and reports one line: its figures, or what is probably wrong.
"""
