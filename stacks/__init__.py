"""Stack configuration (``config/``), the per-cloud cluster layers (``existing``, ``k3s``, ``gke``, ``eks``, each
returning its ``Cluster``) and the stack outputs (``outputs.py``).

Only ``__main__.py`` imports a cloud module, and only the one the stack selects, so planning an
EKS stack never loads ``pulumi_gcp`` and the other way round.
"""
