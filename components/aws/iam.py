"""IAM documents shared by the AWS components."""

from __future__ import annotations

from typing import Any


def trust_policy(service: str, *actions: str) -> dict[str, Any]:
    """A role trust policy letting one AWS service principal perform ``actions`` (default sts:AssumeRole)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions or ("sts:AssumeRole",))}
        ],
    }
