"""GCP names derived from the stack, so two stacks can share one project without colliding."""

from __future__ import annotations

import hashlib
import re

_ACCOUNT_ID_MAX = 30


def account_id(stack: str, purpose: str) -> str:
    """A service account ID ``qs-<stack>-<purpose>`` within GCP's 6-30 character limit.

    A stack name too long to fit is shortened and suffixed with a hash of the full name, so two
    long names that share a prefix still get different IDs.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-") or "stack"
    room = _ACCOUNT_ID_MAX - len(f"qs--{purpose}")
    if len(slug) > room:
        digest = hashlib.sha256(stack.encode()).hexdigest()[:4]
        slug = f"{slug[: room - 5].rstrip('-')}-{digest}"
    return f"qs-{slug}-{purpose}"
