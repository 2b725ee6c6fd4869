"""Planning a stack imports only its own cloud's SDK."""

import json
import subprocess
import sys

import pytest

from tests.conftest import STACKS, stack_config
from tests.support.plan import ROOT

FORBIDDEN = {"existing": ("pulumi_aws", "pulumi_gcp"), "k3s": ("pulumi_aws",), "gke": ("pulumi_aws",), "eks": ("pulumi_gcp",)}


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_chosen_cloud_is_imported(stack, tmp_path):
    cloud = stack_config(stack).get("quicstack:cloud", "existing")
    code = (
        "import json, sys\n"
        "from tools.plan.__main__ import main\n"
        f"rc = main([{stack!r}, '--out', {str(tmp_path)!r}])\n"
        "print(json.dumps([rc, sorted(m for m in sys.modules if m.startswith(('pulumi_aws.', 'pulumi_gcp.')))]))\n"
    )
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    rc, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rc == 0, proc.stderr
    assert not [m for m in loaded if m.startswith(tuple(f"{p}." for p in FORBIDDEN[cloud]))]
