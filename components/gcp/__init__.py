"""GCP resources of the k3s and GKE cluster layers; imported only by ``stacks/k3s.py``, ``stacks/gke.py``
and what they share (``stacks/gcp.py``).

Every resource here takes its ``gcp.Provider`` from the caller (``providers=[...]`` on the component):
the project's default GCP provider is disabled, so nothing lands in whatever project is current.
"""
