"""Node settings every cluster the project creates applies (k3s VM, GKE node pool, EKS node group)."""

UDP_BUFFER_BYTES = 8388608
"""``net.core.rmem_max`` and ``net.core.wmem_max``: moq-relay asks for 8 MiB UDP socket buffers (and logs
when clamped), quic-go for 7 MiB; Linux caps both at about 208 KiB by default. Host-wide, not namespaced:
no pod can raise them."""
