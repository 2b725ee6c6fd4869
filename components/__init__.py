"""ComponentResources, one concern each.

``shared/`` holds value types that import nothing of the project; ``cluster/`` the contract a cluster
layer hands up; ``platform/`` (ingress controller, cert-manager, issuers, certificates) and
``workloads/<name>/`` (relay, watch page, Envoy demo; each with its own config section) import only
``pulumi_kubernetes``; ``gcp/`` and ``aws/`` hold the cluster layers' cloud resources and are imported
only by the stack that uses them. Nothing here imports ``stacks`` (``tests/test_architecture.py``).
"""
