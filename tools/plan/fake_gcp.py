"""Computed outputs and invoke results that the mocks return for GCP resources (documentation-range values)."""

from __future__ import annotations

import base64
import zlib
from typing import Callable

_PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n").decode()
_KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nMOCK\n-----END EC PRIVATE KEY-----\n").decode()

# What `sudo cat /etc/rancher/k3s/k3s.yaml` prints on a k3s server (shape of k3s v1.34).
K3S_YAML = f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {_PEM}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: {_PEM}
    client-key-data: {_KEY}
"""


def _address(inputs: dict) -> dict:
    """A distinct TEST-NET-3 address per reservation (addresses differ by description)."""
    return {"address": f"203.0.113.{10 + zlib.crc32(inputs.get('description', '').encode()) % 200}"}


def _account(inputs: dict) -> dict:
    email = f"{inputs['accountId']}@{inputs.get('project', 'quicstack-demo')}.iam.gserviceaccount.com"
    return {"email": email, "name": f"projects/{inputs.get('project', 'quicstack-demo')}/serviceAccounts/{email}",
            "member": f"serviceAccount:{email}", "uniqueId": "100000000000000000001"}


def _remote_command(inputs: dict) -> dict:
    return {"stdout": K3S_YAML if "k3s.yaml" in inputs.get("create", "") else "", "stderr": ""}


# resource type token -> function(inputs) -> outputs the provider would compute
COMPUTED: dict[str, Callable[[dict], dict]] = {
    "gcp:compute/address:Address": _address,
    "gcp:compute/instance:Instance": lambda i: {
        "instanceId": "4000000000000000001",
        "selfLink": "projects/quicstack-demo/zones/mock/instances/k3s",
    },
    "gcp:serviceaccount/account:Account": _account,
    "gcp:container/cluster:Cluster": lambda i: {
        "name": "quicstack-gke",
        "endpoint": "203.0.113.250",
        "masterVersion": "1.34.1-gke.2190000",
        "masterAuth": {"clusterCaCertificate": _PEM},
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": lambda i: {"name": f"projects/{i['project']}/roles/{i['roleId']}"},
    "command:remote:Command": _remote_command,
    # Only the GCP stacks use RandomId (a fresh custom-role suffix).
    "random:index/randomId:RandomId": lambda i: {"hex": "0a1b2c3d", "b64Url": "ChssPQ", "dec": "169552957"},
}



def _managed_zone(args: dict) -> dict:
    """An existing public zone; its DNS name is its name with dots for dashes (``acme-example-com`` ->
    ``acme.example.com.``), the usual way zones are named."""
    project = args.get("project", "quicstack-demo")
    return {"name": args["name"], "project": project, "dnsName": args["name"].replace("-", ".") + ".",
            "id": f"projects/{project}/managedZones/{args['name']}", "managedZoneId": "1000000000000000001",
            "visibility": "public", "nameServers": [f"ns-cloud-a{i}.googledomains.com." for i in range(1, 5)]}


# invoke token -> function(args) -> result
CALLS: dict[str, Callable[[dict], dict]] = {
    "gcp:dns/getManagedZone:getManagedZone": _managed_zone,
}
