"""Every planned object of every stack in stacks/ passes the third-party validators."""

import kubernetes_validate
import pytest

from tests.conftest import STACKS
from tests.support import validators


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_strict_schema(plan, stack):
    for obj in plan(stack).manifests:
        try:
            kubernetes_validate.validate(obj, validators.KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError:
            assert "." in obj["apiVersion"].split("/")[0], f"no schema for built-in {obj['kind']}"


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_models_and_cert_manager_crds(plan, stack):
    p = plan(stack)
    results = validators.kubernetes_models(sorted((p.dir / "manifests").glob("*.yaml")))
    assert [r for r in results if r["result"] == "invalid"] == []
    # Built-in kinds and cert-manager kinds must all have had a schema.
    unchecked = [r["id"] for r in results if r["result"] == "no-schema"]
    assert not [u for u in unchecked if u.split("/")[0] in ("Certificate", "Issuer", "ClusterIssuer", "Deployment", "Service")]


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_nothing(plan, stack):
    report = validators.checkov(plan(stack).dir / "manifests")
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 0


def test_every_checkov_skip_has_a_reason():
    for check, reason in validators.checkov_skips().items():
        assert check.startswith("CKV") and isinstance(reason, str) and len(reason) > 20, check
