"""A dedicated Google service account holding exactly the project roles it is given (none by default).

Every workload identity quicstack creates on GCP goes through here, so each one gets its own account,
named for its purpose, and nothing more than the roles listed next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class ServiceAccount:
    account: gcp.serviceaccount.Account
    grants: list[gcp.projects.IAMMember]
    """One project-level grant per role: depend on these before anything uses the account's rights."""


def service_account(
    name: str, project: str, account_id: str, display_name: str, opts: pulumi.ResourceOptions,
    roles: Sequence[str] = (),
) -> ServiceAccount:
    """Registers account ``name`` in ``project`` and grants each of ``roles`` as ``<name>-<role id>``."""
    account = gcp.serviceaccount.Account(
        name, project=project, account_id=account_id, display_name=display_name, opts=opts,
    )
    grants = [
        gcp.projects.IAMMember(
            f"{name}-{role.split('/')[1]}", project=project, role=role, member=account.member, opts=opts
        )
        for role in roles
    ]
    return ServiceAccount(account, grants)
