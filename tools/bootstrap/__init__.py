"""Fresh-machine set-up for ``make up`` / ``make down`` (stdlib only, so it runs before the virtualenv exists).

- ``pulumi``: the Pulumi CLI on PATH, else the pinned official release (the version of
  ``tools/engine/pulumi-cli/go.mod``) downloaded into the tools folder and checked against the release's
  checksums file.
- ``cluster``: for the ``local`` stack with no kube context, a kind cluster with cloud-provider-kind (its
  LoadBalancer provider), both pinned official releases checked the same way, when Docker or Podman runs.
- ``down``: removes what ``cluster`` created, and only that (it records what it made).
- ``leftovers``: snapshots the cluster before a deploy and lists what is still there after the destroy
  (the kind end-to-end workflow).
"""
