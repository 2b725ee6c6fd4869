"""Stack configuration (``config/``) and the per-cloud cluster layers (``existing``, ``k3s``, ``gke``, ``eks``).

Only ``__main__.py`` imports a cloud module, and only the one the stack selects, so planning an
EKS stack never loads ``pulumi_gcp`` and the other way round.
"""
