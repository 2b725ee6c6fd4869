"""Command-line tools: ``python -m tools.plan`` (offline plan) and ``python -m tools.verify``."""
