"""The cluster layer's contract: what every cloud (``stacks/<cloud>.py``) hands to the platform and the workloads."""
