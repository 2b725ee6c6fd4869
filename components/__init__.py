"""ComponentResources, one concern each.

``platform/`` (ingress controller, cert-manager, issuers, certificates) and ``workloads/`` (relay,
watch page, Envoy demo) import only ``pulumi_kubernetes``; ``gcp/`` and ``aws/`` hold the cluster
layers' cloud resources and are imported only by the stack that uses them.
"""
